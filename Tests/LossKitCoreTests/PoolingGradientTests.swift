@testable import LossKitCore
import XCTest

final class PoolingGradientTests: XCTestCase {
    func testMaxPoolGradientFlowsThroughSwitches() {
        let x = Fixtures.distinct([2, 2, 4, 4], seed: 30)
        assertGradients([("x", x)]) { g, v in try g.maxPool2d(v[0], kernel: 2) }
        assertGradients([("x", x)]) { g, v in try g.maxPool2d(v[0], kernel: 3, stride: 1) }
    }

    /// The 2×2 stride-2 fast path (eight outputs per vector, then the row's tail on a vector that
    /// reads on into the next rows, or on a copy at the plane's end) against the definition on
    /// planes of odd and even sizes, on every kernel build this CPU runs: first maximum on ties,
    /// -∞ and the window's first switch when every candidate is NaN, a NaN never chosen over a
    /// number. Gradients through it, over planes wide enough for the vector path, are checked too.
    func testTwoByTwoMaxPoolMatchesTheDefinitionWithTiesAndNaN() throws {
        for set in KernelPath.available where KernelPath.runs(set, on: .current) {
            try KernelPath.using(set) { try checkTwoByTwoMaxPool() }
        }
        assertGradients([("x", Fixtures.distinct([2, 2, 4, 38], seed: 33))]) { g, v in try g.maxPool2d(v[0], kernel: 2) }
    }

    private func checkTwoByTwoMaxPool() throws {
        for (h, w) in [(4, 36), (5, 19), (2, 2), (6, 17), (14, 14), (28, 28), (3, 3), (7, 30)] {
            let x = Fixtures.random([2, 3, h, w], seed: UInt64(h * 100 + w))
            for i in Swift.stride(from: 0, to: x.count, by: 7) { x.data[i] = x.data[i + 1 < x.count ? i + 1 : i] }  // ties
            for i in Swift.stride(from: 3, to: x.count, by: 11) { x.data[i] = .nan }
            for c in 0..<4 { x.data[c] = .nan; x.data[w + c] = .nan }  // the first windows: all NaN
            let g = Graph(training: true, random: RandomGenerator(seed: 0))
            let y = try g.maxPool2d(g.constant(x), kernel: 2)
            let (ho, wo) = (h / 2, w / 2)
            for plane in 0..<6 {
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        var best = -Float.infinity, at = 2 * oy * w + 2 * ox
                        for p in [2 * oy * w + 2 * ox, 2 * oy * w + 2 * ox + 1, (2 * oy + 1) * w + 2 * ox, (2 * oy + 1) * w + 2 * ox + 1]
                        where x.data[plane * h * w + p] > best {
                            best = x.data[plane * h * w + p]
                            at = p
                        }
                        let o = (plane * ho + oy) * wo + ox
                        XCTAssertEqual(y.value.data[o], best, "\(h)×\(w) plane \(plane) (\(oy), \(ox))")
                        XCTAssertEqual(y.switches![o], Int32(at), "\(h)×\(w) plane \(plane) (\(oy), \(ox))")
                    }
                }
            }
        }
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
