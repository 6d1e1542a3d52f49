/// 2-D convolution, NCHW: x [B, C, H, W], weight [O, C, kh, kw], optional bias [O];
/// out [B, O, Ho, Wo] with Ho = (H + 2·padding - kh)/stride + 1.
///
/// Forward is im2col + one `sgemm` (W [O, K] · col [K, B·Ho·Wo]); backward is two more:
/// dW = dY · colᵀ and dCol = Wᵀ · dY, folded back to dX by `col2im`.
extension Graph {
    public func conv2d(_ x: Node, weight: Node, bias: Node? = nil, stride: Int = 1, padding: Int = 0) throws -> Node {
        guard x.shape.count == 4, weight.shape.count == 4 else {
            throw ShapeError("conv2d needs x [B, C, H, W] and weight [O, C, kh, kw]; got \(shapeText(x.shape)) and \(shapeText(weight.shape))")
        }
        let (B, C, H, W) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (O, Cw, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        guard C == Cw else {
            throw ShapeError("conv2d: input has \(C) channels but weight \(shapeText(weight.shape)) expects \(Cw)")
        }
        if let bias, bias.shape != [O] {
            throw ShapeError("conv2d: bias must be [\(O)]; got \(shapeText(bias.shape))")
        }
        guard stride >= 1, padding >= 0, H + 2 * padding >= kh, W + 2 * padding >= kw else {
            throw ShapeError("conv2d: kernel \(kh)×\(kw) with padding \(padding) does not fit input \(shapeText(x.shape))")
        }
        let geo = ConvGeometry(batch: B, channels: C, height: H, width: W, kernelH: kh, kernelW: kw, stride: stride, padding: padding)
        let K = geo.patchSize, N = geo.columns, P = geo.outH * geo.outW
        return timed("conv") {
            let prof = profiler  // captured by value: the closure must not retain the graph
            let col = Tensor(uninitialized: [K, N])
            im2col(x.value.data, geo, col.data)
            let ymat = Tensor(uninitialized: [O, N])
            sgemm(m: O, n: N, k: K, a: weight.value.data, b: col.data, c: ymat.data)
            profiler?.addFlops(2 * Double(O) * Double(K) * Double(N))
            let out = Tensor(uninitialized: [B, O, geo.outH, geo.outW])
            let biasData = bias?.value.data
            // [O, B·P] → [B, O, P], adding the bias on the way
            parallelFor(B) { lo, hi in
                for b in lo..<hi {
                    for o in 0..<O {
                        let src = ymat.data + o * N + b * P, dst = out.data + (b * O + o) * P
                        let add = biasData?[o] ?? 0
                        for i in 0..<P { dst[i] = src[i] + add }
                    }
                }
            }
            let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
            return record(out, op: "conv", inputs: inputs) { node in
                let g = node.grad!.data
                let gmat = Tensor(uninitialized: [O, N])
                parallelFor(B) { lo, hi in
                    for b in lo..<hi {
                        for o in 0..<O {
                            (gmat.data + o * N + b * P).update(from: g + (b * O + o) * P, count: P)
                        }
                    }
                }
                if let bias, bias.requiresGrad {
                    let gb = bias.gradBuffer().data
                    for o in 0..<O {
                        var acc: Float = 0
                        let row = gmat.data + o * N
                        for i in 0..<N { acc += row[i] }
                        gb[o] += acc
                    }
                }
                if weight.requiresGrad {
                    sgemm(transB: true, m: O, n: K, k: N, a: gmat.data, b: col.data, beta: 1, c: weight.gradBuffer().data)
                    prof?.addFlops(2 * Double(O) * Double(K) * Double(N))
                }
                if x.requiresGrad {
                    let gcol = Tensor(uninitialized: [K, N])
                    sgemm(transA: true, m: K, n: N, k: O, a: weight.value.data, b: gmat.data, c: gcol.data)
                    prof?.addFlops(2 * Double(O) * Double(K) * Double(N))
                    col2im(gcol.data, geo, x.gradBuffer().data)
                }
            }
        }
    }
}
