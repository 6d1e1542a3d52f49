import ArgumentParser
import Foundation
import LossKitCore
import LossKitEvaluation
import LossKitFormats
import LossKitHost
import LossKitRun

extension EvalCommand {
    /// `losskit eval samples RUN --classifier RUN2`: how good a GAN run's samples are.
    struct Samples: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "samples",
            abstract: "Score a GAN run's samples with a classifier trained on the same data: Inception Score's formula and Fréchet distance.",
            discussion: """
                Draws --count images from the generator of RUN (trained with a gan term) and passes them, and as many \
                real test images, through the encoder and head of CLASSIFIER (a run trained with ce on the same data set). \
                Prints exp(E KL(p(y|x) ‖ p(y))) for the samples and for the real images (the ceiling), and the Fréchet \
                distance between the two sets' features; writes them and a sample grid to RUN/samples for `losskit report`.
                """)
        @OptionGroup var plugins: PluginOptions
        @Argument(help: "The GAN run folder.") var runFolder: String
        @Option(help: "A run folder whose head classifies the same data set (trained with ce).") var classifier: String
        @Option(parsing: .unconditional, help: "Samples to draw.") var count = 1000
        @Option(parsing: .unconditional, help: "Threads (default: the GAN run's).") var threads: Int?

        func validate() throws {
            guard (2...100_000).contains(count) else { throw ValidationError("--count must be in 2...100000, got \(count)") }
            try validateThreads(threads)
        }

        func run() throws {
            let loader = try plugins.load()
            let gan = try TrainedRun(path: runFolder, loader: loader, threads: threads)
            let judge = try TrainedRun(path: classifier, loader: loader, threads: threads)
            guard judge.setup.config.data == gan.setup.config.data else {
                throw CommandFailure("the classifier was trained on \(judge.setup.config.data), the GAN on \(gan.setup.config.data): they must share the data set")
            }
            guard judge.setup.config.trainsTheHead else { throw CommandFailure("\(classifier) did not train its head: it cannot classify") }
            let claim = try RunClaim(folder: runFolder)
            defer { claim.release() }
            let samples = try GeneratorSamples.draw(gan, loader: loader, count: count)
            let fake = try FeatureExtractor.run(model: judge.setup.model, images: samples)
            let real = try FeatureExtractor.run(model: judge.setup.model, assembler: judge.setup.testAssembler, count: min(count, judge.setup.test.count))
            let scores = SampleScores(step: gan.step, classifier: classifier, count: count,
                                      inceptionScore: try SampleQuality.inceptionScore(logits: fake.logits),
                                      realInceptionScore: try SampleQuality.inceptionScore(logits: real.logits),
                                      frechetDistance: try SampleQuality.frechetDistance(fake.features, real.features))
            print(String(format: "%d samples (step %d): inception score %.3f (real test images: %.3f); Fréchet distance %.3f",
                         count, gan.step, scores.inceptionScore, scores.realInceptionScore, scores.frechetDistance))
            let shown = min(64, count), (C, H, W) = (samples.shape[1], samples.shape[2], samples.shape[3])
            let grid = ImageGrid(values: Array(UnsafeBufferPointer(start: samples.data, count: shown * C * H * W)), count: shown, channels: C, height: H, width: W,
                                 low: gan.setup.setup.pixelMin, high: gan.setup.setup.pixelMax, columns: 16)
            try RunFolder(runFolder).writeImage(grid, in: RunFolder.samplesName, file: SampleScores.gridName)
            try scores.write(folder: runFolder)
        }
    }
}
