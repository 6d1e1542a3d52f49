import Foundation
import LossKitCore
import LossKitData
import LossKitDistributed
import LossKitFormats
import LossKitPlugins
import LossKitRun

/// What the trainer tells whoever watches (the CLI's progress line, tests).
public protocol TrainingObserver: AnyObject {
    func stepFinished(_ progress: TrainingProgress)
    func message(_ text: String)
}

/// What one optimiser step computed.
public struct StepOutcome {
    /// Each computed term's unweighted value; a term its schedule switched off is absent.
    public let values: [(label: String, value: Double)]
    /// The weight each computed term carried at this step (its weight times its schedule's factor).
    public let weights: [String: Double]
    /// The weighted sum that was minimised.
    public let loss: Double
    /// The learning-rate schedule's factor at this step.
    public let factor: Float
}

public struct TrainingProgress {
    public let step: Int            // 1-based count of steps done
    public let totalSteps: Int
    public let loss: Double
    public let terms: [(label: String, value: Double)]
    public let imagesPerSecond: Double
    public let secondsLeft: Double
    public let logged: Bool         // a metrics line was written for this step
}

/// Why training stopped early.
public struct TrainingError: Error, CustomStringConvertible {
    public let message: String
    /// In a data-parallel run: every rank stopped with this error at the same point (a term or
    /// gradient that is not finite after averaging, ranks that disagree), so the job may end
    /// cleanly; any other error is one rank's, and ends the job through MPI_Abort.
    public var everyRank = false
    public init(message: String, everyRank: Bool = false) {
        self.message = message
        self.everyRank = everyRank
    }
    public var description: String { message }
}

/// The training loop: sample a mixed labelled/unlabelled batch, encode it, add the weighted
/// terms, backpropagate, check every term and gradient is finite, step the optimiser (each
/// parameter group with its own settings), run plugins' after-step hooks, log, checkpoint.
public final class Trainer {
    public let config: TrainingConfig
    public let runDirectory: String
    public let run: RunSetup
    public package(set) var terms: [ObjectiveTerm]
    /// Whether the classification head learns in this run (`TrainingConfig.trainsTheHead`), read
    /// once: it parses the loss, and the loop asks every step.
    public let trainsTheHead: Bool
    /// Whether any term has a schedule (`[...]`): then metrics lines also log the weights.
    private var hasSchedules: Bool { terms.contains { !$0.schedule.isConstant } }
    public let random: RandomGenerator
    public let optimizer: Optimizer
    public let parameters: [Parameter]
    public let states: [StateTensor]
    public let sampler: BatchSampler
    public let split: LabelledSplit
    public weak var observer: TrainingObserver?
    public private(set) var step = 0
    /// This process's claim on the run folder: held from creation until `train()` returns (and
    /// again by each later `train()`), released for the next writer after. Rank 0's alone in a
    /// data-parallel run.
    public let claim: RunClaim?
    /// The processes training this model: one, or the ranks of `mpirun -np N`.
    public let communicator: Communicator
    /// A data-parallel run's share of each step; nil in a run of one process.
    let dataParallel: DataParallel?
    /// Whether this process writes the run folder, logs and evaluates: rank 0.
    public var isWriter: Bool { communicator.rank == 0 }
    /// The step of the last checkpoint written (or resumed from), for the crash note.
    var checkpointStep: Int?
    private lazy var crashNote = CrashNote(runDirectory: runDirectory, totalSteps: config.steps)
    /// What the crash note says of each plugin call, made once rather than every step.
    private lazy var crashActivities: (encode: String, loss: [String: String], afterStep: [String: String]) = {
        var loss: [String: String] = [:], afterStep: [String: String] = [:]
        for term in terms {
            guard let instance = term.instance else { continue }
            loss[term.label] = CrashNote.describe(instance, role: "the term '\(term.label)'", call: "loss")
            afterStep[term.label] = CrashNote.describe(instance, role: "the term '\(term.label)'", call: "after_step")
        }
        return (CrashNote.describe(run.model.encoder, role: "the encoder", call: "encode"), loss, afterStep)
    }()
    /// The latest kNN accuracy measured during training (`knn_every`), nil before the first.
    public internal(set) var lastKNNAccuracy: Double?
    public var checkpointPath: String { RunFolder(runDirectory).checkpoint }

    /// Assembles the run's plan from its settings (`TrainingPlan.assemble`), then takes its folder.
    public convenience init(config: TrainingConfig, runDirectory: String, loader: PluginLoader, resume: Bool,
                            communicator: Communicator = SingleProcess(), log: @escaping (String) -> Void = { print($0) }) throws {
        try self.init(plan: TrainingPlan.assemble(config: config, loader: loader, communicator: communicator, log: log),
                      runDirectory: runDirectory, resume: resume, log: log)
    }

    /// Takes the run folder for `plan`: claims it (rank 0), restores the checkpoint on `resume`
    /// or the encoder of `--init-from`, and writes the config and plugin record.
    public init(plan: TrainingPlan, runDirectory: String, resume: Bool, log: @escaping (String) -> Void = { print($0) }) throws {
        config = plan.config
        communicator = plan.communicator
        dataParallel = communicator.isDistributed ? DataParallel(communicator: communicator, synchronisedBatchNorm: config.syncBatchNorm) : nil
        trainsTheHead = config.trainsTheHead
        self.runDirectory = runDirectory
        random = plan.random
        run = plan.run
        terms = plan.terms
        parameters = plan.parameters
        states = plan.states
        optimizer = plan.optimizer
        split = plan.split
        sampler = plan.sampler
        Threads.set(config.threads)

        let fm = FileManager.default
        claim = communicator.rank == 0 ? try RunClaim(folder: runDirectory) : nil
        if resume {
            let checkpoint = try Checkpoint.read(path: checkpointPath)
            if let saved = checkpoint.savedConfig {
                let changed = try config.changes(from: saved)
                guard changed.isEmpty else {
                    throw TrainingError(message: "resuming \(runDirectory) with other settings than it was trained with (\(changed.joined(separator: ", "))); "
                                    + "a resumed run may change only \(TrainingConfig.changeableOnResume.sorted().joined(separator: ", ")). "
                                    + "To train on from its encoder with new settings, start a new run with --init-from \(runDirectory)")
                }
            }
            let samplerState = try checkpoint.restore(parameters: parameters, states: states, optimizer: optimizer, random: random)
            try sampler.restore(samplerState)
            step = checkpoint.step
            checkpointStep = step
            // the global batch does not depend on the number of ranks, so any number may go on
            let before = Int(checkpoint.file.metadata["ranks"] ?? "1") ?? 1
            if before != communicator.size, communicator.rank == 0 {
                log("resuming a run trained by \(before) process\(before == 1 ? "" : "es") with \(communicator.size): the same batches, each shared \(communicator.size) way\(communicator.size == 1 ? "" : "s")")
            }
        } else if fm.fileExists(atPath: checkpointPath) {
            throw TrainingError(message: "\(runDirectory) already holds a run: pass --resume to continue it, or choose another --out")
        } else if let source = config.initFrom {
            // fine-tuning: the encoder starts from another run's last checkpoint
            let checkpoint = try Checkpoint.read(path: RunFolder(source).checkpoint)
            try checkpoint.restoreWeights(parameters: run.model.encoder.context.parameters, states: run.model.states)
            log("encoder initialised from \(source) (step \(checkpoint.step))")
        }
        guard communicator.rank == 0 else { return }
        try RunFolder(runDirectory).writeConfig(config)
        var record = RunPlugins([run.encoderPlugin] + terms.compactMap { $0.instance?.plugin })
        record.options = optionsInForce
        try record.write(folder: runDirectory)
        try recordMachine(resume: resume, log: log)
    }

    /// Trains from the current step to `config.steps`, then evaluates the head on the test set.
    /// `stopAfter` ends early after that step (and its checkpoint), as a killed run would, and
    /// returns nil.
    @discardableResult
    public func train(stopAfter: Int? = nil) throws -> Double? {
        // the folder is this trainer's while it trains, and free for another writer after
        try claim?.hold()
        defer { claim?.release() }
        prepareTerminationNote()
        let log = isWriter ? try RunFolder(runDirectory).openMetrics(truncateAfterStep: step > 0 ? step : nil) : nil
        if step == 0, isWriter { try writeInputSamples() }
        // a resumed run's clock goes on from the time its kept lines had reached
        let earlier = step > 0 ? (try log.map { try MetricsLog.read($0.path).compactMap { $0["seconds"] as? Double }.max() ?? 0 } ?? 0) : 0
        let started = Date(timeIntervalSinceNow: -earlier)
        // the rate counts the steps' own time: evaluations and checkpoints between them once
        // showed a fifth of the real rate
        var windowSeconds = 0.0, windowImages = 0
        var imagesPerSecond = 0.0
        // a data-parallel run logs the share of the steps' time its collectives took
        var stepSecondsSinceLog = 0.0
        let firstStep = step
        while step < config.steps {
            let stepStart = Date()
            let outcome = try trainStep()
            let values = outcome.values

            windowImages += sampler.batchSize
            windowSeconds += Date().timeIntervalSince(stepStart)
            stepSecondsSinceLog += Date().timeIntervalSince(stepStart)
            let logged = step % config.logEvery == 0 || step == config.steps
            if windowSeconds > 1 || step == firstStep + 1 || logged {
                imagesPerSecond = Double(windowImages) / max(windowSeconds, 1e-9)
                windowSeconds = 0
                windowImages = 0
            }
            let lossValue = outcome.loss
            if logged {
                var probes: [String: Double] = [:]
                // a term its schedule switched off this step has nothing new to report
                for t in terms where outcome.weights[t.label] != nil {
                    for p in t.instance?.probes() ?? [] where p.value.isFinite { probes["\(t.label).\(p.name)"] = p.value }
                }
                var line: [String: Any] = [
                    "step": step, "loss": lossValue, "terms": Dictionary(uniqueKeysWithValues: values.map { ($0.label, $0.value) }),
                    "probes": probes, "lr": Double(config.learningRate * outcome.factor), "images_per_s": imagesPerSecond,
                    "seconds": Date().timeIntervalSince(started)]
                if hasSchedules { line["weights"] = outcome.weights }
                if let dataParallel {
                    line["ranks"] = communicator.size
                    line["communication_share"] = dataParallel.takeCommunicationSeconds() / max(stepSecondsSinceLog, 1e-9)
                }
                stepSecondsSinceLog = 0
                log?.append(line)
            }
            let left = Double(config.steps - step) * Double(sampler.batchSize) / max(imagesPerSecond, 1e-9)
            observer?.stepFinished(TrainingProgress(step: step, totalSteps: config.steps, loss: lossValue, terms: values,
                                                    imagesPerSecond: imagesPerSecond, secondsLeft: left, logged: logged))
            if step % config.checkpointEvery == 0 || step == config.steps { try saveCheckpoint() }
            // evaluation is rank 0's alone: the other ranks go on to the next step and wait there
            let head = trainsTheHead && config.evalEvery > 0 && step % config.evalEvery == 0 && step < config.steps
            let knn = config.knnEvery > 0 && step % config.knnEvery == 0 && step < config.steps
            if let log, head || knn { log.append(["step": step, "eval": try evaluate(head: head, knn: knn)]) }
            if let stop = stopAfter, step >= stop, step < config.steps { return nil }
        }
        guard let log else { return nil }
        let knnAtEnd = config.knnEvery > 0
        let eval = trainsTheHead || knnAtEnd ? try evaluate(head: trainsTheHead, knn: knnAtEnd) : [:]
        // resuming a finished run trains nothing: its log already ends with this evaluation,
        // unless the run was killed during it
        let logged = try step == firstStep && MetricsLog.read(log.path).contains { ($0["step"] as? Int) == step && $0["wall_seconds"] != nil }
        if !logged { log.append(["step": step, "eval": eval, "wall_seconds": Date().timeIntervalSince(started)]) }
        return eval["test_accuracy"]
    }

    /// One optimiser step: sample, encode, add the weighted terms that are on at this step,
    /// backpropagate, check every term and gradient is finite (before anything is applied), step
    /// (leaving the parameters of terms that are off untouched), run the computed terms'
    /// after-step hooks. `profiler` times ops.
    @discardableResult
    public func trainStep(profiler: OpProfiler? = nil) throws -> StepOutcome {
        let schedule = config.learningRateSchedule
        let augmentation = config.augmentation
        var batch = sampler.next()
        var images = run.trainAssembler.images(batch.indices, augmentation: augmentation, random: random)
        var stepRandom = random
        if let dataParallel {
            // the whole batch drawn and augmented as one process would; this rank's share computed
            let positions = dataParallel.positions(rows: batch.indices.count, labelled: sampler.labelledPerBatch)
            images = DataParallel.rows(images, positions)
            batch = SampledBatch(indices: positions.map { batch.indices[$0] }, labelled: positions.map { batch.labelled[$0] })
            stepRandom = dataParallel.stepGenerator(seed: config.seed, step: step)
        }
        let contexts = [run.model.encoder.context] + terms.compactMap { $0.instance?.context }
        if dataParallel != nil { for c in contexts { c.random = stepRandom } }
        defer { if dataParallel != nil { for c in contexts { c.random = random } } }
        let allLabels = run.trainAssembler.labels(batch.indices)
        let labels = zip(allLabels, batch.labelled).map { $1 ? $0 : -1 }
        let graph = Graph(training: true, random: stepRandom)
        graph.profiler = profiler
        graph.batchStatisticsSum = dataParallel?.batchStatisticsSum
        let pg = PluginGraph(graph: graph, encoder: run.model)
        let imageNode = graph.constant(images)
        let view = BatchView(images: imageNode, labels: labels, labelled: batch.labelled.map { $0 ? 1 : 0 },
                             indices: batch.indices.map(Int64.init), datasetSize: run.train.count,
                             numClasses: run.train.classCount, pixelMin: run.setup.pixelMin, pixelMax: run.setup.pixelMax)
        crashNote.set(crashActivities.encode, step: step, checkpoint: checkpointStep)
        let taps = try run.model.encode(pg, images: imageNode)
        var total: Node?
        var values: [(label: String, value: Double)] = []
        var weights: [String: Double] = [:]
        var lossValue = 0.0
        var computed: [ObjectiveTerm] = [], frozen: Set<String> = []
        for term in terms {
            guard let scheduled = term.schedule.factor(afterSteps: step) else {
                frozen.formUnion(term.instance?.context.parameters.map(\.name) ?? [])
                continue
            }
            if let activity = crashActivities.loss[term.label] { crashNote.set(activity, step: step, checkpoint: checkpointStep) }
            let v = try term.value(pg, batch: view, taps: taps)
            let x = Double(v.value.scalar)
            // a data-parallel run checks the averaged values below, on every rank alike
            guard x.isFinite || dataParallel != nil else { throw nonFinite("term '\(term.label)' is \(x.isNaN ? "NaN" : "infinite (\(x))")") }
            let weight = term.weight * scheduled
            values.append((term.label, x))
            weights[term.label] = weight
            lossValue += weight * x
            computed.append(term)
            let weighted = graph.scale(v, Float(weight))
            total = try total.map { try graph.add($0, weighted) } ?? weighted
        }
        guard let loss = total else { throw TrainingError(message: "no term of the loss is on at step \(step + 1)") }
        if let dataParallel {
            // the logged figures are the batch's: each term's mean over the ranks
            let global = try dataParallel.means(values.map(\.value) + [lossValue])
            values = zip(values, global).map { ($0.0.label, $0.1) }
            lossValue = global[values.count]
            if let bad = values.first(where: { !$0.value.isFinite }) {
                throw nonFinite("term '\(bad.label)' averaged over the \(communicator.size) ranks is \(bad.value.isNaN ? "NaN" : "infinite (\(bad.value))")")
            }
        }
        crashNote.set("LossKit's backward pass and optimiser step (no plugin code)", step: step, checkpoint: checkpointStep)
        try graph.backward(from: loss)
        try dataParallel?.averageGradients(parameters)
        for p in parameters where !p.grad.buffer.allSatisfy({ $0.isFinite }) {
            throw nonFinite("the gradient of parameter '\(p.name)' is not finite")
        }
        let factor = schedule.factor(at: step)
        let t0 = profiler.map { _ in DispatchTime.now().uptimeNanoseconds }
        optimizer.step(learningRateFactor: factor, frozen: frozen)
        if let t0, let profiler { profiler.add("optimizer", Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9) }
        try dataParallel?.averageStates(run.model.states)
        for term in computed {
            guard let instance = term.instance else { continue }
            if let activity = crashActivities.afterStep[term.label] { crashNote.set(activity, step: step, checkpoint: checkpointStep) }
            instance.afterStep(step: step, totalSteps: config.steps, learningRateFactor: factor)
        }
        CrashNote.clear()
        step += 1
        return StepOutcome(values: values, weights: weights, loss: lossValue, factor: factor)
    }

    /// Rows drawn each step: the whole batch when a term reads unlabelled rows (every plugin term
    /// may), only the labelled rows when the loss is `ce` alone — unlabelled rows that no term
    /// reads would cost three quarters of the step and change batch-norm's statistics, a silent
    /// semi-supervised effect in what should be the plain supervised baseline (protocols P1, P2).
    /// A batch needs two rows for batch-norm, so fewer labelled rows keep the whole batch.
    static func rowsPerStep(_ config: TrainingConfig, terms: [ObjectiveTerm]) -> Int {
        let readsUnlabelled = terms.contains(where: \.readsUnlabelledRows)
        return readsUnlabelled || config.labelledRows < 2 ? config.batchSize : config.labelledRows
    }

    /// The first 0-based step of `0..<steps` at which every term's schedule is off, if any. Each
    /// term is on over one interval [from, until), so a gap can only begin at step 0 or where some
    /// term's interval ends: those steps are the only ones to check.
    static func firstStepWithoutTerms(_ terms: [ObjectiveTerm], steps: Int) -> Int? {
        let candidates = ([0] + terms.compactMap(\.schedule.until)).filter { $0 < steps }.sorted()
        return candidates.first { s in terms.allSatisfy { $0.schedule.factor(afterSteps: s) == nil } }
    }

    private func nonFinite(_ what: String) -> TrainingError {
        TrainingError(message: "step \(step + 1): \(what); training stopped before applying it — \(keptCheckpoint)", everyRank: dataParallel != nil)
    }

    var keptCheckpoint: String {
        FileManager.default.fileExists(atPath: checkpointPath) ? "the last good checkpoint is kept at \(checkpointPath)" : "no checkpoint had been written yet"
    }
}
