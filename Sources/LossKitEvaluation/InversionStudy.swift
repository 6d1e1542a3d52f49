import Foundation
import LossKitCore
import LossKitFormats
import LossKitPlugins
import LossKitRun

/// The invertibility study of Zhang, Lee & Lee (2016): how much of the image each layer of a
/// trained encoder still holds, and how much the pooling switches add. The encoder is frozen
/// (its weights and batch-norm statistics as the run left them); for each chosen layer and
/// un-pooling, a decoder — the `swwae` plugin as `swwae@LAYER(decoder=first, unpool=U)`, its
/// own Adam — is trained to reconstruct the training images from that layer alone, and its
/// mean squared error on held-out images is measured (in normalised pixel units).
public struct InversionStudy {
    public struct Row: Codable, Equatable {
        public var layer: String
        public var unpool: String
        public var steps: Int
        /// The error over the last tenth of training, and on the held-out images.
        public var trainError: Double
        public var testError: Double
    }

    public var steps = 1500
    public var batchSize = 64
    public var learningRate = 1e-3
    /// Held-out images the error is measured on (the first ones of the test split).
    public var testImages = 1000
    public var seed: UInt64 = 1

    public init() {}

    /// Trains one decoder per (layer, unpool) and measures it; `grids[i]` are the first eight
    /// held-out images above their reconstructions for `rows[i]`.
    public func run(_ folder: TrainedRun, decoder: LoadedPlugin, layers: [String], unpools: [String],
                    log: (String) -> Void) throws -> (rows: [Row], grids: [ImageGrid]) {
        let run = folder.setup, model = run.model
        for layer in layers where model.tapShapes[layer] == nil {
            throw EvaluationError("the run's encoder has no tap '\(layer)' (taps: \(model.tapNames.joined(separator: ", ")))")
        }
        var rows: [Row] = [], grids: [ImageGrid] = []
        for layer in layers {
            for unpool in unpools {
                let (row, grid) = try invert(run: run, decoder: decoder, layer: layer, unpool: unpool)
                log(String(format: "from %@ (%@ switches): reconstruction error %.4f held out, %.4f training", layer, unpool, row.testError, row.trainError))
                rows.append(row)
                grids.append(grid)
            }
        }
        return (rows, grids)
    }

    private func invert(run: RunSetup, decoder: LoadedPlugin, layer: String, unpool: String) throws -> (Row, ImageGrid) {
        let random = RandomGenerator(seed: seed)
        let name = "\(decoder.name)@\(layer)"
        let context = InstanceContext(instanceName: name, random: random, logSink: { _ in })
        context.tapShapes = run.model.tapShapes
        let instance = try PluginInstance(plugin: decoder, context: context, options: [
            ("decoder", "first"), ("unpool", unpool), ("lr", String(learningRate)), ("show_every", "1"),
        ])
        var s = run.setup
        s = SetupInfo(instance: name, tap: layer, channels: s.channels, height: s.height, width: s.width, numClasses: s.numClasses,
                      datasetSize: s.datasetSize, pixelMin: s.pixelMin, pixelMax: s.pixelMax, batchSize: batchSize)
        try instance.prepare(s)
        let optimizer = Optimizer(parameters: context.parameters, defaultSettings: .adam(lr: Float(learningRate)),
                                  groupSettings: context.groupSettings)

        /// The decoder's loss on `images`: the frozen encoder's taps as constants (pool taps
        /// keep their switches), then the term, in training mode for the decoder's batch-norm.
        func step(_ images: Tensor, train: Bool) throws -> Double {
            let frozen = PluginGraph(graph: Graph(training: false, random: random), encoder: run.model)
            let encoded = try run.model.encode(frozen, images: frozen.graph.constant(images))
            let graph = Graph(training: true, random: random)
            let taps = TapSet()
            for (tap, node) in zip(encoded.names, encoded.nodes) {
                taps.emit(tap, node.switches == nil ? graph.constant(node.value) : graph.variable(node.value, switchesOf: node))
            }
            let pg = PluginGraph(graph: graph, encoder: run.model)
            let n = images.shape[0]
            let batch = BatchView(images: graph.constant(images), labels: [Int32](repeating: -1, count: n), labelled: [UInt8](repeating: 0, count: n),
                                  indices: (0..<n).map(Int64.init), datasetSize: run.train.count, numClasses: run.train.classCount,
                                  pixelMin: run.setup.pixelMin, pixelMax: run.setup.pixelMax)
            let loss = try instance.loss(pg, batch: batch, taps: taps)
            let value = Double(loss.value.scalar)
            guard value.isFinite else { throw EvaluationError("\(name): the reconstruction error is not finite") }
            if train {
                try graph.backward(from: loss)
                optimizer.step()
            }
            return value
        }

        var recent: [Double] = []
        for _ in 0..<steps {
            let indices = (0..<batchSize).map { _ in Int(random.next() % UInt64(run.train.count)) }
            recent.append(try step(run.trainAssembler.images(indices, augmentation: .none, random: random), train: true))
            if recent.count > max(1, steps / 10) { recent.removeFirst() }
        }
        let count = min(testImages, run.test.count)
        var total = 0.0
        for start in stride(from: 0, to: count, by: batchSize) {
            let indices = Array(start..<min(count, start + batchSize))
            total += try step(run.testAssembler.images(indices, augmentation: .none, random: random), train: false) * Double(indices.count)
        }
        // the grid: eight held-out images, the last call, which the decoder hands the report
        _ = try step(run.testAssembler.images(Array(0..<min(8, run.test.count)), augmentation: .none, random: random), train: false)
        guard let shown = context.reportImages.values.first else { throw EvaluationError("\(name) handed no reconstructions to the report") }
        let grid = ImageGrid(values: shown.values, count: shown.count, channels: shown.channels, height: shown.height, width: shown.width,
                             low: shown.low, high: shown.high, columns: shown.count / 2)
        let row = Row(layer: layer, unpool: unpool, steps: steps, trainError: recent.reduce(0, +) / Double(recent.count),
                      testError: total / Double(count))
        return (row, grid)
    }
}
