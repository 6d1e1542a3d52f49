import LossKitCore
import XCTest

final class LossGradientTests: XCTestCase {
    func testLogSoftmaxAndLogSumExp() {
        let x = Fixtures.random([3, 5], seed: 40, low: -3, high: 3)
        assertGradients([("x", x)]) { g, v in try g.logSoftmax(v[0]) }
        assertGradients([("x", x)]) { g, v in try g.logSumExp(v[0]) }
    }

    func testMaskedCrossEntropyUsesOnlyLabelledRows() throws {
        let x = Fixtures.random([4, 3], seed: 41, low: -2, high: 2)
        let labels: [Int32] = [0, 2, 1, 1], mask = [true, false, true, false]
        assertGradients([("x", x)]) { g, v in try g.softmaxCrossEntropy(v[0], labels: labels, mask: mask) }
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        let logits = g.variable(x)
        let loss = try g.softmaxCrossEntropy(logits, labels: labels, mask: mask)
        try g.backward(from: loss)
        XCTAssertEqual(logits.grad!.array[3..<6].map { $0 }, [0, 0, 0], "unlabelled row 1 gets no gradient")
        // value: mean over rows 0 and 2 of -log softmax
        func nll(_ r: Int, _ k: Int) -> Float {
            let row = (0..<3).map { x[r * 3 + $0] }
            return log(row.map { exp($0) }.reduce(0, +)) - row[k]
        }
        XCTAssertEqual(loss.value.scalar, (nll(0, 0) + nll(2, 1)) / 2, accuracy: 1e-5)
    }

    func testCrossEntropyWithNoLabelledRowIsZero() throws {
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        let logits = g.variable(Fixtures.random([2, 3], seed: 42))
        let loss = try g.softmaxCrossEntropy(logits, labels: [0, 1], mask: [false, false])
        XCTAssertEqual(loss.value.scalar, 0)
    }

    func testCrossEntropyRejectsAnOutOfRangeLabel() {
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        XCTAssertThrowsError(try g.softmaxCrossEntropy(g.constant(Tensor(zeros: [2, 3])), labels: [0, 7])) {
            XCTAssertEqual("\($0)", "softmaxCrossEntropy: label 7 in row 1 is outside 0..<3")
        }
    }

    func testLogSumExpIsStableForLargeLogits() throws {
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        let y = try g.logSumExp(g.constant(Tensor(shape: [1, 2], values: [1000, 1000])))
        XCTAssertEqual(y.value[0], 1000 + log(2), accuracy: 1e-3)
    }
}
