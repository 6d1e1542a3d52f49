import ArgumentParser
import Foundation
import LossKitCore
import LossKitEvaluation
import LossKitHost
import LossKitRun

/// `losskit invert RUN`: the invertibility study (Zhang, Lee & Lee 2016) on a trained run.
struct InvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invert",
        abstract: "How much of the image each layer of a run's encoder holds: train a decoder from each layer, frozen encoder.",
        discussion: """
            For each layer in --from and each un-pooling in --unpool, trains swwae@LAYER(decoder=first, unpool=U) \
            to reconstruct the training images from that layer of the frozen encoder, and measures its error on \
            held-out images. Writes RUN/inversion/inversion.json and one image per decoder (held-out images above \
            their reconstructions), which `losskit report RUN` shows. known switches: SWWAE's un-pooling; fixed: the \
            stacked auto-encoder's; upsample: copies.
            """)
    @OptionGroup var plugins: PluginOptions
    @Argument(help: "Run folder (the --out of `losskit train`).") var runFolder: String
    @Option(help: "Layers (taps) to reconstruct from, comma-separated.") var from = "pool1,pool2,conv5,features"
    @Option(help: "Un-poolings to compare, comma-separated: known, fixed, upsample.") var unpool = "known,fixed"
    @Option(parsing: .unconditional, help: "Training steps per decoder.") var steps = 1500
    @Option(parsing: .unconditional, help: "Images per step.") var batchSize = 64
    @Option(parsing: .unconditional, help: "The decoders' Adam learning rate.") var lr = 1e-3
    @Option(parsing: .unconditional, help: "Held-out images the error is measured on.") var testImages = 1000
    @Option(parsing: .unconditional, help: "Threads (default: the run's).") var threads: Int?

    private var layers: [String] { from.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
    private var unpools: [String] { unpool.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }

    func validate() throws {
        guard !layers.isEmpty else { throw ValidationError("--from needs at least one layer") }
        guard !unpools.isEmpty, unpools.allSatisfy(["known", "fixed", "upsample"].contains) else {
            throw ValidationError("--unpool takes known, fixed and/or upsample; got '\(unpool)'")
        }
        guard (1...1_000_000).contains(steps) else { throw ValidationError("--steps must be in 1...1000000, got \(steps)") }
        guard (1...8192).contains(batchSize) else { throw ValidationError("--batch-size must be in 1...8192, got \(batchSize)") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
        guard testImages >= 1 else { throw ValidationError("--test-images must be at least 1, got \(testImages)") }
        try validateThreads(threads)
    }

    func run() throws {
        let loader = try plugins.load()
        guard let decoder = loader.plugin(named: "swwae") else {
            throw CommandFailure("the study's decoders are the swwae plugin, which is not loaded (check --plugin-path)")
        }
        let folder = try TrainedRun(path: runFolder, loader: loader, threads: threads)
        // the run folder gets one more part; no trainer may write it meanwhile
        let claim = try RunClaim(folder: runFolder)
        defer { claim.release() }
        var study = InversionStudy()
        study.steps = steps
        study.batchSize = batchSize
        study.learningRate = lr
        study.testImages = testImages
        print("inverting \(runFolder) (step \(folder.step)) from \(layers.joined(separator: ", ")) with \(unpools.joined(separator: ", ")) un-pooling, \(steps) steps each")
        let (rows, grids) = try study.run(folder, decoder: decoder, layers: layers, unpools: unpools) { print($0) }
        for (row, grid) in zip(rows, grids) { try RunFolder(runFolder).writeImage(grid, in: RunFolder.inversionName, file: InversionRecord.imageName(row)) }
        try InversionRecord(step: folder.step, rows: rows).write(folder: runFolder)
        print("wrote \(RunFolder(runFolder).inversion)")
    }
}
