import LossKitCore
import XCTest

final class ElementwiseGradientTests: XCTestCase {
    func testAddSubMulDivSameShape() {
        let a = Fixtures.random([3, 4], seed: 1), b = Fixtures.random([3, 4], seed: 2, low: 0.5, high: 2)
        assertGradients([("a", a), ("b", b)]) { g, x in try g.add(x[0], x[1]) }
        assertGradients([("a", a), ("b", b)]) { g, x in try g.sub(x[0], x[1]) }
        assertGradients([("a", a), ("b", b)]) { g, x in try g.mul(x[0], x[1]) }
        assertGradients([("a", a), ("b", b)]) { g, x in try g.div(x[0], x[1]) }
    }

    func testBroadcastBiasRowAndPerChannel() {
        let x = Fixtures.random([2, 3, 2, 2], seed: 3), c = Fixtures.random([1, 3, 1, 1], seed: 4, low: 0.5, high: 2)
        assertGradients([("x", x), ("c", c)]) { g, v in try g.add(v[0], v[1]) }
        assertGradients([("x", x), ("c", c)]) { g, v in try g.mul(v[0], v[1]) }
        assertGradients([("x", x), ("c", c)]) { g, v in try g.div(v[0], v[1]) }
        let m = Fixtures.random([4, 5], seed: 5), bias = Fixtures.random([5], seed: 6)
        assertGradients([("m", m), ("bias", bias)]) { g, v in try g.sub(v[0], v[1]) }
    }

    func testScalarOps() {
        let x = Fixtures.random([6], seed: 7)
        assertGradients([("x", x)]) { g, v in g.scale(v[0], -2.5) }
        assertGradients([("x", x)]) { g, v in g.addScalar(v[0], 3) }
        assertGradients([("x", x)]) { g, v in g.neg(v[0]) }
    }

    func testActivations() {
        let x = Fixtures.distinct([4, 5], seed: 8)
        assertGradients([("x", x)]) { g, v in g.relu(v[0]) }
        assertGradients([("x", x)]) { g, v in g.leakyRelu(v[0], slope: 0.2) }
        assertGradients([("x", x)]) { g, v in g.tanh(v[0]) }
        assertGradients([("x", x)]) { g, v in g.sigmoid(v[0]) }
        assertGradients([("x", x)]) { g, v in g.softplus(v[0]) }
        assertGradients([("x", x)]) { g, v in g.exp(v[0]) }
        assertGradients([("x", x)]) { g, v in g.square(v[0]) }
        let pos = Fixtures.random([4, 5], seed: 9, low: 0.5, high: 3)
        assertGradients([("x", pos)]) { g, v in g.log(v[0]) }
        assertGradients([("x", pos)]) { g, v in g.sqrt(v[0]) }
    }

    func testSoftplusDoesNotOverflowForLargeInputs() {
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        let y = g.softplus(g.constant(Tensor(shape: [3], values: [1000, -1000, 0])))
        XCTAssertEqual(y.value[0], 1000, accuracy: 1e-3)
        XCTAssertEqual(y.value[1], 0, accuracy: 1e-6)
        XCTAssertEqual(y.value[2], log(2), accuracy: 1e-6)
    }

    func testMismatchedShapesNameBothShapes() {
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        XCTAssertThrowsError(try g.add(g.constant(Tensor(zeros: [2, 3])), g.constant(Tensor(zeros: [4])))) { error in
            XCTAssertEqual("\(error)", "add: shapes [2×3] and [4] do not broadcast (dimension 1 is 3 vs 4)")
        }
    }
}
