import Foundation
import LossKitCore
import LossKitData
import LossKitFormats
import LossKitLossExpression
import LossKitPlugins

/// The pieces every command that touches a run builds from its config: the data, the
/// normalisation, and the model (encoder plugin + head).
public struct RunSetup {
    public let config: TrainingConfig
    public let source: DataSource
    public let train: ImageDataset
    public let test: ImageDataset
    public let trainAssembler: BatchAssembler
    public let testAssembler: BatchAssembler
    public let setup: SetupInfo
    public let model: EncoderModel
    public let encoderPlugin: LoadedPlugin

    public init(config: TrainingConfig, loader: PluginLoader, random: RandomGenerator, log: @escaping (String) -> Void) throws {
        self.config = config
        source = try DataSource.parse(config.data)
        train = try source.load(.train)
        test = try source.load(.test)
        guard train.channels == test.channels, train.height == test.height, train.width == test.width else {
            throw RunError("train images are \(train.channels)×\(train.height)×\(train.width) but test images are \(test.channels)×\(test.height)×\(test.width)")
        }
        let norm = source.normalization(of: train)
        trainAssembler = BatchAssembler(dataset: train, mean: norm.mean, std: norm.std)
        testAssembler = BatchAssembler(dataset: test, mean: norm.mean, std: norm.std)
        let range = trainAssembler.pixelRange
        setup = SetupInfo(
            instance: "encoder", tap: nil, channels: train.channels, height: train.height, width: train.width,
            numClasses: train.classCount, datasetSize: train.count, pixelMin: range.min, pixelMax: range.max, batchSize: config.batchSize)
        let spec = try RunSetup.parseEncoder(config.encoder)
        guard let plugin = loader.plugin(named: spec.name) else {
            let encoders = loader.plugins.filter { $0.kind == .encoder }.map(\.name)
            throw RunError("unknown encoder '\(spec.name)' (encoders: \(encoders.isEmpty ? "none loaded — check --plugin-path" : encoders.joined(separator: ", ")))")
        }
        encoderPlugin = plugin
        model = try EncoderModel(plugin: plugin, options: spec.options, setup: setup, random: random, log: log)
    }

    /// "convnet-s(width=0.5)" → name and options, in loss-term syntax.
    public static func parseEncoder(_ text: String) throws -> (name: String, options: [(key: String, value: String)]) {
        let e: LossExpression
        do {
            e = try LossExpression.parse(text)
        } catch {
            throw RunError("encoder \(error)")
        }
        guard e.terms.count == 1, let t = e.terms.first, t.weight == 1, t.tap == nil else {
            throw RunError("--encoder takes one encoder name with optional options, like convnet-s(width=0.5); got '\(text)'")
        }
        return (t.plugin, t.options.map { ($0.key, $0.value) })
    }
}
