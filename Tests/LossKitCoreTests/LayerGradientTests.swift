import LossKitCore
import XCTest

final class LayerGradientTests: XCTestCase {
    func testMatmulAllTransposeCombinations() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = Fixtures.random(ta ? [4, 3] : [3, 4], seed: 10), b = Fixtures.random(tb ? [5, 4] : [4, 5], seed: 11)
            assertGradients([("a", a), ("b", b)]) { g, x in try g.matmul(x[0], x[1], transposeA: ta, transposeB: tb) }
        }
    }

    func testBatchedMatmul() {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = Fixtures.random(ta ? [2, 4, 3] : [2, 3, 4], seed: 12), b = Fixtures.random(tb ? [2, 5, 4] : [2, 4, 5], seed: 13)
            assertGradients([("a", a), ("b", b)]) { g, x in try g.batchedMatmul(x[0], x[1], transposeA: ta, transposeB: tb) }
        }
    }

    func testLinearWithBias() {
        let x = Fixtures.random([3, 4], seed: 14), w = Fixtures.random([2, 4], seed: 15), b = Fixtures.random([2], seed: 16)
        assertGradients([("x", x), ("w", w), ("b", b)]) { g, v in try g.linear(v[0], weight: v[1], bias: v[2]) }
    }

    func testConv2dStridesAndPadding() {
        for (stride, pad) in [(1, 1), (2, 1), (1, 0), (2, 0)] {
            let x = Fixtures.random([2, 3, 5, 5], seed: 17), w = Fixtures.random([4, 3, 3, 3], seed: 18), b = Fixtures.random([4], seed: 19)
            assertGradients([("x", x), ("w", w), ("b", b)]) { g, v in
                try g.conv2d(v[0], weight: v[1], bias: v[2], stride: stride, padding: pad)
            }
        }
    }

    /// Kernels other than 3×3 take im2col + GEMM: 5×5 and 1×1 at several paddings, a 3×2 kernel,
    /// on a non-square input.
    func testConv2dOtherKernelShapes() {
        let cases: [(kh: Int, kw: Int, pad: Int)] = [(5, 5, 0), (5, 5, 2), (1, 1, 0), (3, 2, 1)]
        for (n, c) in cases.enumerated() {
            let x = Fixtures.random([2, 3, 6, 7], seed: UInt64(70 + n)), w = Fixtures.random([2, 3, c.kh, c.kw], seed: UInt64(80 + n))
            assertGradients([("x", x), ("w", w)]) { g, v in try g.conv2d(v[0], weight: v[1], padding: c.pad) }
        }
    }

    /// Winograd F(2×2, 3×3) and F(4×4, 3×3): gradient-checked at paddings 0-3 on odd and even,
    /// non-square inputs (partial edge tiles; rows wide enough for the vector splits and several
    /// lanes of tiles; unpadded rows of exactly four tiles, whose last column the input gradient
    /// carries past the last lane onto the image), and equal to the im2col path in value and gradients with the batch as one
    /// chunk (at one and two threads), as one-image chunks spread over one, two and three workers, and
    /// as chunks of at most two images split unevenly between two workers.
    func testConv2dWinogradPath() throws {
        for tile in [2, 4] { try checkWinogradPath(tile: tile) }
    }

    private func checkWinogradPath(tile: Int) throws {
        let saved = (Graph.winogradConvolution, Graph.winogradMinChannels, Graph.winogradMinOutputSide, Graph.winogradChunkFloats,
                     Graph.winogradLargeTileMinOutputSide, Threads.count)
        defer {
            (Graph.winogradConvolution, Graph.winogradMinChannels, Graph.winogradMinOutputSide, Graph.winogradChunkFloats,
             Graph.winogradLargeTileMinOutputSide) = (saved.0, saved.1, saved.2, saved.3, saved.4)
            Threads.set(saved.5)
        }
        Graph.winogradConvolution = true
        Graph.winogradMinChannels = 1
        Graph.winogradMinOutputSide = 1
        Graph.winogradLargeTileMinOutputSide = tile == 4 ? 1 : Int.max
        XCTAssertEqual(Graph.winogradTile(outH: 5, outW: 9), tile)
        let shapes = [(5, 7, 1), (6, 6, 0), (4, 5, 2), (3, 3, 3), (3, 19, 1), (3, 16, 0), (2, 17, 2), (6, 37, 1), (9, 35, 3), (3, 10, 0), (3, 18, 0), (13, 4, 1), (12, 3, 0)]
        for (n, (h, w, pad)) in shapes.enumerated() {
            let x = Fixtures.random([2, 3, h, w], seed: UInt64(90 + n)), k = Fixtures.random([4, 3, 3, 3], seed: UInt64(95 + n))
            let b = Fixtures.random([4], seed: 99)
            assertGradients([("x", x), ("w", k), ("b", b)]) { g, v in try g.conv2d(v[0], weight: v[1], bias: v[2], padding: pad) }
        }
        let x = Fixtures.random([3, 9, 11, 41], seed: 100), k = Fixtures.random([5, 9, 3, 3], seed: 101), b = Fixtures.random([5], seed: 102)
        func run(winograd: Bool, chunkFloats: Int, magnitudes: Bool = false) throws -> [[Float]] {
            Graph.winogradConvolution = winograd
            Graph.winogradChunkFloats = chunkFloats
            let g = Graph(training: true, random: RandomGenerator(seed: 0))
            let (xv, wv, bv) = magnitudes ? (g.variable(x.absolute), g.variable(k.absolute), g.variable(b.absolute))
                                          : (g.variable(x), g.variable(k), g.variable(b))
            let y = try g.conv2d(xv, weight: wv, bias: bv, padding: 1)
            try g.backward(from: Fixtures.project(g, y, magnitudes: magnitudes))
            return [y.value.array, xv.grad!.array, wv.grad!.array, bv.grad!.array]
        }
        Threads.set(1)
        let reference = try run(winograd: false, chunkFloats: saved.3)
        // Each element of y, dx, dw and db is a sum of products; its rounding error is bounded by a
        // multiple of ε·Σ|product| (Higham, ch. 3), whatever the order or fusing of the sums (which
        // differ between BLAS kernels and CPUs). The same sums taken over |x|, |w|, |b| and |dy| give
        // Σ|product| for every element at once. Winograd adds the transforms' error: entries up to
        // 1 for F(2×2) and up to 8 (A of F(4×4), points ±2, ±1/2) for F(4×4), applied on both sides
        // of the tile, so its growth factor is larger. A wrong path misses whole products, an error
        // of the order of Σ|product| itself, thousands of times the bound.
        let magnitudes = try run(winograd: false, chunkFloats: saved.3, magnitudes: true)
        let growth: Float = tile == 2 ? 64 : 1024
        let imageFloats = (tile + 2) * (tile + 2) * 9 * ((11 + tile - 1) / tile) * ((41 + tile - 1) / tile)
        for (chunkFloats, threads) in [(Int.max, 1), (Int.max, 2), (1, 1), (1, 2), (1, 3), (2 * imageFloats, 1), (2 * imageFloats, 2)] {
            Threads.set(threads)
            let winograd = try run(winograd: true, chunkFloats: chunkFloats)
            for (name, ((a, c), m)) in zip(["y", "dx", "dw", "db"], zip(zip(reference, winograd), magnitudes)) {
                XCTAssertEqual(a.count, c.count)
                var worst: Float = 0
                for ((u, v), size) in zip(zip(a, c), m) {
                    let bound = growth * Float.ulpOfOne * size
                    worst = max(worst, abs(u - v) / bound)
                }
                XCTAssertLessThan(worst, 1, "F(\(tile)×\(tile)): \(name), chunk bound \(chunkFloats), \(threads) threads: worst error at \(worst) of its bound")
                if ProcessInfo.processInfo.environment["LOSSKIT_SHOW_ROUNDING"] != nil {
                    print("F(\(tile)×\(tile)) \(name) chunk \(chunkFloats) threads \(threads): worst \(worst) of bound")
                }
            }
        }
    }

    /// Direct summation for few input (or output) channels: gradient-checked at paddings 0-3 (3:
    /// the input gradient reads dy cropped) on odd, even and non-square inputs with 1-3 channels,
    /// equal to the im2col path in value and gradients on rows that are not whole vectors, and
    /// gradient-checked with nine inputs and one output.
    func testConv2dDirectPathForFewChannels() throws {
        let saved = (Graph.directConvolutionMaxChannels, Graph.directConvolutionMaxOutChannels, Graph.winogradConvolution)
        defer { (Graph.directConvolutionMaxChannels, Graph.directConvolutionMaxOutChannels, Graph.winogradConvolution) = saved }
        Graph.directConvolutionMaxChannels = 3
        Graph.winogradConvolution = false
        let shapes = [(1, 5, 7, 1), (1, 6, 6, 0), (1, 5, 8, 0), (2, 4, 5, 2), (1, 3, 3, 3), (3, 3, 11, 1), (1, 2, 13, 2)]
        for (n, (c, h, w, pad)) in shapes.enumerated() {
            let x = Fixtures.random([2, c, h, w], seed: UInt64(110 + n)), k = Fixtures.random([5, c, 3, 3], seed: UInt64(120 + n))
            let b = Fixtures.random([5], seed: 129)
            assertGradients([("x", x), ("w", k), ("b", b)]) { g, v in try g.conv2d(v[0], weight: v[1], bias: v[2], padding: pad) }
        }
        let x = Fixtures.random([3, 1, 13, 30], seed: 130), k = Fixtures.random([6, 1, 3, 3], seed: 131), b = Fixtures.random([6], seed: 132)
        func run(direct: Bool) throws -> [[Float]] {
            Graph.directConvolutionMaxChannels = direct ? 1 : 0
            let g = Graph(training: true, random: RandomGenerator(seed: 0))
            let (xv, wv, bv) = (g.variable(x), g.variable(k), g.variable(b))
            let y = try g.conv2d(xv, weight: wv, bias: bv, padding: 1)
            try g.backward(from: Fixtures.project(g, y))
            return [y.value.array, xv.grad!.array, wv.grad!.array, bv.grad!.array]
        }
        let reference = try run(direct: false)
        for (name, (a, c)) in zip(["y", "dx", "dw", "db"], zip(reference, try run(direct: true))) {
            XCTAssertEqual(a.count, c.count)
            for (u, v) in zip(a, c) { XCTAssertEqual(u, v, accuracy: 1e-4 * max(1, abs(u)), name) }
        }
        // no input channels: every output is its bias (the first channel's store, which adds the
        // bias, never happens)
        Graph.directConvolutionMaxChannels = 3
        for _ in 0..<2 {  // twice: the second output may reuse the first's pooled buffer
            let g = Graph(training: false, random: RandomGenerator(seed: 0))
            let y = try g.conv2d(g.constant(Tensor(zeros: [2, 0, 5, 6])), weight: g.constant(Tensor(zeros: [3, 0, 3, 3])),
                                 bias: g.constant(Tensor(shape: [3], values: [0.5, -1, 2])), padding: 1)
            XCTAssertEqual(y.shape, [2, 3, 5, 6])
            XCTAssertEqual(y.value.array, (0..<2).flatMap { _ in [Float(0.5), -1, 2].flatMap { [Float](repeating: $0, count: 30) } })
        }
        // many inputs, one output (a decoder's last layer): direct through directConvolutionMaxOutChannels
        Graph.directConvolutionMaxChannels = 0
        for (n, pad) in [0, 1, 2].enumerated() {
            let x = Fixtures.random([2, 9, 6, 11], seed: UInt64(140 + n)), k = Fixtures.random([1, 9, 3, 3], seed: UInt64(145 + n))
            let b = Fixtures.random([1], seed: 149)
            assertGradients([("x", x), ("w", k), ("b", b)]) { g, v in try g.conv2d(v[0], weight: v[1], bias: v[2], padding: pad) }
        }
    }

    func testWinogradIsChosenForWideEnoughMapsWithEnoughChannels() {
        XCTAssertTrue(Graph.winogradApplies(channels: 32, outH: 28, outW: 28))
        XCTAssertTrue(Graph.winogradApplies(channels: 64, outH: 14, outW: 14))
        XCTAssertTrue(Graph.winogradApplies(channels: 64, outH: 7, outW: 7))
        XCTAssertFalse(Graph.winogradApplies(channels: 64, outH: 3, outW: 3), "3×3: tiles mostly padding")
        XCTAssertFalse(Graph.winogradApplies(channels: 1, outH: 28, outW: 28), "one input channel: GEMMs too thin")
        XCTAssertTrue(Graph.directConvolutionApplies(channels: 1, outChannels: 32), "one input channel: summed directly")
        XCTAssertFalse(Graph.directConvolutionApplies(channels: 3, outChannels: 32))
        XCTAssertTrue(Graph.directConvolutionApplies(channels: 32, outChannels: 1), "one output channel: summed directly")
        XCTAssertFalse(Graph.directConvolutionApplies(channels: 32, outChannels: 4))
        let savedLarge = Graph.winogradLargeTileMinOutputSide
        defer { Graph.winogradLargeTileMinOutputSide = savedLarge }
        Graph.winogradLargeTileMinOutputSide = Graph.largeTileMinOutputSide(forBLASCore: "Haswell")
        XCTAssertEqual(Graph.winogradTile(outH: 28, outW: 28), 4, "AVX2 GEMMs: F(4×4) where its tiles cover the map")
        XCTAssertEqual(Graph.winogradTile(outH: 14, outW: 14), 2, "14×14: 4×4 tiles would cover 16×16")
        XCTAssertEqual(Graph.winogradTile(outH: 7, outW: 7), 2)
        for core in ["SkylakeX", "cooperlake", "SapphireRapids"] {
            Graph.winogradLargeTileMinOutputSide = Graph.largeTileMinOutputSide(forBLASCore: core)
            XCTAssertEqual(Graph.winogradTile(outH: 28, outW: 28), 2, "\(core): AVX-512 GEMMs, F(2×2) at every size")
            XCTAssertEqual(Graph.winogradTile(outH: 224, outW: 224), 2, core)
        }
        for core in ["Prescott", "Sandybridge", "Zen", "unknown"] {
            XCTAssertEqual(Graph.largeTileMinOutputSide(forBLASCore: core), 16, core)
            XCTAssertEqual(Graph.largeTileMinOutputSide(forBLASCore: core, panelGemms: true), 14, "\(core), GEMMs on the panel kernel")
        }
        XCTAssertEqual(Graph.largeTileMinOutputSide(forBLASCore: "SkylakeX", panelGemms: true), Int.max)
        Graph.winogradLargeTileMinOutputSide = Graph.largeTileMinOutputSide(forBLASCore: "Zen", panelGemms: true)
        XCTAssertEqual(Graph.winogradTile(outH: 14, outW: 14), 4, "panel GEMMs: F(4×4) from 14×14")
        XCTAssertEqual(Graph.winogradTile(outH: 13, outW: 20), 2)
        XCTAssertEqual(Graph.winogradTile(outH: 7, outW: 7), 2)
    }

    func testConv2dInChunksOfOneImageGivesTheSameValuesAndGradients() throws {
        let x = Fixtures.random([3, 2, 5, 5], seed: 60), w = Fixtures.random([4, 2, 3, 3], seed: 61), b = Fixtures.random([4], seed: 62)
        func run() throws -> [[Float]] {
            let g = Graph(training: true, random: RandomGenerator(seed: 0))
            let (xv, wv, bv) = (g.variable(x), g.variable(w), g.variable(b))
            let y = try g.conv2d(xv, weight: wv, bias: bv, padding: 1)
            try g.backward(from: Fixtures.project(g, y))
            return [y.value.array, xv.grad!.array, wv.grad!.array, bv.grad!.array]
        }
        let whole = try run()
        let saved = Graph.convolutionChunkFloats
        Graph.convolutionChunkFloats = 1  // one image per chunk
        defer { Graph.convolutionChunkFloats = saved }
        let chunked = try run()
        for (a, c) in zip(whole, chunked) {
            for (u, v) in zip(a, c) { XCTAssertEqual(u, v, accuracy: 1e-5) }
        }
        assertGradients([("x", x), ("w", w), ("b", b)]) { g, v in try g.conv2d(v[0], weight: v[1], bias: v[2], stride: 2, padding: 1) }
    }

    func testConv2dMatchesDirectSum() throws {
        let x = Fixtures.random([2, 2, 4, 4], seed: 20), w = Fixtures.random([3, 2, 3, 3], seed: 21)
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        let y = try g.conv2d(g.constant(x), weight: g.constant(w), stride: 1, padding: 1)
        for b in 0..<2 { for o in 0..<3 { for oy in 0..<4 { for ox in 0..<4 {
            var s: Float = 0
            for c in 0..<2 { for i in 0..<3 { for j in 0..<3 {
                let iy = oy + i - 1, ix = ox + j - 1
                if iy >= 0, iy < 4, ix >= 0, ix < 4 { s += x[((b * 2 + c) * 4 + iy) * 4 + ix] * w[((o * 2 + c) * 3 + i) * 3 + j] }
            } } }
            XCTAssertEqual(y.value[((b * 3 + o) * 4 + oy) * 4 + ox], s, accuracy: 1e-5)
        } } } }
    }

    func testConv2dChannelMismatchIsReported() {
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        XCTAssertThrowsError(try g.conv2d(g.constant(Tensor(zeros: [1, 3, 8, 8])), weight: g.constant(Tensor(zeros: [4, 2, 3, 3])))) {
            XCTAssertEqual("\($0)", "conv2d: input has 3 channels but weight [4×2×3×3] expects 2")
        }
    }

    func testBatchNormTrainingAndEval() throws {
        let x = Fixtures.random([4, 3, 2, 2], seed: 22), gamma = Fixtures.random([3], seed: 23, low: 0.5, high: 1.5), beta = Fixtures.random([3], seed: 24)
        let stats = BatchNormStatistics(channels: 3)
        assertGradients([("x", x), ("gamma", gamma), ("beta", beta)]) { g, v in
            try g.batchNorm(v[0], gamma: v[1], beta: v[2], running: stats)
        }
        let x2 = Fixtures.random([5, 3], seed: 25)
        assertGradients([("x", x2), ("gamma", gamma), ("beta", beta)]) { g, v in
            try g.batchNorm(v[0], gamma: v[1], beta: v[2], running: nil)
        }
        // evaluation mode: running statistics, a fixed affine map
        let moved = BatchNormStatistics(mean: Fixtures.random([3], seed: 28), variance: Fixtures.random([3], seed: 29, low: 0.5, high: 2))
        assertGradients([("x", x), ("gamma", gamma), ("beta", beta)], check: GradientCheck(training: false)) { g, v in
            try g.batchNorm(v[0], gamma: v[1], beta: v[2], running: moved)
        }
    }

    /// 15 values per channel plane: the 8-wide SIMD body and the scalar tail both run.
    func testBatchNormGradientsAcrossTheVectorisedPath() {
        let x = Fixtures.random([3, 2, 3, 5], seed: 31), gamma = Fixtures.random([2], seed: 32, low: 0.5, high: 1.5)
        let beta = Fixtures.random([2], seed: 33)
        assertGradients([("x", x), ("gamma", gamma), ("beta", beta)]) { g, v in
            try g.batchNorm(v[0], gamma: v[1], beta: v[2], running: nil)
        }
    }

    /// Batch-norm with its ReLU fused: gradient-checked in training (batch statistics, planes wider
    /// than one 8-wide block) and evaluation, and equal to batchNorm then relu in values and in
    /// every gradient (the check alone would pass a fused op that ignored the mask at kinks).
    func testBatchNormReLUIsBatchNormThenReLU() throws {
        let x = Fixtures.random([3, 2, 3, 5], seed: 34), gamma = Fixtures.random([2], seed: 35, low: 0.5, high: 1.5)
        let beta = Fixtures.random([2], seed: 36)
        let moved = BatchNormStatistics(mean: Fixtures.random([2], seed: 37), variance: Fixtures.random([2], seed: 38, low: 0.5, high: 2))
        for training in [true, false] {
            // a perturbation moves the batch statistics and with them every output, so some cross
            // the ReLU's kink: accepted there by the one-sided criterion, as for relu itself
            var check = GradientCheck(training: training, allowKinks: true)
            check.retrySteps = [2e-3, 5e-2]
            assertGradients([("x", x), ("gamma", gamma), ("beta", beta)], check: check) { g, v in
                try g.batchNormReLU(v[0], gamma: v[1], beta: v[2], running: training ? nil : moved)
            }
            func run(fused: Bool) throws -> [[Float]] {
                let g = Graph(training: training, random: RandomGenerator(seed: 0))
                let (xv, gv, bv) = (g.variable(x), g.variable(gamma), g.variable(beta))
                let stats = training ? nil : moved
                let y = fused ? try g.batchNormReLU(xv, gamma: gv, beta: bv, running: stats)
                              : g.relu(try g.batchNorm(xv, gamma: gv, beta: bv, running: stats))
                try g.backward(from: Fixtures.project(g, y))
                return [y.value.array, xv.grad!.array, gv.grad!.array, bv.grad!.array]
            }
            let (fused, separate) = (try run(fused: true), try run(fused: false))
            XCTAssertTrue(fused[0].contains(0) && fused[0].contains { $0 > 0 }, "the ReLU clips some values and keeps others")
            for (name, (a, b)) in zip(["y", "dx", "dγ", "dβ"], zip(fused, separate)) {
                for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-5 * max(1, abs(v)), "\(name), training \(training)") }
            }
        }
    }

    /// The fused op refuses what batch-norm refuses, with batch-norm's messages.
    func testBatchNormReLURejectsBadShapes() {
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        let gamma = g.constant(Tensor(shape: [2], repeating: 1)), beta = g.constant(Tensor(zeros: [2]))
        XCTAssertThrowsError(try g.batchNormReLU(g.constant(Tensor(zeros: [2, 2, 3])), gamma: gamma, beta: beta, running: nil)) {
            XCTAssertEqual("\($0)", "batchNorm needs [B, C] or [B, C, H, W]; got [2×2×3]")
        }
        XCTAssertThrowsError(try g.batchNormReLU(g.constant(Tensor(zeros: [2, 3])), gamma: gamma, beta: beta, running: nil)) {
            XCTAssertEqual("\($0)", "batchNorm: γ and β must be [3]; got [2] and [2]")
        }
        XCTAssertThrowsError(try g.batchNormReLU(g.constant(Tensor(zeros: [1, 2])), gamma: gamma, beta: beta, running: nil)) {
            XCTAssertEqual("\($0)", "batchNorm in training mode needs more than one value per channel; got [1×2]")
        }
    }

    /// ReLU's kernel splits long inputs over threads and 8-wide blocks; compare it with the
    /// definition on every element, forward and backward, including exact zeros and NaN.
    func testReluKernelMatchesTheDefinitionOnLongInputs() throws {
        let previous = Threads.count
        defer { Threads.set(previous) }
        Threads.set(2)
        let n = 70_003
        let x = Fixtures.random([n], seed: 34)
        x.data[5] = 0
        x.data[n - 1] = .nan
        let upstream = Fixtures.random([n], seed: 35)
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        let xn = g.variable(x)
        let y = g.relu(xn)
        try g.backward(from: try g.sum(try g.mul(y, g.constant(upstream))))
        for i in 0 ..< n - 1 {
            XCTAssertEqual(y.value[i], max(x[i], 0))
            XCTAssertEqual(xn.grad![i], x[i] > 0 ? upstream[i] : 0)
        }
        XCTAssertTrue(y.value[n - 1].isNaN, "NaN is not hidden by ReLU")
    }

    func testBatchNormEvalUsesRunningStatistics() throws {
        let stats = BatchNormStatistics(mean: Tensor(shape: [2], values: [1, -1]), variance: Tensor(shape: [2], values: [4, 0.25]))
        let g = Graph(training: false, random: RandomGenerator(seed: 0))
        let x = g.constant(Tensor(shape: [1, 2], values: [3, 0]))
        let y = try g.batchNorm(x, gamma: g.constant(Tensor(shape: [2], values: [1, 1])), beta: g.constant(Tensor(zeros: [2])), running: stats, eps: 0)
        XCTAssertEqual(y.value.array, [1, 2])
    }

    func testBatchNormTrainingNormalisesAndUpdatesRunningStatistics() throws {
        let stats = BatchNormStatistics(channels: 1)
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        let x = g.constant(Tensor(shape: [4, 1], values: [1, 2, 3, 4]))
        let y = try g.batchNorm(x, gamma: g.constant(Tensor(shape: [1], values: [1])), beta: g.constant(Tensor(zeros: [1])), running: stats, momentum: 0.5, eps: 0)
        XCTAssertEqual(y.value.array.reduce(0, +), 0, accuracy: 1e-5)
        XCTAssertEqual(y.value[3], 3 / Float(5).squareRoot(), accuracy: 1e-5)
        XCTAssertEqual(stats.mean[0], 1.25, accuracy: 1e-6)          // 0.5·0 + 0.5·2.5
        XCTAssertEqual(stats.variance[0], 0.5 + 0.5 * 5 / 3, accuracy: 1e-5)  // unbiased 5/3
    }

    func testL2NormalizeRows() {
        let x = Fixtures.random([3, 4], seed: 26)
        assertGradients([("x", x)]) { g, v in try g.l2Normalize(v[0]) }
    }

    func testDropoutGradientMatchesItsMask() {
        let x = Fixtures.random([5, 6], seed: 27)
        assertGradients([("x", x)]) { g, v in try g.dropout(v[0], p: 0.3) }
    }

    func testDropoutIsIdentityInEvaluation() throws {
        let g = Graph(training: false, random: RandomGenerator(seed: 0))
        let x = g.constant(Fixtures.random([10], seed: 1))
        XCTAssertEqual(try g.dropout(x, p: 0.5).value.array, x.value.array)
    }
}
