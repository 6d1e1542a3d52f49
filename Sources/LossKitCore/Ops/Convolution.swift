/// 2-D convolution, NCHW: x [B, C, H, W], weight [O, C, kh, kw], optional bias [O];
/// out [B, O, Ho, Wo] with Ho = (H + 2·padding - kh)/stride + 1.
///
/// The batch is processed in chunks of images whose column matrix (im2col, [K, chunk·Ho·Wo] with
/// K = C·kh·kw) stays under `convolutionChunkFloats`: each chunk is one large `sgemm`
/// (W [O, K] · col), big enough for BLAS to run near peak. Backward recomputes each chunk's
/// columns instead of keeping them from the forward pass (no measurable cost, and the memory is
/// not held across the step), then runs two more GEMMs per chunk: dW += dY · colᵀ and
/// dCol = Wᵀ · dY, folded back to dX by `col2im`.
extension Graph {
    /// Floats of one chunk's column matrix (128 MB: the whole batch of convnet-s). Measured on
    /// convnet-s at batch 128, 4 << 20 (16 MB chunks) cut peak memory from 813 to 489 MiB but cost
    /// 10-15 % of training speed (docs/BENCHMARKS.md). Tests lower it to force many chunks.
    nonisolated(unsafe) public static var convolutionChunkFloats = 32 << 20

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
        if kh == 3, kw == 3, stride == 1, Graph.directConvolutionApplies(channels: C, outChannels: O) {
            return directConv2d(x, weight: weight, bias: bias, padding: padding)
        }
        if kh == 3, kw == 3, stride == 1, Graph.winogradApplies(channels: C, outH: H + 2 * padding - 2, outW: W + 2 * padding - 2) {
            return winogradConv2d(x, weight: weight, bias: bias, padding: padding)
        }
        let full = ConvGeometry(batch: B, channels: C, height: H, width: W, kernelH: kh, kernelW: kw, stride: stride, padding: padding)
        let K = full.patchSize, P = full.outH * full.outW
        let chunk = max(1, min(B, Graph.convolutionChunkFloats / max(K * P, 1)))
        let inPlane = C * H * W, outPlane = O * P
        func geometry(_ n: Int) -> ConvGeometry {
            ConvGeometry(batch: n, channels: C, height: H, width: W, kernelH: kh, kernelW: kw, stride: stride, padding: padding)
        }
        return timed("conv") {
            let prof = profiler  // captured by value: the closure must not retain the graph
            let out = Tensor(uninitialized: [B, O, full.outH, full.outW])
            let col = Tensor(uninitialized: [K, chunk * P])
            let ymat = Tensor(uninitialized: [O, chunk * P])
            let biasData = bias?.value.data
            for start in Swift.stride(from: 0, to: B, by: chunk) {
                let n = min(chunk, B - start), N = n * P
                im2col(x.value.data + start * inPlane, geometry(n), col.data)
                sgemm(m: O, n: N, k: K, a: weight.value.data, b: col.data, c: ymat.data)
                // [O, n·P] → [n, O, P], adding the bias on the way
                let dst0 = out.data + start * outPlane
                parallelFor(n) { lo, hi in
                    for b in lo..<hi {
                        for o in 0..<O {
                            let src = ymat.data + o * N + b * P, dst = dst0 + (b * O + o) * P
                            let add = biasData?[o] ?? 0
                            for i in 0..<P { dst[i] = src[i] + add }
                        }
                    }
                }
            }
            profiler?.addFlops(2 * Double(O) * Double(K) * Double(B * P))
            let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
            return record(out, op: "conv", inputs: inputs) { node in
                let g = node.grad!.data
                let gmat = Tensor(uninitialized: [O, chunk * P])
                let cols = Tensor(uninitialized: [K, chunk * P])
                let gcol = x.requiresGrad ? Tensor(uninitialized: [K, chunk * P]) : nil
                let gw = weight.requiresGrad ? weight.gradBuffer().data : nil
                let gx = x.requiresGrad ? x.gradBuffer().data : nil
                let gb = (bias?.requiresGrad ?? false) ? bias!.gradBuffer().data : nil
                for start in Swift.stride(from: 0, to: B, by: chunk) {
                    let n = min(chunk, B - start), N = n * P
                    let src0 = g + start * outPlane
                    parallelFor(n) { lo, hi in
                        for b in lo..<hi {
                            for o in 0..<O { (gmat.data + o * N + b * P).update(from: src0 + (b * O + o) * P, count: P) }
                        }
                    }
                    if let gb {
                        for o in 0..<O {
                            var acc: Float = 0
                            let row = gmat.data + o * N
                            for i in 0..<N { acc += row[i] }
                            gb[o] += acc
                        }
                    }
                    if let gw {
                        im2col(x.value.data + start * inPlane, geometry(n), cols.data)
                        sgemm(transB: true, m: O, n: K, k: N, a: gmat.data, b: cols.data, beta: 1, c: gw)
                    }
                    if let gx, let gcol {
                        sgemm(transA: true, m: K, n: N, k: O, a: weight.value.data, b: gmat.data, c: gcol.data)
                        col2im(gcol.data, geometry(n), gx + start * inPlane)
                    }
                }
                prof?.addFlops(2 * Double(O) * Double(K) * Double(B * P) * Double((gw != nil ? 1 : 0) + (gx != nil ? 1 : 0)))
            }
        }
    }

    /// gb[o] += Σ over images and positions of dy[b, o]: the bias gradient of an NCHW output.
    static func addBiasGradient(_ dy: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int, into gb: UnsafeMutablePointer<Float>) {
        for b in 0..<batch {
            for o in 0..<channels {
                let src = dy + (b * channels + o) * plane
                var acc: Float = 0
                for i in 0..<plane { acc += src[i] }
                gb[o] += acc
            }
        }
    }
}
