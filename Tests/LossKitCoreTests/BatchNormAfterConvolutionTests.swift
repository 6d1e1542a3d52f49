import LossKitCore
import XCTest

/// A convolution in training mode hands batch-norm each output plane's Σ and Σ² (`planeMoments`),
/// and batch-norm uses them instead of summing the activation again. These tests show that the
/// shortcut is taken on each convolution path that offers it, that it gives batch-norm the same
/// bits as summing a copy of the activation, and that gradients through both ops still check.
final class BatchNormAfterConvolutionTests: XCTestCase {
    /// (path, input channels, output channels, height, width): with the default path choices,
    /// direct summation for one input channel, Winograd F(2×2) below 16 outputs a side, F(4×4) from 16.
    private let paths = [("direct", 1, 4, 9, 11), ("winograd-f2", 8, 5, 6, 10), ("winograd-f4", 8, 3, 16, 18)]

    func testBatchNormAfterEachConvolutionPathUsesItsMomentsWithTheSameBits() throws {
        let saved = (Threads.count, Graph.winogradChunkFloats)
        defer { Threads.set(saved.0); Graph.winogradChunkFloats = saved.1 }
        for (n, (path, c, o, h, w)) in paths.enumerated() {
            let x = Fixtures.random([3, c, h, w], seed: UInt64(200 + n)), k = Fixtures.random([o, c, 3, 3], seed: UInt64(210 + n))
            let gamma = Fixtures.random([o], seed: 220, low: 0.5, high: 1.5), beta = Fixtures.random([o], seed: 221)
            // Winograd's moments are taken chunk by chunk of the batch: whole batch, and one image a chunk
            for (threads, chunkFloats) in [(1, saved.1), (2, saved.1), (1, 1), (2, 1)] {
                Threads.set(threads)
                Graph.winogradChunkFloats = chunkFloats
                let g = Graph(training: true, random: RandomGenerator(seed: 0))
                let y = try g.conv2d(g.variable(x), weight: g.variable(k), padding: 1)
                XCTAssertEqual(y.planeMoments?.shape, [3, o, 2], "\(path): the convolution took its output's moments")
                let (viaMoments, summed) = (BatchNormStatistics(channels: o), BatchNormStatistics(channels: o))
                let (gv, bv) = (g.constant(gamma), g.constant(beta))
                let z = try g.batchNormReLU(y, gamma: gv, beta: bv, running: viaMoments)
                let copy = g.constant(y.value.copy())
                XCTAssertNil(copy.planeMoments)
                let reference = try g.batchNormReLU(copy, gamma: gv, beta: bv, running: summed)
                let differing = zip(z.value.array, reference.value.array).filter { $0 != $1 }.count
                XCTAssertEqual(differing, 0, "\(path), \(threads) threads, chunk bound \(chunkFloats): outputs that differ")
                XCTAssertEqual(viaMoments.mean.array, summed.mean.array, "\(path), \(threads) threads: running means")
                XCTAssertEqual(viaMoments.variance.array, summed.variance.array, "\(path), \(threads) threads: running variances")
                XCTAssertTrue(z.value.array.contains(0) && z.value.array.contains { $0 > 0 }, "\(path): the ReLU clips some values")
            }
        }
    }

    func testConvolutionTakesNoMomentsInEvaluationNorOnTheIm2colPath() throws {
        let x = Fixtures.random([2, 8, 9, 9], seed: 230), k = Fixtures.random([4, 8, 3, 3], seed: 231)
        let eval = Graph(training: false, random: RandomGenerator(seed: 0))
        XCTAssertNil(try eval.conv2d(eval.constant(x), weight: eval.constant(k), padding: 1).planeMoments)
        let train = Graph(training: true, random: RandomGenerator(seed: 0))
        XCTAssertNil(try train.conv2d(train.constant(x), weight: train.constant(k), stride: 2, padding: 1).planeMoments,
                     "stride 2 takes im2col, which leaves the statistics to batch-norm")
    }

    func testGradientsThroughConvolutionThenBatchNorm() {
        for (n, (path, c, o, h, w)) in paths.enumerated() {
            let x = Fixtures.random([2, c, h, w], seed: UInt64(240 + n)), k = Fixtures.random([o, c, 3, 3], seed: UInt64(250 + n))
            let gamma = Fixtures.random([o], seed: 260, low: 0.5, high: 1.5), beta = Fixtures.random([o], seed: 261)
            var check = GradientCheck(training: true)
            check.retrySteps = [2e-3, 5e-2]
            assertGradients([("x", x), ("w", k), ("gamma", gamma), ("beta", beta)], check: check) { g, v in
                let y = try g.conv2d(v[0], weight: v[1], padding: 1)
                XCTAssertNotNil(y.planeMoments, path)
                return try g.batchNorm(y, gamma: v[2], beta: v[3], running: nil)
            }
        }
    }
}
