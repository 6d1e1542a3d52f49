import ArgumentParser
import Foundation
import LossKitData
import LossKitDistributed
import LossKitHost
import LossKitRun
import LossKitTraining

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an encoder with a composed loss; writes config, metrics, checkpoints to --out.",
        discussion: """
        The loss is a weighted sum of terms: 'ce + 0.5*nce + 0.1*sc@conv4(region=0.5)'. A term is a \
        plugin name, optionally @TAP to choose the layer it reads, optionally (key=value, ...) options, \
        optionally [setting=steps, ...] saying when it is on: from=N (off for the first N steps), until=N \
        (off after step N), warmup=N (weight rises linearly over N steps) or ramp=N (sigmoid-shaped \
        ramp-up over N steps), decay=N (with until: weight falls linearly to 0 over the last N steps), \
        e.g. 'ce + 0.3*nce[until=750]' or 'ce + 0.1*nce[ramp=1000]'. A term that \
        is off is not computed and its plugin's parameters do not move.

        Each step draws --labelled-per-batch rows from the labelled subset (--labels-per-class images of \
        each class, chosen with --seed) and the rest from all training images, unlabelled; `ce` alone \
        draws the labelled rows only, since no term would read the others.

        A YAML --config file may set any of: \(TrainingConfig.keys.joined(separator: ", ")); flags override it.

        Under `mpirun -np N losskit train ...` N processes train one model: each takes an equal share \
        of every step's labelled and unlabelled rows (both must divide by N), gradients are averaged \
        across them, rank 0 writes --out and evaluates; --sync-bn takes batch-norm statistics over every \
        rank's rows. See README.md, "Data-parallel training".
        """)

    @OptionGroup var plugins: PluginOptions
    @Option(help: "YAML experiment file with the settings below (snake_case keys).") var config: String?
    @Option(help: ArgumentHelp(TrainingConfig.help("data"))) var data: String?
    @Option(help: ArgumentHelp(TrainingConfig.help("encoder"))) var encoder: String?
    @Option(help: ArgumentHelp(TrainingConfig.help("loss"))) var loss: String?
    @Option(parsing: .unconditional, help: ArgumentHelp(TrainingConfig.help("labels_per_class"))) var labelsPerClass: Int?
    @Flag(help: "Use every training label (supervised ceiling).") var allLabels = false
    @Option(parsing: .unconditional, help: ArgumentHelp(TrainingConfig.help("batch_size"))) var batchSize: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp(TrainingConfig.help("labelled_per_batch"))) var labelledPerBatch: Int?
    @Option(parsing: .unconditional, help: "Labelled fraction of each batch (alternative to --labelled-per-batch).") var labelledFractionPerBatch: Double?
    @Option(parsing: .unconditional, help: ArgumentHelp(TrainingConfig.help("steps"))) var steps: Int?
    @Option(parsing: .unconditional, help: "Epochs over the training set (alternative to --steps).") var epochs: Double?
    @Option(help: ArgumentHelp(TrainingConfig.help("optimizer"))) var optimizer: String?
    @Option(name: .customLong("lr"), parsing: .unconditional, help: ArgumentHelp(TrainingConfig.help("learning_rate"))) var learningRate: Float?
    @Option(parsing: .unconditional, help: ArgumentHelp(TrainingConfig.help("momentum"))) var momentum: Float?
    @Option(parsing: .unconditional, help: ArgumentHelp(TrainingConfig.help("weight_decay"))) var weightDecay: Float?
    @Option(help: ArgumentHelp(TrainingConfig.help("schedule"))) var schedule: String?
    @Option(parsing: .unconditional, help: ArgumentHelp(TrainingConfig.help("warmup_steps"))) var warmupSteps: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp(TrainingConfig.help("seed"))) var seed: UInt64?
    @Option(parsing: .unconditional, help: ArgumentHelp(TrainingConfig.help("threads"))) var threads: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp(TrainingConfig.help("crop_padding"))) var cropPadding: Int?
    @Flag(inversion: .prefixedNo, help: ArgumentHelp(TrainingConfig.help("horizontal_flip"))) var flip: Bool?
    @Flag(name: .customLong("sync-bn"), inversion: .prefixedNo, help: ArgumentHelp(TrainingConfig.help("sync_bn"))) var syncBatchNorm: Bool?
    @Option(parsing: .unconditional, help: ArgumentHelp(TrainingConfig.help("crop_scale"))) var cropScale: Float?
    @Option(parsing: .unconditional, help: ArgumentHelp(TrainingConfig.help("jitter"))) var jitter: Float?
    @Option(parsing: .unconditional, help: ArgumentHelp(TrainingConfig.help("checkpoint_every"))) var checkpointEvery: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp(TrainingConfig.help("log_every"))) var logEvery: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp(TrainingConfig.help("eval_every"))) var evalEvery: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp(TrainingConfig.help("knn_every"))) var knnEvery: Int?
    @Option(help: "Run folder (config.json, metrics.jsonl, checkpoint.safetensors, plugins.json, machine.json): a new or empty folder, or a run's with --resume; one training writes it at a time.") var out: String
    @Flag(help: "Continue the run in --out from its checkpoint (it may change only --steps, --threads and the intervals).") var resume = false
    @Option(help: ArgumentHelp(TrainingConfig.help("init_from"))) var initFrom: String?

    func validate() throws {
        for (a, b, given) in [("--steps", "--epochs", steps != nil && epochs != nil),
                              ("--labelled-per-batch", "--labelled-fraction-per-batch", labelledPerBatch != nil && labelledFractionPerBatch != nil),
                              ("--labels-per-class", "--all-labels", labelsPerClass != nil && allLabels)] where given {
            throw ValidationError("give \(a) or \(b), not both")
        }
        if let f = labelledFractionPerBatch, !(f >= 0 && f <= 1) {
            throw ValidationError("--labelled-fraction-per-batch must be in [0, 1], got \(f)")
        }
        if let e = epochs, !(e > 0 && e.isFinite) { throw ValidationError("--epochs must be a finite number > 0, got \(e)") }
    }

    func resolved() throws -> TrainingConfig {
        var c: TrainingConfig
        if resume, config == nil, let saved = FileManager.default.contents(atPath: RunFolder(out).config) {
            c = try JSONDecoder().decode(TrainingConfig.self, from: saved)
        } else {
            c = try config.map { try ExperimentFile.load(path: $0) } ?? TrainingConfig()
        }
        if let v = data { c.data = v }
        if let v = encoder { c.encoder = v }
        if let v = loss { c.loss = v }
        if let v = labelsPerClass { c.labelsPerClass = v }
        if allLabels { c.labelsPerClass = nil }
        if let v = batchSize {
            // the labelled share of the batch is kept; a config file's batch size that is no
            // batch at all has no share to keep, and the new batch gets the default quarter
            if labelledPerBatch == nil, labelledFractionPerBatch == nil, (1...TrainingConfig.maximumBatchSize).contains(v) {
                c.labelledPerBatch = c.batchSize > 0 ? Int((Double(c.labelledPerBatch) * Double(v) / Double(c.batchSize)).rounded()) : v / 4
            }
            c.batchSize = v
        }
        if let v = labelledPerBatch { c.labelledPerBatch = v }
        if let f = labelledFractionPerBatch {
            c.labelledPerBatch = Int((Double(c.batchSize) * f).rounded())
        }
        if let v = steps { c.steps = v }
        if let v = optimizer { c.optimizer = v }
        if let v = learningRate { c.learningRate = v }
        if let v = momentum { c.momentum = v }
        if let v = weightDecay { c.weightDecay = v }
        if let v = schedule { c.schedule = v }
        if let v = warmupSteps { c.warmupSteps = v }
        if let v = seed { c.seed = v }
        if let v = threads { c.threads = v }
        if let v = cropPadding { c.cropPadding = v }
        if let v = flip { c.horizontalFlip = v }
        if let v = syncBatchNorm { c.syncBatchNorm = v }
        if let v = cropScale { c.cropScale = v }
        if let v = jitter { c.jitter = v }
        if let v = checkpointEvery { c.checkpointEvery = v }
        if let v = logEvery { c.logEvery = v }
        if let v = evalEvery { c.evalEvery = v }
        if let v = knnEvery { c.knnEvery = v }
        if let v = initFrom { c.initFrom = v }
        if let e = epochs {
            try c.validate()   // the batch size divides below
            let n = try DataSource.parse(c.data).load(.train).count
            let steps = (e * Double(n) / Double(c.batchSize)).rounded(.up)
            guard steps <= Double(TrainingConfig.maximumSteps) else {
                throw ValidationError("--epochs \(e) makes \(String(format: "%.3g", steps)) steps of \(c.batchSize) over \(n) images; at most \(TrainingConfig.maximumSteps) are allowed")
            }
            c.steps = max(1, Int(steps))
        }
        return c
    }

    func run() throws {
        // under mpirun: one rank of a data-parallel job (MPI_Init here); otherwise one process
        let communicator: Communicator
        do { communicator = try MPILaunch.communicator() } catch {
            FileHandle.standardError.write(Data("Error: cannot join the MPI job: \(error)\n".utf8))
            throw ExitCode(1)
        }
        defer { MPILaunch.finish() }
        let rank0 = communicator.rank == 0
        let progress = ProgressLine(quiet: !rank0)
        var trainer: Trainer?
        do {
            let c = try resolved()
            let loader = plugins.load()
            if rank0 { for r in loader.rejected { FileHandle.standardError.write(Data("warning: plugin \(r.path) refused: \(r.reason)\n".utf8)) } }
            if resume, let recorded = RunPlugins.read(folder: out) {
                // the plugins the run was trained with, from where they were, unless already loaded
                let (missing, warnings) = recorded.reload(into: loader)
                if rank0 { for w in warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) } }
                if let first = missing.first { throw CommandFailure("cannot resume \(out): \(first.message)") }
            }
            trainer = try Trainer(config: c, runDirectory: out, loader: loader, resume: resume, communicator: communicator,
                                  log: { progress.message($0) })
        } catch {
            trainer = nil
            if !communicator.isDistributed { return try fail(error, progress) }
            // every rank set up alone: agree before any step, so none waits for one that failed
            let failure = (try? communicator.firstFailure("\(error)")) ?? (rank: communicator.rank, message: "\(error)")
            if rank0 { FileHandle.standardError.write(Data("Error: \(failure.rank == 0 ? "" : "rank \(failure.rank) of \(communicator.size): ")\(failure.message)\n".utf8)) }
            throw ExitCode(1)
        }
        guard let trainer else { return }
        if communicator.isDistributed, let failure = try communicator.firstFailure(nil) {
            if rank0 { FileHandle.standardError.write(Data("Error: rank \(failure.rank) of \(communicator.size): \(failure.message)\n".utf8)) }
            throw ExitCode(1)
        }
        let c = trainer.config
        do {
            trainer.observer = progress
            let ranks = communicator.isDistributed ? ", \(communicator.size) ranks of \(trainer.sampler.batchSize / communicator.size) rows\(c.syncBatchNorm ? " (batch-norm synchronised)" : "")" : ""
            progress.message("training \(c.encoder) with \(c.loss) on \(c.data): \(c.steps) steps of \(trainer.sampler.batchSize)\(trainer.sampler.batchSize < c.batchSize ? " labelled rows (no term reads unlabelled ones)" : "") (\(c.labelledRows == 0 ? "no labels" : c.labelsPerClass.map { "\($0) labels per class" } ?? "all labels")), seed \(c.seed)\(ranks)\(trainer.step > 0 ? ", resuming at step \(trainer.step)" : "")")
            let accuracy = try trainer.train() ?? .nan
            progress.finish()
            guard rank0 else { return }
            if trainer.trainsTheHead {
                print(String(format: "test accuracy: %.2f%% (%d test images, head on features, batch-norm in eval mode)", accuracy * 100, trainer.run.test.count))
            } else {
                print("test accuracy: not measured: the head was not trained (the loss has no `ce` term or --labelled-per-batch is 0); "
                      + "judge the encoder by kNN (--knn-every, `losskit eval knn \(out)`) or a linear probe (`losskit eval linear \(out)`)")
            }
            if let knn = trainer.lastKNNAccuracy { print(String(format: "kNN accuracy: %.2f%% (encoder features, k 200, tau 0.07)", knn * 100)) }
            print("run folder: \(out)")
        } catch {
            progress.finish()
            guard communicator.isDistributed else { return try fail(error, progress) }
            if (error as? TrainingError)?.everyRank == true {
                // every rank stopped here with this error: rank 0 says it, and the job ends cleanly
                if rank0 { FileHandle.standardError.write(Data("Error: \(error)\n".utf8)) }
                throw ExitCode(1)
            }
            // this rank's alone: the others would wait for it in their next collective
            FileHandle.standardError.write(Data("Error: rank \(communicator.rank) of \(communicator.size): \(error)\n".utf8))
            communicator.abort(code: 1)
        }
    }

    private func fail(_ error: Error, _ progress: ProgressLine) throws {
        progress.finish()
        FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
        throw ExitCode(1)
    }
}

/// A live progress line on a terminal; plain lines (one per logged step) otherwise.
final class ProgressLine: TrainingObserver {
    private let tty = isatty(STDOUT_FILENO) != 0
    private var open = false
    /// Prints nothing: a data-parallel run's ranks other than 0.
    private let quiet: Bool

    init(quiet: Bool = false) { self.quiet = quiet }

    func stepFinished(_ p: TrainingProgress) {
        guard !quiet else { return }
        let terms = p.terms.map { String(format: "%@ %.4g", $0.label, $0.value) }.joined(separator: "  ")
        let eta = p.secondsLeft.isFinite ? String(format: "%dm%02ds", Int(p.secondsLeft) / 60, Int(p.secondsLeft) % 60) : "?"
        let line = String(format: "step %d/%d  loss %.4g  [%@]  %.0f img/s  ETA %@", p.step, p.totalSteps, p.loss, terms, p.imagesPerSecond, eta)
        if tty {
            print("\r\(line)\u{1B}[K", terminator: "")
            fflush(stdout)
            open = true
        } else if p.logged {
            print(line)
            fflush(stdout)
        }
    }

    func message(_ text: String) {
        guard !quiet else { return }
        finish()
        print(text)
    }

    func finish() {
        if open { print(""); open = false }
    }
}
