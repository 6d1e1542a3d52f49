/// Stride-1 3×3 convolution by Winograd F(m×m, 3×3), m = 2 (`Kernels/Winograd.swift`) or 4
/// (`Kernels/Winograd4.swift`): the transforms plus (m+2)² GEMMs of [O, C] · [C, tiles] per pass
/// instead of im2col plus one GEMM with 2.25× (m = 2) or 4× (m = 4) the multiplications. Forward,
/// dX and dW all run in the transformed domain; the batch is processed in chunks whose transformed
/// tiles stay under `convolutionChunkFloats`, like the im2col path.
extension Graph {
    /// Whether stride-1 3×3 convolutions may take the Winograd path (see `winogradApplies`). Tests
    /// and `losskit bench --conv-only` switch it to compare both paths.
    nonisolated(unsafe) public static var winogradConvolution = true
    /// Below this many input channels the GEMMs after the transform are too thin to pay for it
    /// (convnet-s's first layer, C = 1, is summed directly: `FewChannelConvolution.swift`).
    nonisolated(unsafe) public static var winogradMinChannels = 8
    /// Below this output side the 2×2 tiles are mostly padding. On convnet-s's 7×7 layer (16 tiles
    /// cover 8×8) Winograd still won by 1-3 % of the whole `ce` step in four alternating pairs on a
    /// quiet machine, at 1 and 2 threads; smaller maps were not measured.
    nonisolated(unsafe) public static var winogradMinOutputSide = 4

    /// Whether a 3×3 stride-1 convolution with `channels` inputs and an output of `outH`×`outW`
    /// takes the Winograd path.
    public static func winogradApplies(channels: Int, outH: Int, outW: Int) -> Bool {
        winogradConvolution && channels >= winogradMinChannels && min(outH, outW) >= winogradMinOutputSide
    }

    /// From this output side up, Winograd layers use F(4×4, 3×3) (`Kernels/Winograd4.swift`)
    /// instead of F(2×2, 3×3). Measured per layer on convnet-s (docs/BENCHMARKS.md): F(4×4) wins
    /// at 28×28 (tiles cover it exactly); at 14×14 its 4×4 tiles cover 16×16 and the 36 GEMMs get
    /// a third of F(2×2)'s columns, and it was level or slower there.
    nonisolated(unsafe) public static var winogradLargeTileMinOutputSide = 16

    /// The output tile side (2 or 4) of a Winograd layer with an output of `outH`×`outW`.
    public static func winogradTile(outH: Int, outW: Int) -> Int {
        min(outH, outW) >= winogradLargeTileMinOutputSide ? 4 : 2
    }

    func winogradConv2d(_ x: Node, weight: Node, bias: Node?, padding: Int) -> Node {
        let outH = x.shape[2] + 2 * padding - 2, outW = x.shape[3] + 2 * padding - 2
        if Graph.winogradTile(outH: outH, outW: outW) == 4 {
            return winogradConv2d(x, weight: weight, bias: bias, padding: padding, using: Winograd4.self)
        }
        return winogradConv2d(x, weight: weight, bias: bias, padding: padding, using: Winograd.self)
    }

    private func winogradConv2d<F: WinogradTransform>(_ x: Node, weight: Node, bias: Node?, padding: Int, using _: F.Type) -> Node {
        let (B, C, H, W) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let O = weight.shape[0]
        let xis = F.positions
        let whole = WinogradTiles(batch: B, channels: C, height: H, width: W, padding: padding, tile: F.outputTile)
        let (Ho, Wo, perImage) = (whole.outH, whole.outW, whole.tilesPerImage)
        let chunk = max(1, min(B, Graph.convolutionChunkFloats / max(xis * max(C, O) * perImage, 1)))
        func tiles(_ n: Int) -> WinogradTiles {
            WinogradTiles(batch: n, channels: C, height: H, width: W, padding: padding, tile: F.outputTile)
        }
        let nominalFlops = 2 * Double(O) * Double(C * 9) * Double(B * Ho * Wo)
        return timed("conv") {
            let prof = profiler  // captured by value: the closure must not retain the graph
            let out = Tensor(uninitialized: [B, O, Ho, Wo])
            let u = Tensor(uninitialized: [xis, O, C])
            F.transformFilters(weight.value.data, outChannels: O, channels: C, into: u.data)
            let v = Tensor(uninitialized: [xis * C * chunk * perImage + Winograd.slack])
            let m = Tensor(uninitialized: [xis * O * chunk * perImage + Winograd.slack])
            for start in Swift.stride(from: 0, to: B, by: chunk) {
                let geo = tiles(min(chunk, B - start)), T = geo.tiles
                F.transformInput(x.value.data + start * C * H * W, geo, into: v.data)
                for xi in 0..<xis {
                    sgemm(m: O, n: T, k: C, a: u.data + xi * O * C, b: v.data + xi * C * T, c: m.data + xi * O * T)
                }
                F.transformOutput(m.data, geo, outChannels: O, bias: bias?.value.data, into: out.data + start * O * Ho * Wo)
            }
            profiler?.addFlops(nominalFlops)
            // When the whole batch was one chunk, the backward pass reuses the transformed input for
            // dW instead of transforming x again (the transform was 15 % of a 1-thread `ce` step);
            // that holds (m+2)²·C·tiles floats until backward, within the im2col path's former peak.
            let kept = chunk == B && weight.requiresGrad ? v : nil
            let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
            return record(out, op: "conv", inputs: inputs) { node in
                let gy = node.grad!.data
                if let bias, bias.requiresGrad { Graph.addBiasGradient(gy, batch: B, channels: O, plane: Ho * Wo, into: bias.gradBuffer().data) }
                let needW = weight.requiresGrad, needX = x.requiresGrad
                guard needW || needX else { return }
                let dm = Tensor(uninitialized: [xis * O * chunk * perImage + Winograd.slack])
                let du = needW ? Tensor(zeros: [xis, O, C]) : nil
                let v = needW ? kept ?? Tensor(uninitialized: [xis * C * chunk * perImage + Winograd.slack]) : nil
                let dv = needX ? Tensor(uninitialized: [xis * C * chunk * perImage + Winograd.slack]) : nil
                let u = needX ? u : nil  // the forward's transformed filters: the weights have not moved since
                let (gx, accumulateX) = needX ? x.gradBufferForWriting() : (nil, true)
                for start in Swift.stride(from: 0, to: B, by: chunk) {
                    let geo = tiles(min(chunk, B - start)), T = geo.tiles
                    F.outputGradient(gy + start * O * Ho * Wo, geo, outChannels: O, into: dm.data)
                    if let du, let v {
                        if kept == nil { F.transformInput(x.value.data + start * C * H * W, geo, into: v.data) }
                        for xi in 0..<xis {
                            sgemm(transB: true, m: O, n: C, k: T, a: dm.data + xi * O * T, b: v.data + xi * C * T,
                                  beta: 1, c: du.data + xi * O * C)
                        }
                    }
                    if let u, let dv, let gx {
                        for xi in 0..<xis {
                            sgemm(transA: true, m: C, n: T, k: O, a: u.data + xi * O * C, b: dm.data + xi * O * T, c: dv.data + xi * C * T)
                        }
                        F.addInputGradient(dv.data, geo, into: gx + start * C * H * W, accumulate: accumulateX)
                    }
                }
                if let du { F.addFilterGradients(du.data, outChannels: O, channels: C, into: weight.gradBuffer().data) }
                prof?.addFlops(nominalFlops * Double((needW ? 1 : 0) + (needX ? 1 : 0)))
            }
        }
    }
}
