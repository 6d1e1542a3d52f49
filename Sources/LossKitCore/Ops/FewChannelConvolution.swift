/// Stride-1 3×3 convolution with very few input or output channels by direct summation
/// (`Sources/LossKitKernels/DirectConvolution.swift`), where im2col + GEMM would be a depth-9 GEMM or every GEMM
/// a single row. It is tried before Winograd, which it also beats on one-row GEMMs.
extension Graph {
    /// Up to this many input channels, 3×3 stride-1 convolutions are summed directly.
    /// convnet-s's first layer (C = 1) is the case measured (docs/BENCHMARKS.md).
    nonisolated(unsafe) public static var directConvolutionMaxChannels = 1
    /// Up to this many output channels too: a decoder's last layer back to the image (32 → 1 in
    /// SWWAE on convnet-s), where Winograd's and im2col's GEMMs have a single row.
    nonisolated(unsafe) public static var directConvolutionMaxOutChannels = 1

    /// Whether a 3×3 stride-1 convolution with `channels` inputs and `outChannels` outputs takes
    /// the direct path.
    public static func directConvolutionApplies(channels: Int, outChannels: Int) -> Bool {
        channels <= directConvolutionMaxChannels || outChannels <= directConvolutionMaxOutChannels
    }

    func directConv2d(_ x: Node, weight: Node, bias: Node?, padding: Int) -> Node {
        let (B, C, H, W) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let O = weight.shape[0]
        let planes = DirectConvolutionPlanes(channels: C, height: H, width: W, padding: padding,
                                             outH: H + 2 * padding - 2, outW: W + 2 * padding - 2)
        let (Ho, Wo) = (planes.outH, planes.outW)
        let flops = 2 * Double(O) * Double(C * 9) * Double(B * Ho * Wo)
        return timed("conv") {
            let prof = profiler  // captured by value: the closure must not retain the graph
            let out = Tensor(uninitialized: [B, O, Ho, Wo])
            let moments = training ? Tensor(uninitialized: [B, O, 2]) : nil  // for batch-norm: Node.planeMoments
            kernels.directConvolution(x.value.data, planes, batch: B, weight: weight.value.data, outChannels: O,
                                      bias: bias?.value.data, into: out.data, moments: moments?.data)
            profiler?.addFlops(flops)
            let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
            let result = record(out, op: "conv", inputs: inputs) { node in
                let gy = node.grad!.data
                if let bias, bias.requiresGrad { Graph.addBiasGradient(gy, batch: B, channels: O, plane: Ho * Wo, into: bias.gradBuffer().data) }
                if weight.requiresGrad {
                    kernels.directConvolutionFilterGradients(x.value.data, planes, batch: B, outputGradient: gy, outChannels: O,
                                                             into: weight.gradBuffer().data)
                }
                if x.requiresGrad {
                    let (gx, accumulate) = x.gradBufferForWriting()
                    kernels.directConvolutionInputGradient(gy, planes, batch: B, weight: weight.value.data, outChannels: O,
                                                           into: gx, accumulate: accumulate)
                }
                prof?.addFlops(flops * Double((weight.requiresGrad ? 1 : 0) + (x.requiresGrad ? 1 : 0)))
            }
            result.planeMoments = moments
            return result
        }
    }
}
