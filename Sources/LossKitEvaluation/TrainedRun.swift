import Foundation
import LossKitCore
import LossKitData
import LossKitEvaluation
import LossKitPlugins
import LossKitRun

/// A finished (or checkpointed) run, reloaded for evaluation: its config, data, model and the
/// weights of its last checkpoint.
public struct TrainedRun {
    public let path: String
    public let setup: RunSetup
    public let step: Int

    /// `threads`: the engine's and OpenBLAS's threads while evaluating; nil keeps the run's.
    public init(path: String, loader: PluginLoader, threads: Int? = nil) throws {
        self.path = path
        guard let data = FileManager.default.contents(atPath: RunFolder(path).config) else {
            throw EvaluationError("\(path) is not a run folder (no config.json): pass the --out folder of `losskit train`")
        }
        let config = try JSONDecoder().decode(TrainingConfig.self, from: data)
        // the encoder it was trained with, from where it was when the run recorded it
        if let recorded = RunPlugins.read(folder: path) {
            let encoder = String(config.encoder.prefix { $0 != "(" }).trimmingCharacters(in: .whitespaces)
            if let missing = recorded.reload(into: loader).missing.first(where: { $0.name == encoder }) {
                throw EvaluationError("cannot evaluate \(path): \(missing.message)")
            }
        }
        Threads.set(threads ?? config.threads)
        setup = try RunSetup(config: config, loader: loader, random: RandomGenerator(seed: config.seed), log: { _ in })
        let checkpoint = try Checkpoint.read(path: RunFolder(path).checkpoint)
        try checkpoint.restoreWeights(parameters: setup.model.parameters, states: setup.model.states)
        step = checkpoint.step
    }

    /// Features (and logits) of the train and test sets, in evaluation mode.
    public func features() throws -> (train: FeatureExtractor.Output, test: FeatureExtractor.Output) {
        (try FeatureExtractor.run(model: setup.model, assembler: setup.trainAssembler, count: setup.train.count),
         try FeatureExtractor.run(model: setup.model, assembler: setup.testAssembler, count: setup.test.count))
    }
}

/// Raw pixels, normalised, as a feature matrix [N, C·H·W]: the floor any learned feature
/// should beat under kNN.
public func rawPixelFeatures(_ assembler: BatchAssembler, count: Int) -> Tensor {
    let images = assembler.images(Array(0..<count), augmentation: .none, random: RandomGenerator(seed: 0))
    return Tensor(shape: [count, images.count / max(count, 1)], storage: images.storage)
}
