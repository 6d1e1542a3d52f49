/// Stride-1 3×3 convolution by Winograd F(m×m, 3×3), m = 2 (`Sources/LossKitKernels/Winograd.swift`) or 4
/// (`Sources/LossKitKernels/Winograd4.swift`): the transforms plus (m+2)² GEMMs of [O, C] · [C, tiles] per pass
/// instead of im2col plus one GEMM with 2.25× (m = 2) or 4× (m = 4) the multiplications. Forward,
/// dX and dW all run in the transformed domain, chunk by chunk of the batch (below).
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

    /// Whether the forward and input-gradient GEMMs may run on the engine's own kernel
    /// (`EngineKernels.panelGemm`, on the builds that prefer it) instead of OpenBLAS. Tests and
    /// `losskit bench` switch it to compare both.
    nonisolated(unsafe) public static var winogradPanelGemm = true

    /// Whether this process's Winograd GEMMs (forward, dX) take the panel kernel: the switch
    /// above, and a kernel build that prefers it.
    public static var winogradGemmsOnPanels: Bool { winogradPanelGemm && kernels.prefersPanelGemm }

    /// From this output side up, Winograd layers use F(4×4, 3×3) (`Sources/LossKitKernels/Winograd4.swift`)
    /// instead of F(2×2, 3×3); by default `largeTileMinOutputSide(forBLASCore:panelGemms:)` of the
    /// core OpenBLAS runs and the kernel build's GEMMs (read on first use, after
    /// `BLASCoreChoice.prepareProcess` and `KernelPath` have settled them).
    nonisolated(unsafe) public static var winogradLargeTileMinOutputSide =
        largeTileMinOutputSide(forBLASCore: BLASCore.running, panelGemms: kernels.prefersPanelGemm)

    /// F(4×4) needs 0.5625× F(2×2)'s multiplications (36 GEMMs over a quarter of the tiles against
    /// 16) but its transforms cost about twice as much per pixel, so which wins depends on how fast
    /// the GEMMs run beside the transforms (docs/BENCHMARKS.md, measured on convnet-s, AMD EPYC):
    /// with AVX2 GEMM kernels (OpenBLAS Haswell) F(4×4) wins at 28×28, where its tiles cover the
    /// map exactly, and loses from 14×14 down (its tiles cover 16×16 there); with AVX-512 kernels
    /// (SkylakeX, Cooperlake), whose GEMMs run about twice as fast, F(2×2) wins at every size —
    /// `ce` 3-5 % faster at one thread, level at two. So F(4×4) from 16×16 up below AVX-512
    /// kernels, and never with them. Where the forward and input-gradient GEMMs run on the
    /// engine's panel kernel (`panelGemms`, the AVX2 build), whose packed filters make F(4×4)'s
    /// 36 thinner GEMMs cheaper still, F(4×4) also won at 14×14 (family-25 EPYC, `ce` 4-7 % a step
    /// at one and two threads) and still lost at 7×7 (`losskit bench --conv`): from 14×14 there.
    /// Sides from 8 to 13 were not measured.
    public static func largeTileMinOutputSide(forBLASCore core: String, panelGemms: Bool = false) -> Int {
        BLASCore.tier(of: core) >= BLASCore.avx512Tier ? Int.max : panelGemms ? 14 : 16
    }

    /// The output tile side (2 or 4) of a Winograd layer with an output of `outH`×`outW`.
    public static func winogradTile(outH: Int, outW: Int) -> Int {
        min(outH, outW) >= winogradLargeTileMinOutputSide ? 4 : 2
    }

    func winogradConv2d(_ x: Node, weight: Node, bias: Node?, padding: Int) -> Node {
        let outH = x.shape[2] + 2 * padding - 2, outW = x.shape[3] + 2 * padding - 2
        if Graph.winogradTile(outH: outH, outW: outW) == 4 {
            return winogradConv2d(x, weight: weight, bias: bias, padding: padding, using: kernels.winograd4)
        }
        return winogradConv2d(x, weight: weight, bias: bias, padding: padding, using: kernels.winograd2)
    }

    /// Bound on the transformed tiles of one chunk of the batch, (m+2)²·max(C, O)·tiles floats.
    /// The transforms and GEMMs of a chunk then run in one core's cache: measured on convnet-s at
    /// one thread, `ce` went from ~500 images/s with whole-batch chunks (the transformed buffers,
    /// tens of MB, streamed through memory three times per pass) to ~725 with 64-128 Ki floats
    /// (docs/BENCHMARKS.md). Chunks are at least one image.
    nonisolated(unsafe) public static var winogradChunkFloats = 1 << 17

    /// The Winograd convolution runs chunk by chunk, each chunk of images wholly on one thread:
    /// its input transform, its (m+2)² GEMMs on one OpenBLAS thread, its output transform. The
    /// batch is cut into `Threads.sharesPerThread` shares per thread of contiguous images, taken
    /// by whichever thread is free; threads share nothing but their disjoint slices of x, y and
    /// dx. dW is summed per share and the partial sums added in share order, so the bits depend on
    /// the thread count, never on which thread ran what. Threads within each GEMM and transform
    /// were measured slower at two threads: with chunks this small, waking the threads costs more
    /// than they save.
    private func winogradConv2d<F: WinogradTransform>(_ x: Node, weight: Node, bias: Node?, padding: Int, using _: F.Type) -> Node {
        let (B, C, H, W) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let O = weight.shape[0]
        let xis = F.positions
        let whole = WinogradTiles(batch: B, channels: C, height: H, width: W, padding: padding, tile: F.outputTile)
        let (Ho, Wo, perImage) = (whole.outH, whole.outW, whole.tilesPerImage)
        let chunk = max(1, min(B, Graph.winogradChunkFloats / max(xis * max(C, O) * perImage, 1)))
        let chunks = (B + chunk - 1) / chunk
        let shares = min(chunks, Threads.count > 1 ? Threads.count * Threads.sharesPerThread : 1)
        let tileFloats = xis * (max(C, O) * chunk * perImage + WinogradTiles.maxPlanePadding) + F.slack
        /// Calls `body(share, thread, start, tiles)` for each chunk (first image, geometry) of each
        /// share's fixed, contiguous range of images, the shares on `parallelSharesThreads(shares)`
        /// threads at once, GEMMs on one OpenBLAS thread each. The images are split evenly between
        /// the shares first and each share into near-equal chunks of at most `chunk`: with whole
        /// chunks dealt out, F(4×4) at 7×7 (chunks of 7 images, 19 of them) left one worker a chunk
        /// more than the other. With one share (one chunk, or one thread) the chunks run in turn
        /// with OpenBLAS and the transforms on all threads.
        func forEachChunk(_ body: (_ share: Int, _ thread: Int, _ start: Int, _ geo: WinogradTiles) -> Void) {
            func run(_ s: Int, _ thread: Int) {
                let first = B * s / shares, count = B * (s + 1) / shares - first
                let pieces = (count + chunk - 1) / chunk
                for piece in 0..<pieces {
                    let start = first + count * piece / pieces, end = first + count * (piece + 1) / pieces
                    body(s, thread, start, WinogradTiles(batch: end - start, channels: C, height: H, width: W,
                                                         padding: padding, tile: F.outputTile))
                }
            }
            if shares > 1 {
                withSingleThreadedBLAS { parallelShares(shares, run) }
            } else {
                run(0, 0)
            }
        }
        // The forward and input-gradient GEMMs on the panel kernel, where the build prefers it,
        // except with one share on several threads, where OpenBLAS threads each GEMM and the
        // panel kernel would not. Decided here, once: the backward takes the forward's kernel.
        let panelKernels = kernels
        let onPanels = Graph.winogradGemmsOnPanels && (shares > 1 || Threads.count == 1)
        /// The filters' transforms packed for `panelGemm` as the left operands of each position's
        /// GEMM, [ξ][rows / 4][columns][4] (U[ξ] forward, U[ξ]ᵀ for dX), or nil where the GEMMs go
        /// to OpenBLAS.
        func panels(_ u: UnsafePointer<Float>, rows: Int, columns: Int, transposed: Bool) -> Tensor? {
            guard onPanels, rows % GemmPanels.rows == 0 else { return nil }
            let packed = Tensor(uninitialized: [xis, rows, columns])
            for xi in 0..<xis {
                GemmPanels.pack(u + xi * rows * columns, m: rows, k: columns, transposed: transposed,
                                into: packed.data + xi * rows * columns)
            }
            return packed
        }
        /// c = a · b for every position ξ: [m, k] · [k, n], b's and c's planes `bStride` and
        /// `cStride` apart, on the panel kernel where `packed` holds a's panels and n is wide
        /// enough, else OpenBLAS (a then [m, k] per position, or [k, m] with `transA`).
        func positionGemms(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, transA: Bool, packed: Tensor?,
                           b: UnsafePointer<Float>, bStride: Int, c: UnsafeMutablePointer<Float>, cStride: Int) {
            if let packed, GemmPanels.fits(m: m, n: n) {
                for xi in 0..<xis {
                    panelKernels.panelGemm(packed.data + xi * m * k, m: m, n: n, k: k, b: b + xi * bStride, c: c + xi * cStride)
                }
            } else {
                for xi in 0..<xis {
                    sgemm(transA: transA, m: m, n: n, k: k, a: a + xi * m * k, b: b + xi * bStride, c: c + xi * cStride)
                }
            }
        }
        let nominalFlops = 2 * Double(O) * Double(C * 9) * Double(B * Ho * Wo)
        return timed("conv") {
            let prof = profiler  // captured by value: the closure must not retain the graph
            let out = Tensor(uninitialized: [B, O, Ho, Wo])
            // batch-norm's statistics, taken while each chunk's output is in cache (Node.planeMoments)
            let moments = training ? Tensor(uninitialized: [B, O, 2]) : nil
            let u = Tensor(uninitialized: [xis, O, C])
            F.transformFilters(weight.value.data, outChannels: O, channels: C, into: u.data)
            let forwardPanels = panels(u.data, rows: O, columns: C, transposed: false)
            do {
                // per thread: the chunk's transformed input V [xis, C, T] and output M [xis, O, T], their
                // planes `geo.planeStride` apart
                let threads = parallelSharesThreads(shares)
                let scratch = Tensor(uninitialized: [threads, 2, tileFloats])
                let (xs, ys, us) = (x.value.data, out.data, u.data)
                let biasData = bias?.value.data, momentData = moments?.data
                forEachChunk { _, thread, start, geo in
                    let v = scratch.data + (2 * thread) * tileFloats, m = v + tileFloats, T = geo.tiles
                    let (vStride, mStride) = (geo.planeStride(rows: C), geo.planeStride(rows: O))
                    F.transformInput(xs + start * C * H * W, geo, into: v)
                    positionGemms(m: O, n: T, k: C, a: us, transA: false, packed: forwardPanels,
                                  b: v, bStride: vStride, c: m, cStride: mStride)
                    F.transformOutput(m, geo, outChannels: O, bias: biasData, into: ys + start * O * Ho * Wo)
                    if let momentData {
                        kernels.planeMoments(ys + start * O * Ho * Wo, planes: geo.batch * O, plane: Ho * Wo,
                                                into: momentData + start * O * 2)
                    }
                }
            }
            profiler?.addFlops(nominalFlops)
            let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
            let result = record(out, op: "conv", inputs: inputs) { node in
                let gy = node.grad!.data
                if let bias, bias.requiresGrad { Graph.addBiasGradient(gy, batch: B, channels: O, plane: Ho * Wo, into: bias.gradBuffer().data) }
                let needW = weight.requiresGrad, needX = x.requiresGrad
                guard needW || needX else { return }
                // per thread: dM, then V (recomputed: cheaper than keeping the batch's V, which
                // would leave the cache) or dV; per share: its dU sums, the first chunk's GEMMs
                // writing them (no zeroing pass), the later ones adding. The threads are counted
                // again here: the thread count may have changed since the forward pass, and the
                // share count (which fixes the bits) may not.
                let threads = parallelSharesThreads(shares)
                let scratch = Tensor(uninitialized: [threads, 3, tileFloats])
                let du = needW ? Tensor(uninitialized: [shares, xis, O, C]) : nil
                let (gx, accumulateX) = needX ? x.gradBufferForWriting() : (nil, true)
                let inputPanels = needX ? panels(u.data, rows: C, columns: O, transposed: true) : nil
                let (xs, us, dus) = (x.value.data, u.data, du?.data)
                forEachChunk { share, thread, start, geo in
                    let dm = scratch.data + (3 * thread) * tileFloats, v = dm + tileFloats, dv = v + tileFloats, T = geo.tiles
                    let (vStride, mStride) = (geo.planeStride(rows: C), geo.planeStride(rows: O))
                    F.outputGradient(gy + start * O * Ho * Wo, geo, outChannels: O, into: dm)
                    if let dus {
                        F.transformInput(xs + start * C * H * W, geo, into: v)
                        let sums = dus + share * xis * O * C, beta: Float = start == B * share / shares ? 0 : 1
                        for xi in 0..<xis {
                            sgemm(transB: true, m: O, n: C, k: T, a: dm + xi * mStride, b: v + xi * vStride, beta: beta, c: sums + xi * O * C)
                        }
                    }
                    if let gx {
                        positionGemms(m: C, n: T, k: O, a: us, transA: true, packed: inputPanels,
                                      b: dm, bStride: mStride, c: dv, cStride: vStride)
                        F.addInputGradient(dv, geo, into: gx + start * C * H * W, accumulate: accumulateX)
                    }
                }
                if let du {
                    // the shares' sums added in share order, each element on one thread
                    let total = du.data, count = xis * O * C
                    if shares > 1 {
                        parallelFor(count, minChunk: 4096) { lo, hi in
                            for s in 1..<shares {
                                let sums = du.data + s * count
                                for i in lo..<hi { total[i] += sums[i] }
                            }
                        }
                    }
                    F.addFilterGradients(total, outChannels: O, channels: C, into: weight.gradBuffer().data)
                }
                prof?.addFlops(nominalFlops * Double((needW ? 1 : 0) + (needX ? 1 : 0)))
            }
            result.planeMoments = moments
            return result
        }
    }
}
