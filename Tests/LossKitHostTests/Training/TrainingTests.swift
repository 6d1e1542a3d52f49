import Foundation
import LossKitCore
import LossKitFormats
import LossKitHost
import LossKitPlugins
import LossKitRun
import LossKitTestSupport
import LossKitTraining
import XCTest

/// End to end on a generated IDX set: train, checkpoint, resume, and each way a run can go wrong.
final class TrainingTests: XCTestCase {
    private var data = ""
    private var pluginFolder = ""
    private var loader = PluginLoader()

    override func setUpWithError() throws {
        data = try SyntheticData.makeFolder()
        pluginFolder = try BuiltPlugins.folder(["ConvNet", "NCE"])
        try PluginFixtures.build("nan_at_step", into: pluginFolder)
        loader = PluginLoader()
        loader.load(searchPath: [pluginFolder])
        XCTAssertTrue(loader.rejected.isEmpty, "\(loader.rejected)")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: data)
        try? FileManager.default.removeItem(atPath: pluginFolder)
    }

    private func trainer(_ config: TrainingConfig, _ out: String, resume: Bool = false) throws -> Trainer {
        try Trainer(config: config, runDirectory: out, loader: loader, resume: resume, log: { _ in })
    }

    func testResumingFromACheckpointGivesTheUninterruptedRunsParameters() throws {
        // NCE's memory bank and Z are plugin state: they must come back too
        let config = SyntheticData.config(data: data, loss: "ce + 0.5*nce(negatives=32)", steps: 6)
        let whole = try trainer(config, SyntheticData.runFolder())
        try whole.train()

        let out = SyntheticData.runFolder()
        let first = try trainer(config, out)
        XCTAssertNil(try first.train(stopAfter: 3), "stopped early, as a killed run")
        let resumed = try trainer(config, out, resume: true)
        XCTAssertEqual(resumed.step, 3)
        try resumed.train()

        for (a, b) in zip(whole.parameters, resumed.parameters) {
            XCTAssertEqual(a.name, b.name)
            XCTAssertEqual(a.value.array, b.value.array, "parameter \(a.name) differs after resume")
        }
        for (a, b) in zip(whole.states, resumed.states) {
            XCTAssertEqual(a.value.array, b.value.array, "state \(a.name) differs after resume")
        }
        let lines = try MetricsLog.read(out + "/metrics.jsonl").compactMap { $0["loss"] != nil ? $0["step"] as? Int : nil }
        XCTAssertEqual(lines, [1, 2, 3, 4, 5, 6], "the resumed log reads as one run")
        let seconds = try MetricsLog.read(out + "/metrics.jsonl").compactMap { $0["loss"] != nil ? $0["seconds"] as? Double : nil }
        XCTAssertEqual(seconds, seconds.sorted(), "the clock goes on across the resume: \(seconds)")
        // a resumed run may run longer, but not drop a term (its bank would be lost unsaid)
        var changed = config
        changed.loss = "ce"
        changed.learningRate = 0.1
        XCTAssertThrowsError(try trainer(changed, out, resume: true)) {
            XCTAssertTrue("\($0)".hasPrefix("resuming \(out) with other settings than it was trained with (learning_rate, loss); "), "\($0)")
        }
        var spaced = config
        spaced.loss = "ce+0.5 * nce(negatives = 32)"
        spaced.threads = 2
        XCTAssertNoThrow(try trainer(spaced, out, resume: true), "the same loss written otherwise, another thread count")
        // resuming the finished run trains nothing and logs its last evaluation only once
        let again = try trainer(config, out, resume: true)
        XCTAssertNotNil(try again.train())
        let evals = try MetricsLog.read(out + "/metrics.jsonl").filter { $0["eval"] != nil }
        XCTAssertEqual(evals.count, 1, "\(evals)")
    }

    func testSameSeedGivesTheSameRunAndTheCheckpointLoadsBack() throws {
        let config = SyntheticData.config(data: data, steps: 3)
        let a = try trainer(config, SyntheticData.runFolder()), b = try trainer(config, SyntheticData.runFolder())
        try a.train()
        try b.train()
        XCTAssertEqual(a.parameters.flatMap { $0.value.array }, b.parameters.flatMap { $0.value.array })
        let saved = try SafeTensorsFile.read(path: a.checkpointPath)
        XCTAssertEqual(try saved.floats("head.weight"), a.run.model.headWeight.value.array)
        XCTAssertNotNil(saved["encoder.conv1.weight"])
        XCTAssertNotNil(saved["encoder.bn1.running_mean"])
    }

    func testANonFiniteTermStopsTrainingNamingItAndKeepsTheLastGoodCheckpoint() throws {
        var config = SyntheticData.config(data: data, loss: "ce + nan-at-step(step=5)", steps: 8)
        config.checkpointEvery = 3
        let out = SyntheticData.runFolder()
        let t = try trainer(config, out)
        XCTAssertThrowsError(try t.train()) { error in
            XCTAssertEqual("\(error)", "step 5: term 'nan-at-step' is NaN; training stopped before applying it — the last good checkpoint is kept at \(out)/checkpoint.safetensors")
        }
        XCTAssertEqual(try Checkpoint.read(path: out + "/checkpoint.safetensors").step, 3)
    }

    func testLossExpressionMistakesAreReportedBeforeStepOne() throws {
        func message(_ loss: String) -> String {
            var c = SyntheticData.config(data: data)
            c.loss = loss
            do {
                _ = try trainer(c, SyntheticData.runFolder())
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(message("ce + 0.5*ncee").contains("unknown objective 'ncee' — did you mean 'nce'?"), message("ce + 0.5*ncee"))
        XCTAssertTrue(message("ce + nce@conv9").contains("tap 'conv9' is not offered by the encoder"), message("ce + nce@conv9"))
        XCTAssertTrue(message("ce + 0..5*nce").contains("^"), "errors point at the character: \(message("ce + 0..5*nce"))")
        XCTAssertTrue(message("ce +").contains("expected a term after '+'"), message("ce +"))
        XCTAssertEqual(message("ce + nce(tau=-1)"), "nce(tau=-1): tau must be > 0, got -1.0")
        XCTAssertEqual(message("ce + nce(hidden=-1)"), "nce(hidden=-1): hidden must be in [0, 8192], got -1")
        XCTAssertEqual(message("ce + nce(views=3)"), "nce(views=3): views must be in [1, 2], got 3")
        XCTAssertEqual(message("ce + nce(taus=1)"), "nce has no option 'taus' (options: dim, tau, negatives, momentum, proximal, hidden, views)")
    }

    func testATermSwitchedOffByItsScheduleIsNotComputedAndItsPluginStaysStill() throws {
        let t = try trainer(SyntheticData.config(data: data, loss: "ce + 0.5*nce(negatives=32)[until=2]", steps: 4), SyntheticData.runFolder())
        let nce = t.parameters.filter { $0.name.hasPrefix("nce.") }.map(\.value) + t.states.filter { $0.name.hasPrefix("nce.") }.map(\.value)
        XCTAssertFalse(nce.isEmpty)
        for _ in 0..<2 { XCTAssertEqual(try t.trainStep().values.map(\.label), ["ce", "nce"]) }
        let atTwo = nce.map(\.array), encoderAtTwo = t.run.model.parameters.map(\.value.array)
        for _ in 2..<4 {
            let outcome = try t.trainStep()
            XCTAssertEqual(outcome.values.map(\.label), ["ce"], "nce is off after step 2")
            XCTAssertEqual(outcome.weights, ["ce": 1])
        }
        XCTAssertEqual(nce.map(\.array), atTwo, "nce's projection, bank and Z neither stepped nor decayed")
        XCTAssertNotEqual(t.run.model.parameters.map(\.value.array), encoderAtTwo, "while the encoder trained on ce")
    }

    func testAWarmingUpAndDecayingTermIsWeightedByItsFactorAndTheWeightsAreLogged() throws {
        let out = SyntheticData.runFolder()
        let t = try trainer(SyntheticData.config(data: data, loss: "ce + 0.5*nce(negatives=32)[from=1, until=6, warmup=4, decay=2]", steps: 7), out)
        try t.train()
        let lines = try MetricsLog.read(out + "/metrics.jsonl").filter { $0["loss"] != nil }
        XCTAssertEqual(lines.count, 7)
        let weights = lines.map { ($0["weights"] as? [String: Double])?["nce"] }
        XCTAssertEqual(weights, [nil, 0.125, 0.25, 0.375, 0.5, 0.25, nil], "up over four steps, down over the last two")
        let probed = lines.map { ($0["probes"] as? [String: Double])?.keys.contains { $0.hasPrefix("nce.") } }
        XCTAssertEqual(probed, [false, true, true, true, true, true, false], "an off term's probes are not logged")
        for line in lines {
            let terms = try XCTUnwrap(line["terms"] as? [String: Double]), w = try XCTUnwrap(line["weights"] as? [String: Double])
            let loss = try XCTUnwrap(line["loss"] as? Double)
            XCTAssertEqual(loss, terms.reduce(0) { $0 + $1.value * w[$1.key]! }, accuracy: 1e-9 * max(1, abs(loss)))
        }
    }

    /// Stands for evaluations and checkpoints: work between steps that is not training.
    private final class SlowObserver: TrainingObserver {
        func stepFinished(_ progress: TrainingProgress) { Thread.sleep(forTimeInterval: 0.4) }
        func message(_ text: String) {}
    }

    func testTheLoggedRateCountsTheStepsOwnTimeNotWorkBetweenThem() throws {
        let out = SyntheticData.runFolder()
        let t = try trainer(SyntheticData.config(data: data, steps: 4), out)
        let observer = SlowObserver()
        t.observer = observer
        try t.train()
        let lines = try MetricsLog.read(out + "/metrics.jsonl").filter { $0["loss"] != nil }
        XCTAssertEqual(lines.count, 4)
        for line in lines.dropFirst() {
            // 16 images per step: 0.4 s between steps would have read ≤ 40 images/s
            let rate = try XCTUnwrap(line["images_per_s"] as? Double)
            XCTAssertGreaterThan(rate, 16 / 0.2, "a step of the tiny encoder takes well under 0.2 s")
        }
    }

    func testSchedulesThatLeaveAStepWithoutTermsAreRefusedBeforeStepOne() throws {
        for (loss, step) in [("ce[until=2] + nce(negatives=32)[from=3]", 3), ("ce[from=2] + nce(negatives=32)[from=1, until=4]", 1),
                             ("ce[until=3] + nce(negatives=32)[from=1, until=5]", 6)] {
            XCTAssertThrowsError(try trainer(SyntheticData.config(data: data, loss: loss, steps: 6), SyntheticData.runFolder())) {
                XCTAssertEqual("\($0)", "no term of the loss '\(loss)' is on at step \(step): the schedules in [ ] leave it empty (--steps is 6)")
            }
        }
        XCTAssertThrowsError(try trainer(SyntheticData.config(data: data, loss: "ce + nce(negatives=32)[from=6]", steps: 6), SyntheticData.runFolder())) {
            XCTAssertEqual("\($0)", "term 'nce' is never on: its schedule starts at step 6 but the run has 6 steps (--steps)")
        }
        // intervals that meet leave no gap, and steps past --steps do not count
        _ = try trainer(SyntheticData.config(data: data, loss: "ce[until=3] + nce(negatives=32)[from=3, until=6]", steps: 6), SyntheticData.runFolder())
    }

    func testACorruptOrTruncatedCheckpointIsRefusedOnResume() throws {
        let config = SyntheticData.config(data: data, steps: 3)
        let out = SyntheticData.runFolder()
        try trainer(config, out).train()
        let path = out + "/checkpoint.safetensors"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try trainer(config, out, resume: true)) { XCTAssertTrue("\($0)".contains("truncated"), "\($0)") }
        try Data("not a checkpoint at all".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try trainer(config, out, resume: true)) { XCTAssertTrue("\($0)".contains(path), "\($0)") }
    }

    func testTheRunFolderRecordsEachSegmentsCPUPathAndAResumeOnAnotherSaysSo() throws {
        var config = SyntheticData.config(data: data, steps: 4)
        config.checkpointEvery = 2
        let out = SyntheticData.runFolder()
        XCTAssertNil(try trainer(config, out).train(stopAfter: 2))
        let first = try XCTUnwrap(RunMachine.read(folder: out))
        XCTAssertEqual(first.segments, [RunMachine.Segment.current(fromStep: 0, threads: config.threads, ranks: 1)])
        XCTAssertEqual(first.segments[0].kernels, KernelPath.choice.instructionSet.rawValue)
        XCTAssertEqual(first.segments[0].blasCore, BLASCore.running)

        // the same path: nothing said, a second segment from the checkpoint's step
        var said: [String] = []
        _ = try Trainer(config: config, runDirectory: out, loader: loader, resume: true, log: { said.append($0) })
        XCTAssertFalse(said.contains { $0.contains("CPU path") }, "\(said)")
        XCTAssertEqual(RunMachine.read(folder: out)?.segments.map(\.fromStep), [0, 2])

        // the run as if it had computed on another core, kernels and Winograd choice: the
        // resume says which, and replaces the segment of the resume that made no checkpoint
        var other = first
        other.segments[0].blasCore = "Prescott"
        other.segments[0].kernels = "baseline-elsewhere"
        other.segments[0].winogradF4From = Graph.winogradLargeTileMinOutputSide == 16 ? nil : 16
        try other.write(folder: out)
        config.threads += 1
        said = []
        _ = try Trainer(config: config, runDirectory: out, loader: loader, resume: true, log: { said.append($0) })
        let line = try XCTUnwrap(said.first { $0.contains("CPU path") }, "\(said)")
        XCTAssertTrue(line.contains("resuming at step 2") && line.contains("OpenBLAS core Prescott → \(BLASCore.running)")
                      && line.contains("engine kernels baseline-elsewhere → ") && line.contains("Winograd ")
                      && line.contains("threads \(config.threads - 1) → \(config.threads)") && line.contains("bit for bit"), line)
        let now = try XCTUnwrap(RunMachine.read(folder: out))
        XCTAssertEqual(now.segments.map(\.fromStep), [0, 2])
        XCTAssertEqual(now.segments[0].blasCore, "Prescott", "the earlier segment is kept as it was")
        XCTAssertEqual(now.segments[1].threads, config.threads)

        // a damaged record does not stop a resume: a new one starts
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: RunFolder(out).machine))
        said = []
        let resumed = try Trainer(config: config, runDirectory: out, loader: loader, resume: true, log: { said.append($0) })
        XCTAssertFalse(said.contains { $0.contains("CPU path") }, "\(said)")
        XCTAssertEqual(RunMachine.read(folder: out)?.segments.map(\.fromStep), [2])
        try resumed.train()
        XCTAssertEqual(resumed.step, 4)
    }

    func testAnExistingRunIsNotOverwrittenWithoutResume() throws {
        let config = SyntheticData.config(data: data, steps: 1)
        let out = SyntheticData.runFolder()
        try trainer(config, out).train()
        XCTAssertThrowsError(try trainer(config, out)) {
            XCTAssertEqual("\($0)", "\(out) already holds a run: pass --resume to continue it, or choose another --out")
        }
    }

    func testAMissingDataSetNamesTheAptPackage() {
        var c = SyntheticData.config(data: data)
        c.data = "fashion-mnist:/nonexistent/fashion"
        XCTAssertThrowsError(try trainer(c, SyntheticData.runFolder())) {
            XCTAssertTrue("\($0)".contains("apt-get install dataset-fashion-mnist"), "\($0)")
        }
    }

    func testExperimentFileSetsTheConfigAndRejectsUnknownKeys() throws {
        let path = TemporaryFolders.path("exp", suffix: ".yaml")
        try "loss: ce + 0.5*nce(views=2)[from=5, until=40]\nsteps: 42\nlabels_per_class: 7\nhorizontal_flip: true\n".write(toFile: path, atomically: true, encoding: .utf8)
        let c = try ExperimentFile.load(path: path)
        XCTAssertEqual(c.loss, "ce + 0.5*nce(views=2)[from=5, until=40]", "a schedule needs no YAML quotes")
        XCTAssertEqual(c.steps, 42)
        XCTAssertEqual(c.labelsPerClass, 7)
        XCTAssertTrue(c.horizontalFlip)
        XCTAssertEqual(c.batchSize, 128, "unset keys keep their defaults")
        try "los: ce\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ExperimentFile.load(path: path)) { XCTAssertTrue("\($0)".contains("unknown setting 'los'"), "\($0)") }
        try "steps: many\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ExperimentFile.load(path: path)) { XCTAssertTrue("\($0)".contains("'steps' has the wrong type"), "\($0)") }
    }

    func testAnExperimentFileSettingOnlyTheBatchSizeGetsAQuarterOfItLabelled() throws {
        let path = TemporaryFolders.path("exp", suffix: ".yaml")
        try "batch_size: 16\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ExperimentFile.load(path: path).labelledPerBatch, 4, "once the default 32, more rows than the batch")
        try "batch_size: 16\nlabelled_per_batch: 9\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ExperimentFile.load(path: path).labelledPerBatch, 9)
    }

    func testOptimiserSettingsOutOfRangeAreRefused() {
        func message(_ change: (inout TrainingConfig) -> Void) -> String {
            var c = TrainingConfig()
            change(&c)
            do { try c.validate(); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(message { $0.stepGamma = -1 }, "step_gamma must be > 0 (a negative one would flip the learning rate's sign), got -1.0")
        XCTAssertEqual(message { $0.stepEvery = 0 }, "step_every must be ≥ 1, got 0")
        XCTAssertEqual(message { $0.optimizer = "adam"; $0.momentum = 5 }, "momentum (Adam's beta1) must be in [0, 1), got 5.0")
        XCTAssertEqual(message { $0.momentum = 1 }, "momentum (SGD's) must be in [0, 1), got 1.0")
        XCTAssertEqual(message { $0.weightDecay = .nan }, "weight decay must be ≥ 0, got nan")
        XCTAssertEqual(message { $0.warmupSteps = -2 }, "warm-up steps must be ≥ 0, got -2")
        XCTAssertEqual(message { $0.momentum = 0; $0.stepGamma = 2 }, "accepted")
    }

    func testFineTuningStartsTheEncoderFromAnotherRun() throws {
        let pretrained = SyntheticData.runFolder()
        let first = try trainer(SyntheticData.config(data: data, loss: "nce(negatives=16)", steps: 2), pretrained)
        try first.train()
        var config = SyntheticData.config(data: data, steps: 1)
        config.initFrom = pretrained
        let second = try trainer(config, SyntheticData.runFolder())
        for (a, b) in zip(first.run.model.encoder.context.parameters, second.run.model.encoder.context.parameters) {
            XCTAssertEqual(a.value.array, b.value.array, "\(a.name) is copied")
        }
        config.initFrom = "/nonexistent/run"
        XCTAssertThrowsError(try trainer(config, SyntheticData.runFolder())) { XCTAssertEqual("\($0)", "no checkpoint at /nonexistent/run/checkpoint.safetensors") }
        // another encoder width: the tensor is there with another shape, and the message says so
        config.initFrom = pretrained
        config.encoder = "convnet-s(width=0.5)"
        XCTAssertThrowsError(try trainer(config, SyntheticData.runFolder())) {
            XCTAssertTrue("\($0)".hasPrefix("checkpoint tensor 'encoder.conv1.weight' has shape [8, 1, 3, 3], this model's has [16, 1, 3, 3] "
                                             + "(it was written by a run of encoder convnet-s(width=0.25), loss 'nce(negatives=16)', plugins nce "), "\($0)")
        }
    }

    func testSupervisedTrainingLearnsTheGeneratedClasses() throws {
        var config = SyntheticData.config(data: data, steps: 40)
        config.labelsPerClass = nil
        config.learningRate = 0.1
        let accuracy = try trainer(config, SyntheticData.runFolder()).train()!
        XCTAssertGreaterThan(accuracy, 0.9, "4 well-separated blob classes should be learnt in 40 steps")
    }
}
