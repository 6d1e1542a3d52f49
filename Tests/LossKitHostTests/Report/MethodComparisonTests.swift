import Foundation
@testable import LossKitHost
import LossKitRun
import LossKitTestSupport
import XCTest

/// The report's "methods over seeds" table: which runs are one method, and each against `ce`.
final class MethodComparisonTests: XCTestCase {
    private func config(_ loss: String, seed: Int, _ extra: [String: Any] = [:]) -> [String: Any] {
        ["loss": loss, "seed": seed, "steps": 4700, "learning_rate": 0.05, "threads": 1, "log_every": 50].merging(extra) { $1 }
    }

    /// Runs without a plugins record.
    private func compare(_ runs: [([String: Any], Double?)]) -> MethodComparison {
        MethodComparison(runs: runs.map { ($0.0, nil, $0.1) })
    }

    func testRunsDifferingOnlyInSeedAreOneMethodComparedWithCeSeedBySeed() throws {
        let c = compare([
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
        let c = compare([(config("ce", seed: 0), 0.70), (newer.merging(["threads": 2]) { $1 }, 0.72)])
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
        let c = compare(runs)
        XCTAssertEqual(c.methods.map(\.label), ["ce (init_from a run of 'sc', 4700 steps)", "ce (init_from none)"])
        XCTAssertEqual(c.baseline, 1, "ce trained from scratch, not the fine-tuned one")
        XCTAssertEqual(c.differences(c.methods[0]).map(\.difference).reduce(0, +), 0.05, accuracy: 1e-12)
    }

    func testWithoutCeTheFirstMethodIsTheBaseline() {
        let c = compare([(config("ce + 0.5*swwae", seed: 0), 0.7), (config("ce + 1*aet", seed: 0), 0.8)])
        XCTAssertEqual(c.baseline, 0)
        XCTAssertEqual(c.differences(c.methods[1]).first?.difference ?? 0, 0.1, accuracy: 1e-12)
        XCTAssertNil(compare([(config("nce", seed: 0), nil)]).baseline, "nothing to compare")
    }

    func testAnotherPluginVersionIsAnotherMethodUnlessMerged() {
        // GAN 1.2.0 and 1.3.0 under one config compute differently (#30): two methods, each told by its version
        let loss = "ce + 0.5*gan(mode=semi, minibatch_kernels=100)"
        func versions(_ gan: String) -> [String: String] { ["convnet-s": "1.1.0", "gan": gan] }
        let runs: [([String: Any], [String: String]?, Double?)] = [
            (config("ce", seed: 0), ["convnet-s": "1.1.0"], 0.70), (config("ce", seed: 1), ["convnet-s": "1.1.0"], 0.72),
            (config(loss, seed: 0), versions("1.2.0"), 0.62), (config(loss, seed: 1), versions("1.2.0"), 0.60),
            (config(loss, seed: 0), versions("1.3.0"), 0.71), (config(loss, seed: 1), versions("1.3.0"), 0.75),
        ]
        let split = MethodComparison(runs: runs)
        XCTAssertEqual(split.methods.map(\.label), ["ce", loss + " (plugin gan 1.2.0)", loss + " (plugin gan 1.3.0)"],
                       "the label names the version that differs, not the encoder's, which is the same")
        XCTAssertEqual(split.methods[1].accuracies, [0: 0.62, 1: 0.60])
        XCTAssertEqual(split.methods[2].accuracies, [0: 0.71, 1: 0.75])
        XCTAssertEqual(split.baseline, 0)
        XCTAssertTrue(split.html { $0 }.contains("another version of a plugin is another method"))
        let merged = MethodComparison(runs: runs, mergingVersions: .all)
        XCTAssertEqual(merged.methods.map(\.label), ["ce", loss])
        XCTAssertEqual(merged.methods[1].runs[0], [0.62, 0.71], "two runs of seed 0, both kept")
        XCTAssertTrue(merged.html { $0 }.contains("plugin versions are not compared"))
        // an encoder's version splits a method as well, ce included; merging another plugin's does not join them
        let encoderRuns: [([String: Any], [String: String]?, Double?)] = [(config("ce", seed: 0), ["convnet-s": "1.0.0"], 0.70),
                                                                          (config("ce", seed: 1), ["convnet-s": "1.1.0"], 0.72)]
        XCTAssertEqual(MethodComparison(runs: encoderRuns, mergingVersions: .plugins(["gan"])).methods.map(\.label),
                       ["ce (plugin convnet-s 1.0.0)", "ce (plugin convnet-s 1.1.0)"])
        let encoderMerged = MethodComparison(runs: encoderRuns, mergingVersions: .plugins(["convnet-s"]))
        XCTAssertEqual(encoderMerged.methods.map(\.label), ["ce"])
        XCTAssertTrue(encoderMerged.html { $0 }.contains("except for <code>convnet-s</code>"))
        // the encoder's versions merged, GAN's compared: the rows GAN 1.2.0 and 1.3.0 stay apart
        var mixed = runs
        mixed[4].1 = ["convnet-s": "1.0.0", "gan": "1.3.0"]
        XCTAssertEqual(MethodComparison(runs: mixed, mergingVersions: .plugins(["convnet-s"])).methods.map(\.label),
                       ["ce", loss + " (plugin gan 1.2.0)", loss + " (plugin gan 1.3.0)"])
    }

    func testAFineTunedRunIsLabelledByItsPretrainingAlsoWithoutARunFromScratch() throws {
        let folder = try TemporaryFolders.make("pretraining")
        try Data(JSONSerialization.data(withJSONObject: config("nce", seed: 0, ["labelled_per_batch": 0]))).write(to: URL(fileURLWithPath: RunFolder(folder).config))
        let c = compare([(config("ce", seed: 0), 0.70), (config("ce + 1*aet", seed: 0, ["init_from": folder]), 0.73),
                         (config("ce + 1*aet", seed: 1, ["init_from": folder]), 0.74)])
        XCTAssertEqual(c.methods.map(\.label), ["ce", "ce + aet (init_from a run of 'nce', 4700 steps)"],
                       "no ce + aet from scratch among the runs, and still not labelled as one")
        XCTAssertEqual(c.baseline, 0)
        XCTAssertEqual(compare([(config("ce", seed: 0), 0.7), (config("ce", seed: 0, ["init_from": NSNull()]), 0.7)]).methods.map(\.label), ["ce"],
                       "init_from null is a run from scratch")
    }
}
