import LossKitCore
import LossKitEvaluation
import LossKitTestSupport
import XCTest

final class LinearProbeTests: XCTestCase {
    private func separable(seed: UInt64 = 5) -> (train: Tensor, trainLabels: [Int32], test: Tensor, testLabels: [Int32]) {
        let all = TestData.linearlySeparable(classes: 4, dims: 20, count: 2500, margin: 1, seed: seed)
        let train = Tensor(uninitialized: [2000, 20]), test = Tensor(uninitialized: [500, 20])
        train.data.update(from: all.x.data, count: 2000 * 20)
        test.data.update(from: all.x.data + 2000 * 20, count: 500 * 20)
        return (train, Array(all.labels[..<2000]), test, Array(all.labels[2000...]))
    }

    func testSeparableDataIsFitAndGeneralises() throws {
        let d = separable()
        let r = try LinearProbe().evaluate(train: d.train, trainLabels: d.trainLabels, test: d.test,
                                           testLabels: d.testLabels, classes: 4)
        XCTAssertGreaterThanOrEqual(r.trainAccuracy, 0.99)
        XCTAssertGreaterThanOrEqual(r.testAccuracy, 0.95)
        XCTAssertEqual(r.predictions.count, 500)
        XCTAssertEqual(r.confusion.accuracy, r.testAccuracy)
        XCTAssertEqual(r.confusion, ConfusionMatrix(truth: d.testLabels, predicted: r.predictions, classes: 4))
    }

    /// Columns on scales 1000 and 0.001 with offsets far from zero: standardisation makes them trainable.
    func testBadlyScaledAndOffsetFeaturesAreStandardised() throws {
        let d = separable()
        func distort(_ t: Tensor) -> Tensor {
            let out = t.copy()
            for r in 0..<t.shape[0] {
                for j in 0..<20 {
                    // Offsets of up to 95 standard deviations: large, yet within float precision.
                    let scale: Float = j % 2 == 0 ? 1000 : 0.001
                    out.data[r * 20 + j] = (out.data[r * 20 + j] + 5 * Float(j)) * scale
                }
            }
            return out
        }
        let r = try LinearProbe().evaluate(train: distort(d.train), trainLabels: d.trainLabels, test: distort(d.test),
                                           testLabels: d.testLabels, classes: 4)
        XCTAssertGreaterThanOrEqual(r.trainAccuracy, 0.99)
        XCTAssertGreaterThanOrEqual(r.testAccuracy, 0.95)
    }

    func testConstantFeatureColumnDoesNotBreakTraining() throws {
        let d = separable()
        func withConstant(_ t: Tensor) -> Tensor {
            let rows = t.shape[0]
            let out = Tensor(uninitialized: [rows, 21])
            for r in 0..<rows {
                (out.data + r * 21).update(from: t.data + r * 20, count: 20)
                out.data[r * 21 + 20] = 3.25
            }
            return out
        }
        let r = try LinearProbe().evaluate(train: withConstant(d.train), trainLabels: d.trainLabels,
                                           test: withConstant(d.test), testLabels: d.testLabels, classes: 4)
        XCTAssertGreaterThanOrEqual(r.trainAccuracy, 0.99)
        XCTAssertGreaterThanOrEqual(r.testAccuracy, 0.95)
    }

    func testSameSeedGivesIdenticalPredictions() throws {
        let d = TestData.clusters(classes: 3, dims: 8, train: 600, test: 300, centreStd: 0.6, seed: 3)
        var probe = LinearProbe()
        probe.seed = 42
        probe.epochs = 10
        probe.batchSize = 32
        let a = try probe.evaluate(train: d.train, trainLabels: d.trainLabels, test: d.test, testLabels: d.testLabels, classes: 3)
        let b = try probe.evaluate(train: d.train, trainLabels: d.trainLabels, test: d.test, testLabels: d.testLabels, classes: 3)
        XCTAssertEqual(a.predictions, b.predictions)
        XCTAssertEqual(a.trainAccuracy, b.trainAccuracy)
        XCTAssertEqual(a.confusion, b.confusion)
        // Overlapping clusters: the probe is clearly above chance yet not perfect.
        XCTAssertGreaterThan(a.testAccuracy, 0.6)
    }

    func testInputsAreNotModified() throws {
        let d = separable()
        let before = (d.train.array, d.test.array)
        var probe = LinearProbe()
        probe.epochs = 2
        _ = try probe.evaluate(train: d.train, trainLabels: d.trainLabels, test: d.test, testLabels: d.testLabels, classes: 4)
        XCTAssertEqual(d.train.array, before.0)
        XCTAssertEqual(d.test.array, before.1)
    }

    func testErrorsNameTheProblem() {
        let train = Tensor(zeros: [4, 3]), test = Tensor(zeros: [2, 3])
        let y: [Int32] = [0, 1, 0, 1], yt: [Int32] = [0, 1]
        assertThrows(EvaluationError.self, "linear probe: train has 3 feature columns but test has 2") {
            try LinearProbe().evaluate(train: train, trainLabels: y, test: Tensor(zeros: [2, 2]), testLabels: yt, classes: 2)
        }
        assertThrows(EvaluationError.self, "train has 4 rows but trainLabels has 3 labels") {
            try LinearProbe().evaluate(train: train, trainLabels: [0, 1, 0], test: test, testLabels: yt, classes: 2)
        }
        assertThrows(EvaluationError.self, "testLabels[1] = 2 is outside 0..<2") {
            try LinearProbe().evaluate(train: train, trainLabels: y, test: test, testLabels: [0, 2], classes: 2)
        }
        assertThrows(EvaluationError.self, "test is empty (0 rows)") {
            try LinearProbe().evaluate(train: train, trainLabels: y, test: Tensor(zeros: [0, 3]), testLabels: [], classes: 2)
        }
        var probe = LinearProbe()
        probe.epochs = 0
        assertThrows(EvaluationError.self, "epochs must be at least 1, got 0") {
            try probe.evaluate(train: train, trainLabels: y, test: test, testLabels: yt, classes: 2)
        }
        probe = LinearProbe()
        probe.batchSize = 0
        assertThrows(EvaluationError.self, "batchSize must be at least 1, got 0") {
            try probe.evaluate(train: train, trainLabels: y, test: test, testLabels: yt, classes: 2)
        }
        probe = LinearProbe()
        probe.learningRate = -1
        assertThrows(EvaluationError.self, "learningRate must be a positive finite number, got -1.0") {
            try probe.evaluate(train: train, trainLabels: y, test: test, testLabels: yt, classes: 2)
        }
        probe = LinearProbe()
        probe.weightDecay = -1
        assertThrows(EvaluationError.self, "weightDecay must be a non-negative finite number, got -1.0") {
            try probe.evaluate(train: train, trainLabels: y, test: test, testLabels: yt, classes: 2)
        }
        assertThrows(EvaluationError.self, "train has a non-finite value (inf) at row 0, column 2") {
            try LinearProbe().evaluate(train: Tensor(shape: [1, 3], values: [0, 0, .infinity]), trainLabels: [0],
                                       test: test, testLabels: yt, classes: 2)
        }
    }
}
