import LossKitCore
import XCTest

/// What `losskit bench --by-shape` reads: the profiler's times per op at each set of operand
/// shapes, forward and backward apart, beside its per-kind totals.
final class OpProfilerTests: XCTestCase {
    /// conv → batch-norm + ReLU → conv → max-pool → reshape → mean, forward and backward.
    private func step(_ profiler: OpProfiler) throws -> Graph {
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        g.profiler = profiler
        let x = g.variable(Fixtures.random([2, 3, 8, 8], seed: 1))
        let h = try g.conv2d(x, weight: g.variable(Fixtures.random([4, 3, 3, 3], seed: 2)), padding: 1)
        let z = try g.batchNormReLU(h, gamma: g.variable(Fixtures.random([4], seed: 3)), beta: g.variable(Fixtures.random([4], seed: 4)), running: nil)
        let y = try g.conv2d(z, weight: g.variable(Fixtures.random([4, 4, 3, 3], seed: 5)), padding: 1)
        let pooled = try g.maxPool2d(y, kernel: 2)
        try g.backward(from: try g.mean(try g.reshape(pooled, [2, 64])))
        return g
    }

    func testByShapeTimesEachLayerForwardAndBackwardUnderItsShapes() throws {
        let profiler = OpProfiler(byShape: true)
        _ = try step(profiler)
        _ = try step(profiler)
        let first = "conv [2, 3, 8, 8] · [4, 3, 3, 3] → [2, 4, 8, 8]", second = "conv [2, 4, 8, 8] · [4, 4, 3, 3] → [2, 4, 8, 8]"
        let labels = [first, second, "batchnorm+relu [2, 4, 8, 8] → [2, 4, 8, 8]", "maxpool [2, 4, 8, 8] → [2, 4, 4, 4]"]
        for label in labels {
            let t = try XCTUnwrap(profiler.shapes[label], "\(label) timed; have \(profiler.shapes.keys.sorted())")
            XCTAssertEqual(t.calls, 2, "\(label): once per step")
            XCTAssertGreaterThan(try XCTUnwrap(t.forward, label), 0, label)
            XCTAssertGreaterThan(t.backward, 0, label)
        }
        // the two convolutions have one output shape: their input and weight shapes tell them apart
        XCTAssertEqual(profiler.shapes.keys.filter { $0.hasPrefix("conv ") }.count, 2, "\(profiler.shapes.keys.sorted())")
        // a reshape's forward is not timed (a view): its calls and backward are still counted
        let reshape = try XCTUnwrap(profiler.shapes["reshape [2, 4, 4, 4] → [2, 64]"], "have \(profiler.shapes.keys.sorted())")
        XCTAssertEqual(reshape.calls, 2)
        XCTAssertNil(reshape.forward)
        // the per-shape times are the per-kind ones, split: the convolutions' sum is the "conv" total
        let conv = profiler.shapes.filter { $0.key.hasPrefix("conv ") }.values.reduce(0) { $0 + ($1.forward ?? 0) + $1.backward }
        XCTAssertEqual(conv, profiler.seconds["conv"]!, accuracy: 1e-12)
        profiler.reset()
        XCTAssertTrue(profiler.shapes.isEmpty)
    }

    func testWithoutByShapeNothingIsLabelledOrTimedPerShape() throws {
        let profiler = OpProfiler()
        let g = try step(profiler)
        XCTAssertTrue(profiler.shapes.isEmpty)
        XCTAssertGreaterThan(profiler.seconds["conv", default: 0], 0, "the per-kind totals are kept as before")
        XCTAssertTrue(g.nodes.allSatisfy { $0.profileLabel == nil }, "no label strings built when nobody reads them")
        XCTAssertTrue(try step(OpProfiler(byShape: true)).nodes.contains { $0.profileLabel != nil })
    }
}
