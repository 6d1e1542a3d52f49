import Foundation
import LossKitCore
import LossKitEvaluation
import LossKitTestSupport
import XCTest

final class KNNClassifierTests: XCTestCase {
    // Six 2-D training points (some scaled, so normalisation matters):
    //   0: (10, 0) class 0      1: (cos .5, sin .5) class 1     2: 3·(cos .5, -sin .5) class 1
    //   3: (-1, 0) class 0      4: (0, 1) class 1               5: (0, -2) class 2
    // Test 0 = (2, 0): similarities 1, .8776, .8776, -1, 0, 0 → top 3 = {0, 1, 2}.
    //   Majority vote: class 1 (two votes). Weighted, tau .07: class 0 gets e^(1/.07) ≈ 1.60e6,
    //   class 1 gets 2·e^(.8776/.07) ≈ 5.56e5, so class 0 wins. With tau = 1: e^1 ≈ 2.72 against
    //   2·e^.8776 ≈ 4.81, so class 1 wins.
    // Test 1 = (0, 3): similarities 0, .479, -.479, 0, 1, -1 → top 3 = {4, 1, 0} (0 beats 3 on the
    //   tie by lower index); class 1 wins either way.
    private let c5 = Float(cos(0.5)), s5 = Float(sin(0.5))
    private var tinyTrain: Tensor {
        Tensor(shape: [6, 2], values: [10, 0, c5, s5, 3 * c5, -3 * s5, -1, 0, 0, 1, 0, -2])
    }
    private let tinyLabels: [Int32] = [0, 1, 1, 0, 1, 2]
    private let tinyTest = Tensor(shape: [2, 2], values: [2, 0, 0, 3])

    func testWeightedVotingOverridesMajorityInHandComputedCase() throws {
        let r = try KNNClassifier.evaluate(train: tinyTrain, trainLabels: tinyLabels, test: tinyTest,
                                           testLabels: [0, 1], classes: 3, k: 3, tau: 0.07)
        XCTAssertEqual(r.predictions, [0, 1])
        XCTAssertEqual(r.accuracy, 1)
        XCTAssertEqual(r.confusion, ConfusionMatrix(truth: [0, 1], predicted: [0, 1], classes: 3))
    }

    func testLargeTauApproachesMajorityVotingInHandComputedCase() throws {
        let r = try KNNClassifier.evaluate(train: tinyTrain, trainLabels: tinyLabels, test: tinyTest,
                                           testLabels: [0, 1], classes: 3, k: 3, tau: 1)
        XCTAssertEqual(r.predictions, [1, 1])
        XCTAssertEqual(r.accuracy, 0.5)
        XCTAssertEqual(r[confusionTruth: 0, predicted: 1], 1)
    }

    func testInputsAreNotModified() throws {
        let train = tinyTrain, test = tinyTest
        let before = (train.array, test.array)
        _ = try KNNClassifier.evaluate(train: train, trainLabels: tinyLabels, test: test,
                                       testLabels: [0, 1], classes: 3, k: 3)
        XCTAssertEqual(train.array, before.0)
        XCTAssertEqual(test.array, before.1)
    }

    func testEqualSimilaritiesPreferTheLowerTrainIndex() throws {
        let test = Tensor(shape: [1, 2], values: [1, 0])
        // (1, 0) and (2, 0) normalise to the same vector: the first one listed is the neighbour.
        let a = try KNNClassifier.evaluate(train: Tensor(shape: [3, 2], values: [1, 0, 2, 0, 0, 1]),
                                           trainLabels: [1, 0, 0], test: test, testLabels: [0], classes: 2, k: 1)
        XCTAssertEqual(a.predictions, [1])
        let b = try KNNClassifier.evaluate(train: Tensor(shape: [3, 2], values: [2, 0, 1, 0, 0, 1]),
                                           trainLabels: [0, 1, 0], test: test, testLabels: [0], classes: 2, k: 1)
        XCTAssertEqual(b.predictions, [0])
        // The tie arises after the heap is full (index 1 enters, index 2 ties it and stays out).
        let c = try KNNClassifier.evaluate(train: Tensor(shape: [3, 2], values: [0, 1, 1, 0, 3, 0]),
                                           trainLabels: [0, 1, 0], test: test, testLabels: [0], classes: 2, k: 1)
        XCTAssertEqual(c.predictions, [1])
    }

    func testEqualVotesPreferTheLowerClass() throws {
        let r = try KNNClassifier.evaluate(train: Tensor(shape: [2, 2], values: [1, 0, 1, 0]), trainLabels: [1, 0],
                                           test: Tensor(shape: [1, 2], values: [1, 0]), testLabels: [1],
                                           classes: 2, k: 2)
        XCTAssertEqual(r.predictions, [0])
    }

    func testGaussianClustersAreClassifiedAbove95Percent() throws {
        let d = TestData.clusters(classes: 3, dims: 16, train: 600, test: 150, centreStd: 2, seed: 7)
        let r = try KNNClassifier.evaluate(train: d.train, trainLabels: d.trainLabels, test: d.test,
                                           testLabels: d.testLabels, classes: 3)
        XCTAssertGreaterThan(r.accuracy, 0.95)
        XCTAssertEqual(r.confusion.total, 150)
    }

    func testRandomLabelsGiveChanceAccuracy() throws {
        let classes = 4
        let r = try KNNClassifier.evaluate(
            train: TestData.normal([3000, 16], seed: 1), trainLabels: TestData.randomLabels(3000, classes: classes, seed: 2),
            test: TestData.normal([2000, 16], seed: 3), testLabels: TestData.randomLabels(2000, classes: classes, seed: 4),
            classes: classes)
        XCTAssertEqual(r.accuracy, 0.25, accuracy: 0.04)
    }

    /// Several chunks (600 test rows = 256 + 256 + 88) and two worker threads against a
    /// brute-force double-precision reference that sorts all N similarities.
    func testMatchesFullSortReferenceAcrossChunksAndThreads() throws {
        let n = 1000, m = 600, d = 8, classes = 5, k = 15
        let tau: Float = 0.1
        let train = TestData.normal([n, d], seed: 11), test = TestData.normal([m, d], seed: 12)
        let trainLabels = TestData.randomLabels(n, classes: classes, seed: 13)
        let testLabels = TestData.randomLabels(m, classes: classes, seed: 14)

        func unit(_ t: Tensor, _ r: Int) -> [Double] {
            let v = (0..<d).map { Double(t.data[r * d + $0]) }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / norm }
        }
        let trainUnit = (0..<n).map { unit(train, $0) }
        var expected = [Int32]()
        for i in 0..<m {
            let q = unit(test, i)
            let sims = trainUnit.map { row in zip(row, q).reduce(0) { $0 + $1.0 * $1.1 } }
            let order = (0..<n).sorted { sims[$0] > sims[$1] || (sims[$0] == sims[$1] && $0 < $1) }
            var votes = [Double](repeating: 0, count: classes)
            for j in order.prefix(k) { votes[Int(trainLabels[j])] += exp(sims[j] / Double(tau)) }
            expected.append(Int32(votes.indices.max { votes[$0] < votes[$1] || (votes[$0] == votes[$1] && $0 > $1) }!))
        }

        Threads.set(2)
        defer { Threads.set(1) }
        let two = try KNNClassifier.evaluate(train: train, trainLabels: trainLabels, test: test, testLabels: testLabels,
                                             classes: classes, k: k, tau: tau)
        Threads.set(1)
        let one = try KNNClassifier.evaluate(train: train, trainLabels: trainLabels, test: test, testLabels: testLabels,
                                             classes: classes, k: k, tau: tau)
        XCTAssertEqual(two.predictions, expected)
        XCTAssertEqual(one.predictions, two.predictions)
        XCTAssertEqual(one.confusion, ConfusionMatrix(truth: testLabels, predicted: expected, classes: classes))
    }

    func testKEqualToTrainSizeUsesEveryTrainRow() throws {
        // With k = N every row votes; class 1 has three rows near the query, class 0 one exact match.
        let train = Tensor(shape: [4, 2], values: [1, 0, 1, 0.1, 1, -0.1, 1, 0.05])
        let r = try KNNClassifier.evaluate(train: train, trainLabels: [0, 1, 1, 1],
                                           test: Tensor(shape: [1, 2], values: [1, 0]), testLabels: [1],
                                           classes: 2, k: 4)
        XCTAssertEqual(r.predictions, [1])
    }

    func testErrorsNameTheProblem() {
        let train = tinyTrain, test = tinyTest
        assertThrows(EvaluationError.self, "train has 2 feature columns but test has 3") {
            try KNNClassifier.evaluate(train: train, trainLabels: tinyLabels, test: Tensor(zeros: [2, 3]),
                                       testLabels: [0, 1], classes: 3)
        }
        assertThrows(EvaluationError.self, "train must be a [rows, features] matrix, got shape [12]") {
            try KNNClassifier.evaluate(train: Tensor(zeros: [12]), trainLabels: tinyLabels, test: test,
                                       testLabels: [0, 1], classes: 3)
        }
        assertThrows(EvaluationError.self, "train has 6 rows but trainLabels has 5 labels") {
            try KNNClassifier.evaluate(train: train, trainLabels: [0, 1, 1, 0, 1], test: test,
                                       testLabels: [0, 1], classes: 3, k: 3)
        }
        assertThrows(EvaluationError.self, "test has 2 rows but testLabels has 3 labels") {
            try KNNClassifier.evaluate(train: train, trainLabels: tinyLabels, test: test,
                                       testLabels: [0, 1, 1], classes: 3, k: 3)
        }
        assertThrows(EvaluationError.self, "k must be at least 1, got 0") {
            try KNNClassifier.evaluate(train: train, trainLabels: tinyLabels, test: test, testLabels: [0, 1],
                                       classes: 3, k: 0)
        }
        assertThrows(EvaluationError.self, "k = 7 exceeds the 6 training rows") {
            try KNNClassifier.evaluate(train: train, trainLabels: tinyLabels, test: test, testLabels: [0, 1],
                                       classes: 3, k: 7)
        }
        assertThrows(EvaluationError.self, "k = 200 exceeds the 6 training rows") {   // the default k
            try KNNClassifier.evaluate(train: train, trainLabels: tinyLabels, test: test, testLabels: [0, 1], classes: 3)
        }
        assertThrows(EvaluationError.self, "train is empty (0 rows)") {
            try KNNClassifier.evaluate(train: Tensor(zeros: [0, 2]), trainLabels: [], test: test,
                                       testLabels: [0, 1], classes: 3, k: 1)
        }
        assertThrows(EvaluationError.self, "test is empty (0 rows)") {
            try KNNClassifier.evaluate(train: train, trainLabels: tinyLabels, test: Tensor(zeros: [0, 2]),
                                       testLabels: [], classes: 3, k: 3)
        }
        assertThrows(EvaluationError.self, "trainLabels[5] = 3 is outside 0..<3") {
            try KNNClassifier.evaluate(train: train, trainLabels: [0, 1, 1, 0, 1, 3], test: test,
                                       testLabels: [0, 1], classes: 3, k: 3)
        }
        assertThrows(EvaluationError.self, "testLabels[0] = -1 is outside 0..<3") {
            try KNNClassifier.evaluate(train: train, trainLabels: tinyLabels, test: test,
                                       testLabels: [-1, 1], classes: 3, k: 3)
        }
        assertThrows(EvaluationError.self, "classes must be at least 1, got 0") {
            try KNNClassifier.evaluate(train: train, trainLabels: tinyLabels, test: test, testLabels: [0, 1],
                                       classes: 0, k: 3)
        }
        assertThrows(EvaluationError.self, "tau must be a positive finite number, got 0.0") {
            try KNNClassifier.evaluate(train: train, trainLabels: tinyLabels, test: test, testLabels: [0, 1],
                                       classes: 3, k: 3, tau: 0)
        }
        assertThrows(EvaluationError.self, "test has a non-finite value (nan) at row 1, column 0") {
            try KNNClassifier.evaluate(train: train, trainLabels: tinyLabels,
                                       test: Tensor(shape: [2, 2], values: [1, 0, .nan, 1]),
                                       testLabels: [0, 1], classes: 3, k: 3)
        }
    }

    /// Prints the cost of a realistic evaluation (no assertion on time).
    func testTimingOfKNNOn60000TrainRows() throws {
        let n = 60_000, m = 1_000, d = 128, classes = 10
        let train = TestData.normal([n, d], seed: 21), test = TestData.normal([m, d], seed: 22)
        let trainLabels = TestData.randomLabels(n, classes: classes, seed: 23)
        let testLabels = TestData.randomLabels(m, classes: classes, seed: 24)
        let start = Date()
        let r = try KNNClassifier.evaluate(train: train, trainLabels: trainLabels, test: test,
                                           testLabels: testLabels, classes: classes)
        let seconds = Date().timeIntervalSince(start)
        print(String(format: "kNN timing: N=%d M=%d D=%d k=200 classes=%d threads=%d: %.2f s (accuracy %.3f on random data)",
                     n, m, d, classes, Threads.count, seconds, r.accuracy))
        XCTAssertEqual(r.predictions.count, m)
    }
}

private extension KNNResult {
    subscript(confusionTruth truth: Int, predicted predicted: Int) -> Int { confusion[truth: truth, predicted: predicted] }
}
