import LossKitCore
import XCTest

/// Ops that write their input's gradient in one pass (`Node.gradBufferForWriting`) store it when
/// they are the first to reach the input and add to it otherwise. Each is gradient-checked with
/// its input feeding a second op too, once recorded first (its backward runs last: it adds) and
/// once recorded last (its backward runs first: it stores).
final class GradientAccumulationTests: XCTestCase {
    private func checkBothOrders(_ x: Tensor, check: GradientCheck = GradientCheck(), file: StaticString = #filePath, line: UInt = #line,
                                 _ op: @escaping (Graph, Node) throws -> Node) {
        for opFirst in [true, false] {
            assertGradients([("x", x)], check: check, file: file, line: line) { g, v in
                if opFirst {
                    let y = try op(g, v[0])
                    return try g.add(y, g.mul(v[0], v[0]))
                }
                let square = try g.mul(v[0], v[0])
                return try g.add(square, op(g, v[0]))
            }
        }
    }

    func testReluStoresOrAddsItsGradient() {
        // values at least 0.1 from the kink at 0, either sign
        let x = Fixtures.random([3, 50], seed: 200, low: 0.1, high: 1)
        for i in Swift.stride(from: 0, to: x.count, by: 2) { x.data[i] = -x.data[i] }
        checkBothOrders(x) { g, x in g.relu(x) }
    }

    /// A check that accepts ReLU's kink by the one-sided criterion: batch statistics move every
    /// output when one input moves, so some cross zero.
    private func kinkTolerant(training: Bool) -> GradientCheck {
        var check = GradientCheck(training: training, allowKinks: true)
        check.retrySteps = [2e-3, 5e-2]
        return check
    }

    func testBatchNormStoresOrAddsItsGradient() {
        let x = Fixtures.random([4, 3, 3, 3], seed: 201)
        let gamma = Fixtures.random([3], seed: 202, low: 0.5, high: 1.5), beta = Fixtures.random([3], seed: 203)
        for training in [true, false] {
            let stats = BatchNormStatistics(mean: Fixtures.random([3], seed: 204), variance: Fixtures.random([3], seed: 205, low: 0.5, high: 2))
            checkBothOrders(x, check: GradientCheck(training: training)) { g, x in
                try g.batchNorm(x, gamma: g.constant(gamma), beta: g.constant(beta), running: training ? nil : stats)
            }
            checkBothOrders(x, check: kinkTolerant(training: training)) { g, x in
                try g.batchNormReLU(x, gamma: g.constant(gamma), beta: g.constant(beta), running: training ? nil : stats)
            }
        }
    }

    func testElementwiseOpsStoreOrAddTheirGradient() {
        // long enough to be split over threads
        let x = Fixtures.random([2, 40_000], seed: 213)
        let previous = Threads.count
        defer { Threads.set(previous) }
        for threads in [1, 2] {
            Threads.set(threads)
            var check = GradientCheck()
            check.maxElementsPerTensor = 32
            checkBothOrders(x, check: check) { g, x in g.square(x) }
            checkBothOrders(x, check: check) { g, x in g.tanh(x) }
            checkBothOrders(x, check: check) { g, x in try g.mean(x) }
        }
    }

    /// A mean over everything is summed in fixed blocks on the threads: the same bits at any
    /// thread count, and within float rounding of the plain sum.
    func testFullMeanIsTheSameAtEveryThreadCount() throws {
        let x = Fixtures.random([5, 70_001], seed: 214)
        let previous = Threads.count
        defer { Threads.set(previous) }
        var means: [Float] = []
        for threads in [1, 2, 3] {
            Threads.set(threads)
            let g = Graph(training: true, random: RandomGenerator(seed: 0))
            means.append(try g.mean(g.constant(x)).value.scalar)
        }
        XCTAssertEqual(means[1].bitPattern, means[0].bitPattern)
        XCTAssertEqual(means[2].bitPattern, means[0].bitPattern)
        let plain = x.array.reduce(0.0) { $0 + Double($1) } / Double(x.count)
        XCTAssertEqual(Double(means[0]), plain, accuracy: 1e-6)
    }

    func testPoolingStoresOrAddsItsGradient() throws {
        // pooled outputs have another shape than x: projected to a scalar by a fixed weighting
        let weights = Fixtures.random([2, 3, 2, 9], seed: 211)
        checkBothOrders(Fixtures.distinct([2, 3, 4, 18], seed: 208)) { g, x in
            try g.sum(g.mul(g.maxPool2d(x, kernel: 2), g.constant(weights)))
        }
        let x = Fixtures.distinct([2, 3, 4, 18], seed: 209)
        let g0 = Graph(training: true, random: RandomGenerator(seed: 0))
        let switches = try g0.maxPool2d(g0.constant(x), kernel: 2).switches!
        let unpooledWeights = Fixtures.random([2, 3, 4, 18], seed: 212)
        checkBothOrders(Fixtures.random([2, 3, 2, 9], seed: 210)) { g, x in
            try g.sum(g.mul(g.maxUnpool2d(x, switches: switches, height: 4, width: 18), g.constant(unpooledWeights)))
        }
    }

    func testConvolutionPathsStoreOrAddTheirInputGradient() {
        let saved = (Graph.winogradMinChannels, Graph.winogradMinOutputSide, Graph.winogradLargeTileMinOutputSide)
        defer { (Graph.winogradMinChannels, Graph.winogradMinOutputSide, Graph.winogradLargeTileMinOutputSide) = saved }
        (Graph.winogradMinChannels, Graph.winogradMinOutputSide) = (2, 1)
        // one channel: direct summation; two: Winograd F(2×2), then F(4×4)
        for (channels, largeFrom) in [(1, Int.max), (2, Int.max), (2, 1)] {
            Graph.winogradLargeTileMinOutputSide = largeFrom
            let x = Fixtures.random([2, channels, 5, 9], seed: 206), w = Fixtures.random([channels, channels, 3, 3], seed: 207)
            checkBothOrders(x) { g, x in try g.conv2d(x, weight: g.constant(w), padding: 1) }
        }
    }
}
