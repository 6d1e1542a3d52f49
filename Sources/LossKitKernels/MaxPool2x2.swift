import LossKitKernelSupport

/// The 2×2, stride-2 max-pool of one plane, eight outputs at a time, a row's tail too: the common
/// case (every pool of convnet-s and its decoders) without the general kernel's per-element branches.
/// Same results as the general loop, ties and NaN included: each output starts at -∞ with its
/// switch on the window's first position, and the four candidates are compared strictly in row
/// order, so the first maximum wins and a NaN never does.
enum MaxPool2x2 {
    static func plane(_ src: UnsafePointer<Float>, height H: Int, width W: Int, into dst: UnsafeMutablePointer<Float>,
                      switches sw: UnsafeMutablePointer<Int32>) {
        let (Ho, Wo) = (H / 2, W / 2)
        let lane = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 32) { buffer in
            let tail = buffer.baseAddress!
            for oy in 0..<Ho {
                let r0 = src + 2 * oy * W, r1 = r0 + W
                let out = dst + oy * Wo, where_ = sw + oy * Wo
                /// Outputs ox..<ox+count from the window rows v0 and v1 (16 columns each).
                @inline(__always) func pool(_ v0: SIMD16<Float>, _ v1: SIMD16<Float>, at ox: Int, count: Int) {
                    let first = SIMD8<Int32>(repeating: Int32(2 * oy * W + 2 * ox)) &+ lane
                    var best = SIMD8<Float>(repeating: -.infinity), at = first
                    @inline(__always) func consider(_ v: SIMD8<Float>, _ offset: Int32) {
                        let m = v .> best
                        best.replace(with: v, where: m)
                        at.replace(with: first &+ offset, where: m)
                    }
                    consider(v0.evenHalf, 0); consider(v0.oddHalf, 1); consider(v1.evenHalf, Int32(W)); consider(v1.oddHalf, Int32(W + 1))
                    if count == 8 {
                        UnsafeMutableRawPointer(out + ox).storeBytes(of: best, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(where_ + ox).storeBytes(of: at, as: SIMD8<Int32>.self)
                    } else {
                        // through memory: a vector's lanes read one by one took longer than the pooling
                        UnsafeMutableRawPointer(tail).storeBytes(of: best, as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(tail + 8).storeBytes(of: at, as: SIMD8<Int32>.self)
                        (out + ox).update(from: tail, count: count)
                        UnsafeMutableRawPointer(where_ + ox).copyMemory(from: tail + 8, byteCount: 4 * count)
                    }
                }
                var ox = 0
                while ox + 8 <= Wo {
                    pool(UnsafeRawPointer(r0 + 2 * ox).loadUnaligned(as: SIMD16<Float>.self),
                         UnsafeRawPointer(r1 + 2 * ox).loadUnaligned(as: SIMD16<Float>.self), at: ox, count: 8)
                    ox += 8
                }
                // The row's tail (all of a 7-wide output row) on the same vectors: their lanes past
                // the tail read on into the plane's next rows and are never stored. Where they would
                // read past the plane, the tail is copied into `tail` first (-∞ after it, so no lane
                // computes on uninitialised memory). Compared one by one instead, the candidates'
                // data-dependent branches were mispredicted about every other output (4.5× slower
                // pooling in the AVX2 build, where LLVM kept the branches).
                if ox < Wo {
                    if 2 * oy * W + W + 2 * ox + 16 <= H * W {
                        pool(UnsafeRawPointer(r0 + 2 * ox).loadUnaligned(as: SIMD16<Float>.self),
                             UnsafeRawPointer(r1 + 2 * ox).loadUnaligned(as: SIMD16<Float>.self), at: ox, count: Wo - ox)
                    } else {
                        for k in 0..<16 { tail[k] = -.infinity; tail[16 + k] = -.infinity }
                        for k in 0..<(2 * (Wo - ox)) { tail[k] = r0[2 * ox + k]; tail[16 + k] = r1[2 * ox + k] }
                        pool(UnsafeRawPointer(tail).loadUnaligned(as: SIMD16<Float>.self),
                             UnsafeRawPointer(tail + 16).loadUnaligned(as: SIMD16<Float>.self), at: ox, count: Wo - ox)
                    }
                }
            }
        }
    }
}
