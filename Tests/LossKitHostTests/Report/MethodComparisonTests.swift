import Foundation
import LossKitHost
import LossKitRun
import LossKitTestSupport
import XCTest

/// The report's "methods over seeds" table: which runs are one method, and each against `ce`.
final class MethodComparisonTests: XCTestCase {
    private func config(_ loss: String, seed: Int, _ extra: [String: Any] = [:]) -> [String: Any] {
        ["loss": loss, "seed": seed, "steps": 4700, "learning_rate": 0.05, "threads": 1, "log_every": 50].merging(extra) { $1 }
    }

    func testRunsDifferingOnlyInSeedAreOneMethodComparedWithCeSeedBySeed() throws {
        let c = MethodComparison(runs: [
            (config("ce + 1*aet", seed: 0), 0.75), (config("ce+1*aet", seed: 1, ["threads": 2, "log_every": 10]), 0.77),
            (config("ce + 1*aet", seed: 2), 0.76),
            (config("ce", seed: 0), 0.70), (config("ce", seed: 1), 0.72), (config("ce", seed: 2), 0.68),
            (config("ce + 0.3*sc", seed: 0), 0.69), (config("ce + 0.3*sc", seed: 1), 0.73),
            (config("ce + 0.3*sc", seed: 0, ["learning_rate": 0.015]), 0.71),
            (config("sc", seed: 0), nil),   // no head accuracy: left out
        ])
        XCTAssertEqual(c.methods.count, 4, "threads, logging and spacing do not make another method; a learning rate does: \(c.methods.map(\.label))")
        XCTAssertEqual(c.methods[2].label, "ce + 0.3*sc (learning_rate 0.05)", "the label names the setting that tells the two apart")
        XCTAssertEqual(c.methods[3].label, "ce + 0.3*sc (learning_rate 0.015)")
        XCTAssertEqual(c.baseline, 1, "ce alone is the baseline wherever it is in the list")
        let aet = c.methods[0], ce = c.methods[1], sc = c.methods[2]
        XCTAssertEqual(aet.accuracies, [0: 0.75, 1: 0.77, 2: 0.76])
        XCTAssertEqual(ce.mean, 0.70, accuracy: 1e-12)
        XCTAssertEqual(ce.range, 0.04, accuracy: 1e-12)
        let d = c.differences(aet)
        XCTAssertEqual(d.map(\.seed), [0, 1, 2])
        for (got, want) in zip(d.map(\.difference), [0.05, 0.05, 0.08]) { XCTAssertEqual(got, want, accuracy: 1e-12) }
        XCTAssertEqual(c.beyondSpread(aet), true, "+6 points on the mean against ce's range of 4")
        XCTAssertEqual(c.beyondSpread(sc), false, "+0 points")
        XCTAssertNil(c.beyondSpread(c.methods[3]), "one seed: no spread to compare with")
        XCTAssertEqual(c.differences(c.methods[3]).map(\.seed), [0])
    }

    func testTwoRunsOfOneSeedAreBothKeptAndAnOlderConfigIsTheSameMethod() {
        // an older run's config lacks later settings (here sync_bn); with its default it is the same method
        let newer = config("ce", seed: 0, ["sync_bn": false])
        let c = MethodComparison(runs: [(config("ce", seed: 0), 0.70), (newer.merging(["threads": 2]) { $1 }, 0.72)])
        XCTAssertEqual(c.methods.count, 1)
        XCTAssertEqual(c.methods[0].runs[0], [0.70, 0.72])
        XCTAssertEqual(c.methods[0].accuracies[0] ?? 0, 0.71, accuracy: 1e-12)
    }

    func testFineTuningIsToldByItsPretrainingAndIsNotTheBaseline() throws {
        func pretraining(_ loss: String) throws -> String {
            let folder = try TemporaryFolders.make("pretraining")
            try Data(JSONSerialization.data(withJSONObject: config(loss, seed: 0, ["labelled_per_batch": 0]))).write(to: URL(fileURLWithPath: RunFolder(folder).config))
            return folder
        }
        // a pretraining per seed: the fine-tuning runs are one method all the same
        let runs: [([String: Any], Double?)] = try [
            (config("ce", seed: 0, ["init_from": pretraining("sc")]), 0.72), (config("ce", seed: 1, ["init_from": pretraining("sc")]), 0.74),
            (config("ce", seed: 0), 0.70), (config("ce", seed: 1), 0.71),
        ]
        let c = MethodComparison(runs: runs)
        XCTAssertEqual(c.methods.map(\.label), ["ce (init_from a run of 'sc', 4700 steps)", "ce (init_from none)"])
        XCTAssertEqual(c.baseline, 1, "ce trained from scratch, not the fine-tuned one")
        XCTAssertEqual(c.differences(c.methods[0]).map(\.difference).reduce(0, +), 0.05, accuracy: 1e-12)
    }

    func testWithoutCeTheFirstMethodIsTheBaseline() {
        let c = MethodComparison(runs: [(config("ce + 0.5*swwae", seed: 0), 0.7), (config("ce + 1*aet", seed: 0), 0.8)])
        XCTAssertEqual(c.baseline, 0)
        XCTAssertEqual(c.differences(c.methods[1]).first?.difference ?? 0, 0.1, accuracy: 1e-12)
        XCTAssertNil(MethodComparison(runs: [(config("nce", seed: 0), nil)]).baseline, "nothing to compare")
    }
}
