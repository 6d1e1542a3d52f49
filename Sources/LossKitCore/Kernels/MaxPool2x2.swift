/// The 2×2, stride-2 max-pool of one plane, eight outputs at a time: the common case (every
/// pool of convnet-s and its decoders) without the general kernel's per-element branches.
/// Same results as the general loop, ties and NaN included: each output starts at -∞ with its
/// switch on the window's first position, and the four candidates are compared strictly in row
/// order, so the first maximum wins and a NaN never does.
enum MaxPool2x2 {
    static func plane(_ src: UnsafePointer<Float>, height H: Int, width W: Int, into dst: UnsafeMutablePointer<Float>,
                      switches sw: UnsafeMutablePointer<Int32>) {
        let (Ho, Wo) = (H / 2, W / 2)
        let lane = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14)
        for oy in 0..<Ho {
            let r0 = src + 2 * oy * W, r1 = r0 + W
            let out = dst + oy * Wo, where_ = sw + oy * Wo
            var ox = 0
            while ox + 8 <= Wo {
                let v0 = UnsafeRawPointer(r0 + 2 * ox).loadUnaligned(as: SIMD16<Float>.self)
                let v1 = UnsafeRawPointer(r1 + 2 * ox).loadUnaligned(as: SIMD16<Float>.self)
                let first = SIMD8<Int32>(repeating: Int32(2 * oy * W + 2 * ox)) &+ lane
                var best = SIMD8<Float>(repeating: -.infinity), at = first
                @inline(__always) func consider(_ v: SIMD8<Float>, _ offset: Int32) {
                    let m = v .> best
                    best.replace(with: v, where: m)
                    at.replace(with: first &+ offset, where: m)
                }
                consider(v0.evenHalf, 0); consider(v0.oddHalf, 1); consider(v1.evenHalf, Int32(W)); consider(v1.oddHalf, Int32(W + 1))
                UnsafeMutableRawPointer(out + ox).storeBytes(of: best, as: SIMD8<Float>.self)
                UnsafeMutableRawPointer(where_ + ox).storeBytes(of: at, as: SIMD8<Int32>.self)
                ox += 8
            }
            while ox < Wo {
                var best = -Float.infinity, at = 2 * oy * W + 2 * ox
                for p in [2 * oy * W + 2 * ox, 2 * oy * W + 2 * ox + 1, (2 * oy + 1) * W + 2 * ox, (2 * oy + 1) * W + 2 * ox + 1]
                where src[p] > best {
                    best = src[p]
                    at = p
                }
                out[ox] = best
                where_[ox] = Int32(at)
                ox += 1
            }
        }
    }
}
