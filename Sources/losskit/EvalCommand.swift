import ArgumentParser
import Foundation
import LossKitCore
import LossKitData
import LossKitEvaluation
import LossKitFormats
import LossKitHost

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a run: its head's accuracy, weighted kNN or a linear probe on its frozen features, or a GAN run's samples.",
        subcommands: [Accuracy.self, KNN.self, Linear.self, Samples.self])

    struct Accuracy: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "accuracy", abstract: "Test accuracy of the run's classification head.")
        @OptionGroup var plugins: PluginOptions
        @Argument(help: "Run folder (the --out of `losskit train`).") var runFolder: String
        @Option(parsing: .unconditional, help: "Threads (default: the run's).") var threads: Int?

        func validate() throws { try validateThreads(threads) }

        func run() throws {
            let folder = try TrainedRun(path: runFolder, loader: plugins.load(), threads: threads)
            guard folder.setup.config.trainsTheHead else {
                throw CommandFailure("\(runFolder) did not train its head (its loss has no `ce` term or no labelled rows): "
                                      + "its accuracy would be chance; use `losskit eval knn \(runFolder)` or `losskit eval linear \(runFolder)`")
            }
            let out = try FeatureExtractor.run(model: folder.setup.model, assembler: folder.setup.testAssembler, count: folder.setup.test.count)
            let acc = FeatureExtractor.accuracy(FeatureExtractor.predictions(out.logits), folder.setup.test.labels)
            print(String(format: "head accuracy: %.2f%% on %d test images (step %d)", acc * 100, folder.setup.test.count, folder.step))
        }
    }

    struct KNN: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "knn",
            abstract: "Weighted kNN on cosine similarity of the features (each neighbour votes exp(s/tau)).",
            discussion: "With --raw-pixels and --data instead of a run folder: the raw-pixel floor.")
        @OptionGroup var plugins: PluginOptions
        @Argument(help: "Run folder (the --out of `losskit train`).") var runFolder: String?
        @Option(parsing: .unconditional, help: "Neighbours.") var k = 200
        @Option(parsing: .unconditional, help: "Temperature of the votes.") var tau: Float = 0.07
        @Flag(help: "Use normalised raw pixels as features (needs --data).") var rawPixels = false
        @Option(help: "Data set for --raw-pixels (default fashion-mnist); a run is evaluated on its own.") var data: String?
        @Option(parsing: .unconditional, help: "Threads (default: the run's; 2 for --raw-pixels).") var threads: Int?

        func validate() throws {
            if rawPixels, runFolder != nil { throw ValidationError("give a run folder or --raw-pixels, not both") }
            if !rawPixels, runFolder == nil { throw ValidationError("give a run folder, or --raw-pixels") }
            if !rawPixels, data != nil {
                throw ValidationError("--data goes with --raw-pixels: a run is evaluated on the data set it was trained on (its config.json)")
            }
            // before the features are extracted, which takes a pass over the data set
            if k < 1 { throw ValidationError("--k must be at least 1, got \(k)") }
            if !(tau > 0 && tau.isFinite) { throw ValidationError("--tau must be a positive number, got \(tau)") }
            try validateThreads(threads)
        }

        func run() throws {
            Threads.set(threads ?? 2)
            let trainF: Tensor, testF: Tensor, trainL: [Int32], testL: [Int32], classes: Int
            let what: String
            if rawPixels {
                let data = self.data ?? "fashion-mnist"
                let source = try DataSource.parse(data)
                let train = try source.load(.train), test = try source.load(.test)
                let norm = source.normalization(of: train)
                trainF = rawPixelFeatures(BatchAssembler(dataset: train, mean: norm.mean, std: norm.std), count: train.count)
                testF = rawPixelFeatures(BatchAssembler(dataset: test, mean: norm.mean, std: norm.std), count: test.count)
                (trainL, testL, classes) = (train.labels, test.labels, train.classCount)
                what = "raw pixels of \(data)"
            } else {
                guard let runFolder else { return }  // validate() asked for one
                let folder = try TrainedRun(path: runFolder, loader: plugins.load(), threads: threads)
                let f = try folder.features()
                (trainF, testF) = (f.train.features, f.test.features)
                (trainL, testL, classes) = (folder.setup.train.labels, folder.setup.test.labels, folder.setup.train.classCount)
                what = "\(runFolder) (step \(folder.step))"
            }
            let result = try KNNClassifier.evaluate(train: trainF, trainLabels: trainL, test: testF, testLabels: testL, classes: classes, k: k, tau: tau)
            print(String(format: "kNN accuracy: %.2f%% (k=%d, tau=%g) — %@", result.accuracy * 100, k, tau, what))
        }
    }

    struct Linear: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "linear", abstract: "Linear probe (multinomial logistic regression) on frozen features.")
        @OptionGroup var plugins: PluginOptions
        @Argument(help: "Run folder (the --out of `losskit train`).") var runFolder: String
        @Option(parsing: .unconditional, help: "Threads (default: the run's).") var threads: Int?

        func validate() throws { try validateThreads(threads) }

        func run() throws {
            let folder = try TrainedRun(path: runFolder, loader: plugins.load(), threads: threads)
            let f = try folder.features()
            let result = try LinearProbe().evaluate(train: f.train.features, trainLabels: folder.setup.train.labels, test: f.test.features,
                                                    testLabels: folder.setup.test.labels, classes: folder.setup.train.classCount)
            print(String(format: "linear probe: %.2f%% test, %.2f%% train (step %d)", result.testAccuracy * 100, result.trainAccuracy * 100, folder.step))
        }
    }
}

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "embed", abstract: "Write a run's features as a .npy array [N, D] (and labels beside it).")
    @OptionGroup var plugins: PluginOptions
    @Argument(help: "Run folder (the --out of `losskit train`).") var runFolder: String
    @Option(help: "Output .npy path.") var out: String
    @Option(help: "train or test.") var split = "test"
    @Option(parsing: .unconditional, help: "Threads (default: the run's).") var threads: Int?

    func validate() throws {
        guard split == "train" || split == "test" else { throw ValidationError("--split is train or test, got '\(split)'") }
        try validateThreads(threads)
    }

    func run() throws {
        let folder = try TrainedRun(path: runFolder, loader: plugins.load(), threads: threads)
        let s = folder.setup
        let (assembler, set) = split == "train" ? (s.trainAssembler, s.train) : (s.testAssembler, s.test)
        let f = try FeatureExtractor.run(model: s.model, assembler: assembler, count: set.count)
        try NPY.write(floats: f.features.array, shape: f.features.shape, to: out)
        let labelsPath = (out as NSString).deletingPathExtension + ".labels.npy"
        try NPY.write(int32s: set.labels, shape: [set.count], to: labelsPath)
        print("wrote \(out) \(f.features.shape) and \(labelsPath)")
    }
}
