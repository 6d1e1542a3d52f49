import Foundation
import LossKitCore
import LossKitFormats
import LossKitPlugins
import LossKitRun

/// What the trainer writes to its run folder, rank 0's in a data-parallel run: checkpoints with
/// their metadata, the plugins' report images, the input samples; and what rank 0 prints if the
/// job is ended under it.
extension Trainer {
    /// Every instance's options as they were set, defaults included, by instance ("encoder",
    /// "nce", "sc@conv4"): the canonical text of each declared value.
    var optionsInForce: [String: [String: String]] {
        var all = ["encoder": run.model.encoder.optionValues.mapValues(\.text)]
        for t in terms { if let i = t.instance { all[t.label] = i.optionValues.mapValues(\.text) } }
        return all
    }

    var metadata: [String: String] {
        var m: [String: String] = [:]
        m["config"] = (try? config.json()).map { String(decoding: $0, as: UTF8.self) }
        m["encoder"] = "\(run.encoderPlugin.name) \(run.encoderPlugin.version)"
        m["plugins"] = terms.compactMap { t in t.instance.map { "\(t.label) \($0.plugin.version) abi \($0.plugin.abiVersion)" } }.joined(separator: "; ")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        m["options"] = (try? encoder.encode(optionsInForce)).map { String(decoding: $0, as: UTF8.self) }
        if communicator.isDistributed { m["ranks"] = String(communicator.size) }
        return m
    }

    /// Adds this process's CPU path to the run's machine.json, saying on a resume where it
    /// differs from the one the run last computed on. A run written before the record was kept,
    /// or whose record is damaged, starts a new one.
    func recordMachine(resume: Bool, log: (String) -> Void) throws {
        let now = RunMachine.Segment.current(fromStep: step, threads: config.threads, ranks: communicator.size)
        let earlier = resume ? RunMachine.read(folder: runDirectory) : nil
        if let last = earlier?.segments.last(where: { $0.fromStep < step }) ?? earlier?.segments.first,
           let warning = RunMachine.resumeWarning(last: last, now: now) {
            log(warning)
        }
        try (earlier ?? RunMachine(segments: [])).adding(now).write(folder: runDirectory)
    }

    /// Writes the checkpoint (rank 0). In a data-parallel run every rank calls it: the ranks'
    /// parameters and states are compared first, and a run whose ranks disagree stops.
    public func saveCheckpoint() throws {
        if let dataParallel {
            do { try dataParallel.checkAgreement(parameters: parameters, states: states) } catch let e as TrainingError {
                throw TrainingError(message: "step \(step): \(e.message); \(keptCheckpoint)", everyRank: true)
            }
        }
        guard isWriter else { return }
        try RunFolder(runDirectory).writeCheckpoint(Checkpoint.capture(step: step, parameters: parameters, states: states, optimizer: optimizer,
                                                                       random: random, samplerState: sampler.state, metadata: metadata))
        checkpointStep = step
        prepareTerminationNote()
        try writeReportImages()
    }

    /// What rank 0 of a data-parallel run prints if mpirun ends it (another rank failed): the
    /// last intact checkpoint, or that there is none yet.
    func prepareTerminationNote() {
        guard communicator.isDistributed, isWriter else { return }
        let checkpoint = checkpointStep.map { "the last intact checkpoint is \(checkpointPath) (step \($0)): continue with the same command and --resume" }
            ?? "no checkpoint had been written yet"
        TerminationNote.set("losskit (rank 0 of \(communicator.size)): the job was ended while training, most likely because another rank failed "
                            + "(mpirun names it); \(checkpoint)")
    }

    /// The images plugins handed over (`report_image`), as PNG grids in `images/`.
    func writeReportImages() throws {
        for term in terms {
            for (name, image) in term.instance?.context.reportImages ?? [:] {
                let grid = ImageGrid(values: image.values, count: image.count, channels: image.channels, height: image.height,
                                     width: image.width, low: image.low, high: image.high, columns: image.count > 8 ? image.count / 2 : image.count)
                try RunFolder(runDirectory).writeImage(grid, owner: term.label, name: name)
            }
        }
    }

    /// Eight training images as the model sees them without and with augmentation, drawn
    /// with their own generator so the run's random stream is untouched.
    func writeInputSamples() throws {
        let n = min(8, run.train.count), indices = Array(0..<n)
        let plain = run.trainAssembler.images(indices, augmentation: .none, random: RandomGenerator(seed: 1))
        let augmented = run.trainAssembler.images(indices, augmentation: config.augmentation,
                                                  random: RandomGenerator(seed: 1))
        let s = run.setup
        try RunFolder(runDirectory).writeImage(ImageGrid(values: plain.array + augmented.array, count: 2 * n, channels: s.channels, height: s.height, width: s.width,
                      low: s.pixelMin, high: s.pixelMax, columns: n), owner: "inputs", name: "augmentation")
    }
}
