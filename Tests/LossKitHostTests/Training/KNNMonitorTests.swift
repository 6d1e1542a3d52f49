import Foundation
import LossKitCore
import LossKitHost
import LossKitRun
import LossKitTraining
import XCTest

/// `knn_every`: the kNN accuracy of the encoder's features, measured while training runs.
final class KNNMonitorTests: XCTestCase {
    private func knnLines(_ t: Trainer) throws -> [(step: Int, accuracy: Double)] {
        try MetricsLog.read(t.runDirectory + "/metrics.jsonl").compactMap { line in
            guard let s = line["step"] as? Int, let v = (line["eval"] as? [String: Any])?["knn_accuracy"] as? Double else { return nil }
            return (s, v)
        }
    }

    func testKNNDuringTrainingIsLoggedAndLeavesTheRunUnchanged() throws {
        let h = try MethodHarness(plugins: ["NCE"], data: try SyntheticData.makeFolder())
        var config = h.config(loss: "ce + 0.5*nce(negatives=16)", steps: 5)
        let (plain, _) = try h.train(config)
        config.knnEvery = 2
        config.evalEvery = 4
        let (monitored, _) = try h.train(config)

        // evaluation mode draws no random numbers and moves no statistics: the same run
        for (a, b) in zip(plain.parameters, monitored.parameters) { XCTAssertEqual(a.value.array, b.value.array, "parameter \(a.name)") }
        for (a, b) in zip(plain.states, monitored.states) { XCTAssertEqual(a.value.array, b.value.array, "state \(a.name)") }

        let knn = try knnLines(monitored)
        XCTAssertEqual(knn.map(\.step), [2, 4, 5], "every 2 steps and at the end")
        XCTAssertEqual(knn.last!.accuracy, try monitored.knnAccuracy(), "the last entry is the finished encoder's")
        XCTAssertEqual(monitored.lastKNNAccuracy, knn.last!.accuracy)
        XCTAssertTrue(try knnLines(plain).isEmpty, "off by default")
        let both = try MetricsLog.read(monitored.runDirectory + "/metrics.jsonl").compactMap { $0["eval"] as? [String: Any] }
        XCTAssertEqual(both.map { $0.keys.sorted() }, [["knn_accuracy"], ["knn_accuracy", "test_accuracy"], ["knn_accuracy", "test_accuracy"]],
                       "a step with both evaluations writes one line from one pass over the test set")
    }

    func testKNNOfASupervisedEncoderFindsTheGeneratedClasses() throws {
        let h = try MethodHarness(plugins: [], data: try SyntheticData.makeFolder())
        var config = SyntheticData.config(data: h.data, steps: 40)
        config.labelsPerClass = nil
        config.learningRate = 0.1
        config.knnEvery = 20
        let (t, _) = try h.train(config)
        let knn = try knnLines(t)
        XCTAssertEqual(knn.map(\.step), [20, 40])
        XCTAssertGreaterThan(knn.last!.accuracy, 0.9, "4 well-separated blob classes, learnt with all labels: \(knn)")
    }

    func testANegativeKNNIntervalIsRefusedBeforeTraining() throws {
        let h = try MethodHarness(plugins: [], data: try SyntheticData.makeFolder())
        var config = h.config(loss: "ce", steps: 1)
        config.knnEvery = -1
        XCTAssertThrowsError(try h.make(config)) { XCTAssertEqual("\($0)", "kNN interval must be ≥ 0 (0: never), got -1") }
    }
}
