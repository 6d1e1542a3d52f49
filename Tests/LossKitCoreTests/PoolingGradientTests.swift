import LossKitCore
import XCTest

final class PoolingGradientTests: XCTestCase {
    func testMaxPoolGradientFlowsThroughSwitches() {
        let x = Fixtures.distinct([2, 2, 4, 4], seed: 30)
        assertGradients([("x", x)]) { g, v in try g.maxPool2d(v[0], kernel: 2) }
        assertGradients([("x", x)]) { g, v in try g.maxPool2d(v[0], kernel: 3, stride: 1) }
    }

    func testMaxPoolRecordsArgmaxPositions() throws {
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        let x = g.constant(Tensor(shape: [1, 1, 2, 4], values: [1, 5, 2, 0, 3, 4, 9, 8]))
        let y = try g.maxPool2d(x, kernel: 2)
        XCTAssertEqual(y.value.array, [5, 9])
        XCTAssertEqual(y.switches, [1, 6])
    }

    func testMaxUnpoolPutsValuesWhereTheMaximaWere() throws {
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        let x = g.constant(Tensor(shape: [1, 1, 2, 4], values: [1, 5, 2, 0, 3, 4, 9, 8]))
        let pooled = try g.maxPool2d(x, kernel: 2)
        let up = try g.maxUnpool2d(pooled, switchesOf: pooled)
        XCTAssertEqual(up.value.array, [0, 5, 0, 0, 0, 0, 9, 0])
    }

    func testMaxUnpoolGradientWithSwitches() throws {
        let x = Fixtures.distinct([2, 3, 4, 4], seed: 31)
        let g0 = Graph(training: true, random: RandomGenerator(seed: 0))
        let pooled = try g0.maxPool2d(g0.constant(x), kernel: 2)
        let switches = pooled.switches!
        let decoded = Fixtures.random([2, 3, 2, 2], seed: 32)
        assertGradients([("decoded", decoded)]) { g, v in try g.maxUnpool2d(v[0], switches: switches, height: 4, width: 4) }
    }

    func testMaxUnpoolRejectsANodeWithoutSwitches() {
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        let x = g.constant(Tensor(zeros: [1, 1, 2, 2]))
        XCTAssertThrowsError(try g.maxUnpool2d(x, switchesOf: x)) {
            XCTAssertEqual("\($0)", "maxUnpool2d: node 'constant' carries no max-pool switches")
        }
    }

    func testAveragePoolingAndUpsampling() {
        let x = Fixtures.random([2, 2, 4, 4], seed: 33)
        assertGradients([("x", x)]) { g, v in try g.avgPool2d(v[0], kernel: 2) }
        assertGradients([("x", x)]) { g, v in try g.globalAvgPool(v[0]) }
        assertGradients([("x", x)]) { g, v in try g.upsampleNearest(v[0], factor: 2) }
    }
}
