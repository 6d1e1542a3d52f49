import Foundation
import LossKitCore
import LossKitPlugins
import LossKitRun

/// Draws images from the generator of a run trained with a `gan` term: the term is made again
/// as the run's loss expression wrote it, its parameters and states restored from the run's
/// checkpoint, and run on batches of test images (its value is not used) with the generator's
/// samples handed over whole each call.
public enum GeneratorSamples {
    public static func draw(_ folder: TrainedRun, loader: PluginLoader, count: Int, batchSize: Int = 100, seed: UInt64 = 1) throws -> Tensor {
        let run = folder.setup
        let expression = try run.config.lossExpression()
        let gans = expression.terms.filter { $0.plugin == "gan" }
        guard gans.count == 1, let term = gans.first else {
            throw EvaluationError("\(folder.path) was trained with \(gans.isEmpty ? "no gan term" : "\(gans.count) gan terms") (loss '\(run.config.loss)'): its samples need exactly one")
        }
        guard let plugin = loader.plugin(named: "gan") else { throw EvaluationError("the gan plugin is not loaded (check --plugin-path)") }
        let shown = [("show_every", "1"), ("show_count", String(batchSize))]
        let options = term.options.map { ($0.key, $0.value) }.filter { o in !shown.contains { $0.0 == o.0 } } + shown
        let random = RandomGenerator(seed: seed)
        let context = InstanceContext(instanceName: "gan", random: random, logSink: { _ in })
        context.tapShapes = run.model.tapShapes
        let instance = try PluginInstance(plugin: plugin, context: context, options: options)
        var setup = run.setup
        setup.instance = "gan"
        setup.tap = term.tap ?? plugin.defaultTap
        setup.batchSize = batchSize
        try instance.prepare(setup)
        let checkpoint = try Checkpoint.read(path: RunFolder(folder.path).checkpoint)
        try checkpoint.restoreWeights(parameters: context.parameters, states: context.states)

        let (C, H, W) = (run.setup.channels, run.setup.height, run.setup.width), per = C * H * W
        let samples = Tensor(uninitialized: [count, C, H, W])
        var drawn = 0
        while drawn < count {
            let n = min(batchSize, count - drawn)
            let indices = (0..<n).map { ($0 + drawn) % run.test.count }
            let images = run.testAssembler.images(indices, augmentation: .none, random: random)
            let pg = PluginGraph(graph: Graph(training: true, random: random), encoder: run.model)
            let node = pg.graph.constant(images)
            let taps = try run.model.encode(pg, images: node)
            let batch = BatchView(images: node, labels: [Int32](repeating: -1, count: n), labelled: [UInt8](repeating: 0, count: n),
                                  indices: indices.map(Int64.init), datasetSize: run.train.count, numClasses: run.train.classCount,
                                  pixelMin: run.setup.pixelMin, pixelMax: run.setup.pixelMax)
            _ = try instance.loss(pg, batch: batch, taps: taps)
            guard let made = context.reportImages["generated samples"], made.count == n, made.values.count == n * per else {
                throw EvaluationError("the gan term handed over no samples of \(n) images")
            }
            (samples.data + drawn * per).update(from: made.values, count: n * per)
            drawn += n
        }
        return samples
    }
}
