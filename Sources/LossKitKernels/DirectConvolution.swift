import LossKitKernelSupport

/// Direct stride-1 3×3 convolution for layers with very few input or output channels
/// (convnet-s's first layer, C = 1; SWWAE's last decoder layer, O = 1). For C = 1 im2col + GEMM
/// multiplies [O, 9] by [9, B·H·W]: a GEMM of depth 9 that BLAS runs far below peak, and a weight
/// gradient of depth B·H·W and width 9 that it runs worse still (5-12 GFLOP/s measured,
/// docs/BENCHMARKS.md); for O = 1 every GEMM, Winograd's too, has a single row. Here each image is padded once into a small
/// plane that stays in L1 and the nine taps are summed on 4-wide vectors along each row.
enum DirectConvolution {
    typealias Lane = SIMD4<Float>

    typealias Planes = DirectConvolutionPlanes

    /// Copies one image's planes into `dst` ([channels, outH + 2, paddedWidth]), zeros outside.
    @inline(__always) private static func pad(_ src: UnsafePointer<Float>, _ g: Planes, into dst: UnsafeMutablePointer<Float>) {
        let (H, W, p, pw) = (g.height, g.width, g.padding, g.paddedWidth)
        dst.update(repeating: 0, count: g.channels * g.paddedPlane + 4)
        for c in 0..<g.channels {
            for r in 0..<(g.outH + 2) {
                let iy = r - p
                guard iy >= 0, iy < H else { continue }
                // padded column q holds input column q - p
                let q0 = max(0, p), q1 = min(pw, W + p)
                guard q1 > q0 else { continue }
                (dst + c * g.paddedPlane + r * pw + q0).update(from: src + (c * H + iy) * W + q0 - p, count: q1 - q0)
            }
        }
    }

    @inline(__always) private static func load(_ p: UnsafePointer<Float>) -> Lane {
        UnsafeRawPointer(p).loadUnaligned(as: Lane.self)
    }

    /// y[b, o] (+)= bias[o] + Σ_c Σ_ky,kx w[o, c, ky, kx] · x_padded[b, c, y + ky, x + kx] for `batch`
    /// images; `accumulate` adds to y instead of overwriting it. Images split across threads.
    /// With `moments`, each finished plane's Σ and Σ² go there too (`Vectorized.planeMoments`).
    static func forward(_ x: UnsafePointer<Float>, _ g: Planes, batch: Int, weight w: UnsafePointer<Float>, outChannels O: Int,
                        bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>, accumulate: Bool = false,
                        moments: UnsafeMutablePointer<Float>? = nil) {
        let (C, Ho, Wo, pw, pp) = (g.channels, g.outH, g.outW, g.paddedWidth, g.paddedPlane)
        let inPlane = g.height * g.width, outPlane = Ho * Wo
        parallelFor(batch) { lo, hi in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: C * pp + 4) { buffer in
                let padded = buffer.baseAddress!
                for b in lo..<hi {
                    pad(x + b * C * inPlane, g, into: padded)
                    for o in 0..<O {
                        // the plane starts at the bias (or at what it holds), then each channel's taps are
                        // added; the first channel's sums are stored with the bias added (the same sums,
                        // with no pass to fill the plane first) unless the plane is accumulated into
                        let dst = y + (b * O + o) * outPlane, start = bias?[o] ?? 0
                        if accumulate, start != 0 {
                            for i in 0..<outPlane { dst[i] += start }
                        } else if !accumulate, C == 0 {
                            dst.update(repeating: start, count: outPlane)  // no channel's store: the bias alone
                        }
                        let startLane = Lane(repeating: start)
                        for c in 0..<C {
                            let first = c == 0 && !accumulate
                            let k = w + (o * C + c) * 9
                            let (k0, k1, k2) = (Lane(repeating: k[0]), Lane(repeating: k[1]), Lane(repeating: k[2]))
                            let (k3, k4, k5) = (Lane(repeating: k[3]), Lane(repeating: k[4]), Lane(repeating: k[5]))
                            let (k6, k7, k8) = (Lane(repeating: k[6]), Lane(repeating: k[7]), Lane(repeating: k[8]))
                            for oy in 0..<Ho {
                                let out = dst + oy * Wo
                                let r0 = padded + c * pp + oy * pw, r1 = r0 + pw, r2 = r1 + pw
                                for i in Swift.stride(from: 0, to: Wo, by: 4) {
                                    var acc = k0 * load(r0 + i) + k1 * load(r0 + i + 1) + k2 * load(r0 + i + 2)
                                    acc += k3 * load(r1 + i) + k4 * load(r1 + i + 1) + k5 * load(r1 + i + 2)
                                    acc += k6 * load(r2 + i) + k7 * load(r2 + i + 1) + k8 * load(r2 + i + 2)
                                    if i + 4 <= Wo {
                                        UnsafeMutableRawPointer(out + i).storeBytes(of: acc + (first ? startLane : load(out + i)), as: Lane.self)
                                    } else if first {
                                        for j in 0..<(Wo - i) { out[i + j] = acc[j] + start }
                                    } else {
                                        for j in 0..<(Wo - i) { out[i + j] += acc[j] }
                                    }
                                }
                            }
                        }
                        if let moments { Vectorized.planeMoments(dst, planes: 1, plane: outPlane, into: moments + 2 * (b * O + o)) }
                    }
                }
            }
        }
    }

    /// dw[o, c, ky, kx] += Σ_b Σ_y,x dy[b, o, y, x] · x_padded[b, c, y + ky, x + kx]. The images
    /// are split into one fixed range per worker, each summed into its own slice of `partial`, and
    /// the slices added into `dw` in worker order: the same thread count gives bit-identical sums
    /// whichever thread finishes first.
    static func addFilterGradients(_ x: UnsafePointer<Float>, _ g: Planes, batch: Int, outputGradient dy: UnsafePointer<Float>,
                                   outChannels O: Int, into dw: UnsafeMutablePointer<Float>) {
        let (C, Ho, Wo, pw, pp) = (g.channels, g.outH, g.outW, g.paddedWidth, g.paddedPlane)
        let inPlane = g.height * g.width, outPlane = Ho * Wo, taps = O * C * 9
        let workers = max(1, min(Threads.count, batch))
        // per-worker sums of a few hundred taps: on the stack, not a heap array every backward pass
        withUnsafeTemporaryAllocation(of: Float.self, capacity: workers * taps) { partialSums in
            let partial = partialSums.baseAddress!
            partial.initialize(repeating: 0, count: workers * taps)
            parallelFor(workers) { wlo, whi in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: C * pp + 4) { buffer in
                    let padded = buffer.baseAddress!
                    for w in wlo..<whi {
                        let sums = partial + w * taps
                        for b in (batch * w / workers)..<(batch * (w + 1) / workers) {
                            pad(x + b * C * inPlane, g, into: padded)
                            for o in 0..<O {
                                for c in 0..<C {
                                    var a = (Lane(), Lane(), Lane(), Lane(), Lane(), Lane(), Lane(), Lane(), Lane())
                                    for oy in 0..<Ho {
                                        let row = dy + (b * O + o) * outPlane + oy * Wo
                                        let r0 = padded + c * pp + oy * pw, r1 = r0 + pw, r2 = r1 + pw
                                        for i in Swift.stride(from: 0, to: Wo, by: 4) {
                                            var d = Lane()
                                            if i + 4 <= Wo {
                                                d = load(row + i)
                                            } else {
                                                for j in 0..<(Wo - i) { d[j] = row[i + j] }  // the row's tail; other lanes 0
                                            }
                                            a.0 += d * load(r0 + i); a.1 += d * load(r0 + i + 1); a.2 += d * load(r0 + i + 2)
                                            a.3 += d * load(r1 + i); a.4 += d * load(r1 + i + 1); a.5 += d * load(r1 + i + 2)
                                            a.6 += d * load(r2 + i); a.7 += d * load(r2 + i + 1); a.8 += d * load(r2 + i + 2)
                                        }
                                    }
                                    let s = sums + (o * C + c) * 9
                                    s[0] += a.0.sum(); s[1] += a.1.sum(); s[2] += a.2.sum()
                                    s[3] += a.3.sum(); s[4] += a.4.sum(); s[5] += a.5.sum()
                                    s[6] += a.6.sum(); s[7] += a.7.sum(); s[8] += a.8.sum()
                                }
                            }
                        }
                    }
                }
            }
            for w in 0..<workers {
                let sums = partial + w * taps
                for i in 0..<taps { dw[i] += sums[i] }
            }
        }
    }

    /// dx[b, c] += (or, not `accumulate`, =) Σ_o Σ_ky,kx w[o, c, ky, kx] · dy[b, o, y + p - ky, x + p - kx]:
    /// the forward convolution of dy, read at padding 2 - p, with the kernel flipped and its
    /// channels swapped.
    static func addInputGradient(_ dy: UnsafePointer<Float>, _ g: Planes, batch: Int, weight w: UnsafePointer<Float>,
                                 outChannels O: Int, into dx: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let C = g.channels
        withUnsafeTemporaryAllocation(of: Float.self, capacity: C * O * 9) { flipped in
            for o in 0..<O {
                for c in 0..<C {
                    for t in 0..<9 { flipped[(c * O + o) * 9 + t] = w[(o * C + c) * 9 + 8 - t] }
                }
            }
            let back = Planes(channels: O, height: g.outH, width: g.outW, padding: 2 - g.padding, outH: g.height, outW: g.width)
            forward(dy, back, batch: batch, weight: flipped.baseAddress!, outChannels: C, bias: nil, into: dx, accumulate: accumulate)
        }
    }
}
