import Foundation
import LossKitHost
import LossKitLossExpression
import LossKitRun
import XCTest

/// The config holds its loss expression parsed, from the moment `loss` is set or decoded, so
/// the trainer, resume checks, evaluation and the report read one tree; and every setting,
/// declared once, is written and read back as it was.
final class TrainingConfigTests: XCTestCase {
    /// Every setting away from its default, optional ones absent and present: what config.json
    /// holds reads back as the same config, and holds exactly the declared keys.
    func testEverySettingIsWrittenAndReadBack() throws {
        var c = TrainingConfig()
        c.data = "idx:/data"; c.encoder = "convnet-s(width=0.5)"; c.loss = "ce + 0.5*nce"; c.labelsPerClass = nil
        c.batchSize = 64; c.labelledPerBatch = 7; c.steps = 9; c.optimizer = "adam"; c.learningRate = 0.001; c.momentum = 0.8
        c.nesterov = false; c.weightDecay = 0; c.schedule = "step"; c.warmupSteps = 3; c.stepEvery = 4; c.stepGamma = 0.5
        c.seed = 11; c.threads = 1; c.cropPadding = 0; c.horizontalFlip = true; c.cropScale = 0.2; c.jitter = 0.4
        c.checkpointEvery = 5; c.logEvery = 6; c.evalEvery = 7; c.knnEvery = 8; c.initFrom = "runs/pre"; c.syncBatchNorm = true
        for labels in [nil, 10] as [Int?] {
            c.labelsPerClass = labels
            let json = try c.json()
            XCTAssertEqual(try JSONDecoder().decode(TrainingConfig.self, from: json), c)
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: json) as? [String: Any])
            XCTAssertEqual(Set(object.keys), Set(TrainingConfig.keys))
        }
        XCTAssertEqual(TrainingConfig.keys.count, Set(TrainingConfig.keys).count, "each key declared once")
    }

    /// An all-labels run wrote no labels_per_class, which read back as 100 labels per class: such
    /// a run could not be resumed ("other settings than it was trained with (labels_per_class)").
    func testAnAllLabelsRunResumes() throws {
        let data = try SyntheticData.makeFolder(train: 40, test: 8)
        let run = SyntheticData.runFolder()
        defer { try? FileManager.default.removeItem(atPath: data); try? FileManager.default.removeItem(atPath: run) }
        let args = ["train", "--data", "idx:" + data, "--encoder", "convnet-s(width=0.25)", "--all-labels", "--batch-size", "8",
                    "--threads", "1", "--out", run]
        let (first, out1) = PluginFixtures.losskit(args + ["--steps", "2"])
        XCTAssertEqual(first, 0, out1)
        let (second, out2) = PluginFixtures.losskit(args + ["--steps", "3", "--resume"])
        XCTAssertEqual(second, 0, out2)
        XCTAssertTrue(out2.contains("(all labels)"), out2)
    }

    func testTheParsedLossFollowsTheTextAndItsDecoding() throws {
        var c = TrainingConfig()
        XCTAssertEqual(try c.lossExpression().description, "ce")
        c.loss = "ce + 0.5*nce(negatives=0)[until=100]"
        XCTAssertEqual(try c.lossExpression(), try LossExpression.parse(c.loss))
        XCTAssertTrue(c.trainsTheHead)
        c.loss = "0*ce + nce"
        XCTAssertFalse(c.trainsTheHead, "a ce of weight 0 trains nothing")

        let decoded = try JSONDecoder().decode(TrainingConfig.self, from: Data(#"{"loss": "sc@conv4 + ce"}"#.utf8))
        XCTAssertEqual(try decoded.lossExpression().terms.map(\.plugin), ["sc", "ce"])
        XCTAssertEqual(decoded, try JSONDecoder().decode(TrainingConfig.self, from: try decoded.json()))
    }

    func testALossThatDoesNotParseKeepsItsErrorWithTheCaret() {
        var c = TrainingConfig()
        c.loss = "ce + "
        XCTAssertThrowsError(try c.lossExpression()) { error in
            var direct: LossExpressionError?
            do throws(LossExpressionError) { _ = try LossExpression.parse("ce + ") } catch { direct = error }
            XCTAssertEqual(error as? LossExpressionError, direct)
            XCTAssertTrue("\(error)".contains("^"), "\(error)")
        }
        XCTAssertFalse(c.trainsTheHead)
    }

    /// The flags' help is the settings' declared help: each setting that has a flag shows its
    /// own line in `losskit train --help` (the config-file-only ones have none).
    func testTheFlagsHelpComesFromTheDeclarations() throws {
        _ = try BuiltPlugins.executable()
        let (status, help) = PluginFixtures.losskit(["train", "--help"])
        XCTAssertEqual(status, 0, help)
        let flat = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let fileOnly: Set = ["nesterov", "step_every", "step_gamma"]
        for key in TrainingConfig.keys where !fileOnly.contains(key) {
            let line = TrainingConfig.help(key).split(whereSeparator: \.isWhitespace).joined(separator: " ")
            XCTAssertTrue(flat.contains(line), "\(key): '\(line)' is not in --help")
        }
    }

    /// validate() refuses with the declaration's message, for a setting of each kind.
    func testValidationIsTheDeclarationsCheck() {
        for (change, message) in [({ (c: inout TrainingConfig) in c.steps = 0 }, "steps must be ≥ 1, got 0"),
                                  ({ $0.optimizer = "rmsprop" }, "optimizer must be sgd or adam, got 'rmsprop'"),
                                  ({ $0.labelsPerClass = 0 }, "labels per class must be ≥ 1"),
                                  ({ $0.labelledPerBatch = 200 }, "labelled rows per batch must be in 0...128, got 200")] {
            var c = TrainingConfig()
            change(&c)
            XCTAssertThrowsError(try c.validate()) { XCTAssertEqual("\($0)", message) }
        }
        XCTAssertNoThrow(try TrainingConfig().validate())
    }
}
