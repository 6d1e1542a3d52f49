import LossKitCore
import XCTest

final class StructureGradientTests: XCTestCase {
    func testSumAndMeanOverAxes() {
        let x = Fixtures.random([2, 3, 4], seed: 50)
        assertGradients([("x", x)]) { g, v in try g.sum(v[0]) }
        assertGradients([("x", x)]) { g, v in try g.mean(v[0], axes: [1]) }
        assertGradients([("x", x)]) { g, v in try g.sum(v[0], axes: [0, 2], keepDims: true) }
        assertGradients([("x", x)]) { g, v in try g.mean(v[0], axes: [-1]) }
    }

    func testSumOverAxesValues() throws {
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        let x = g.constant(Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]))
        XCTAssertEqual(try g.sum(x, axes: [0]).value.array, [5, 7, 9])
        XCTAssertEqual(try g.mean(x, axes: [1]).value.array, [2, 5])
        XCTAssertEqual(try g.sum(x).value.array, [21])
    }

    func testReshapeFlattenSliceConcatPermute() {
        let x = Fixtures.random([2, 3, 4], seed: 51), y = Fixtures.random([2, 2, 4], seed: 52)
        assertGradients([("x", x)]) { g, v in try g.reshape(v[0], [6, -1]) }
        assertGradients([("x", x)]) { g, v in try g.flatten(v[0]) }
        assertGradients([("x", x)]) { g, v in try g.slice(v[0], axis: 1, start: 1, end: 3) }
        assertGradients([("x", x), ("y", y)]) { g, v in try g.concat([v[0], v[1]], axis: 1) }
        assertGradients([("x", x)]) { g, v in try g.permute(v[0], [2, 0, 1]) }
        let m = Fixtures.random([3, 5], seed: 53)
        assertGradients([("m", m)]) { g, v in try g.transpose(v[0]) }
    }

    func testPermuteValues() throws {
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        let x = g.constant(Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6]))
        XCTAssertEqual(try g.transpose(x).value.array, [1, 4, 2, 5, 3, 6])
    }

    func testGatherAndScatterRows() {
        let bank = Fixtures.random([5, 3], seed: 54)
        assertGradients([("bank", bank)]) { g, v in try g.gatherRows(v[0], [4, 0, 4, 2]) }
        let rows = Fixtures.random([3, 2], seed: 55)
        assertGradients([("rows", rows)]) { g, v in try g.scatterRows(v[0], [1, 3, 1], rows: 4) }
    }

    func testGatherRejectsAnIndexOutsideTheBank() {
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        XCTAssertThrowsError(try g.gatherRows(g.constant(Tensor(zeros: [5, 2])), [1, 5])) {
            XCTAssertEqual("\($0)", "gatherRows: index 5 at position 1 is outside 0..<5")
        }
    }

    func testReshapeToWrongCountIsReported() {
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        XCTAssertThrowsError(try g.reshape(g.constant(Tensor(zeros: [2, 3])), [4, 2])) {
            XCTAssertEqual("\($0)", "cannot reshape [2×3] (6 elements) to [4×2]")
        }
    }

    func testDetachAndFrozenStopTheGradientAtTheirSource() throws {
        let w = Parameter(name: "w", value: Fixtures.random([3, 2], seed: 56))
        let x = Fixtures.random([4, 3], seed: 57)
        // frozen: the input still gets its gradient, the weight does not
        assertGradients([("x", x)]) { g, v in try g.matmul(v[0], g.frozen(w)) }
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        let xv = g.variable(x)
        let loss = try g.sum(g.matmul(xv, g.frozen(w)))
        try g.backward(from: loss)
        XCTAssertTrue(w.grad.array.allSatisfy { $0 == 0 }, "a frozen read leaves the weight's gradient untouched")
        XCTAssertTrue(xv.grad!.array.contains { $0 != 0 })
        // the same read through param() does reach the weight, and gradient-checks
        assertGradients([("x", x)], parameters: [w]) { g, v in try g.matmul(v[0], g.param(w)) }
        // detach
        let g2 = Graph(training: true, random: RandomGenerator(seed: 0))
        let a = g2.variable(x)
        let l2 = try g2.sum(g2.mul(g2.detach(a), a))
        try g2.backward(from: l2)
        XCTAssertEqual(a.grad!.array, x.array, "d/da of stop(a)·a is stop(a)")
    }

    func testAffineWarpGradientAndKnownTransforms() throws {
        let x = Fixtures.random([2, 1, 5, 5], seed: 58)
        let theta: [Float] = [0.9, 0.2, 0.05, -0.1, 1.1, -0.08, 1, 0, 0.13, 0, 1, 0.07]
        assertGradients([("x", x)]) { g, v in try g.affineWarp(v[0], theta: theta) }

        let img = Tensor(shape: [1, 1, 3, 3], values: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        let identity = try g.affineWarp(g.constant(img), theta: [1, 0, 0, 0, 1, 0])
        XCTAssertEqual(identity.value.array.map { ($0 * 1000).rounded() / 1000 }, img.array)
        // 90°: output (x, y) reads input (-y, x) in normalised coordinates [cos -sin; sin cos]
        let rot = try g.affineWarp(g.constant(img), theta: [0, -1, 0, 1, 0, 0])
        XCTAssertEqual(rot.value.array.map { ($0 * 1000).rounded() / 1000 }, [3, 6, 9, 2, 5, 8, 1, 4, 7])
        // translate by one pixel (2/3 of the normalised width): output x reads input x+1, fill 0
        let shift = try g.affineWarp(g.constant(img), theta: [1, 0, 2.0 / 3, 0, 1, 0], fill: 0)
        XCTAssertEqual(shift.value.array.map { ($0 * 1000).rounded() / 1000 }, [2, 3, 0, 5, 6, 0, 8, 9, 0])
    }
}
