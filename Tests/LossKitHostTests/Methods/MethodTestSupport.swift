import Foundation
import LossKitCore
import LossKitEvaluation
import LossKitHost
import LossKitPlugins
import LossKitRun
import LossKitTraining
import XCTest

/// Trains a method on generated data and reads what its property tests need.
final class MethodHarness {
    let data: String
    let loader: PluginLoader
    private var folders: [String] = []

    init(plugins: [String], data: String) throws {
        self.data = data
        let folder = try BuiltPlugins.folder(["ConvNet"] + plugins)
        folders = [folder, data]
        loader = PluginLoader()
        loader.load(searchPath: [folder])
        XCTAssertTrue(loader.rejected.isEmpty, "\(loader.rejected)")
    }

    deinit { folders.forEach { try? FileManager.default.removeItem(atPath: $0) } }

    func config(loss: String, steps: Int) -> TrainingConfig {
        var c = SyntheticData.config(data: data, loss: loss, steps: steps)
        c.labelledPerBatch = loss.contains("ce") ? 8 : 0
        c.batchSize = 32
        c.checkpointEvery = 10_000
        c.logEvery = 1
        return c
    }

    func make(_ config: TrainingConfig) throws -> Trainer {
        let out = SyntheticData.runFolder()
        folders.append(out)
        return try Trainer(config: config, runDirectory: out, loader: loader, resume: false, log: { _ in })
    }

    func train(_ config: TrainingConfig) throws -> (Trainer, [[String: Any]]) {
        let t = try make(config)
        return (t, try train(t))
    }

    func train(_ t: Trainer) throws -> [[String: Any]] {
        try t.train()
        return try MetricsLog.read(t.runDirectory + "/metrics.jsonl").filter { $0["loss"] != nil }
    }

    /// Features of the train and test sets, and the linear-probe test accuracy on them.
    func linearProbeAccuracy(_ t: Trainer) throws -> Double {
        let run = t.run
        let train = try FeatureExtractor.run(model: run.model, assembler: run.trainAssembler, count: run.train.count)
        let test = try FeatureExtractor.run(model: run.model, assembler: run.testAssembler, count: run.test.count)
        return try LinearProbe().evaluate(train: train.features, trainLabels: run.train.labels, test: test.features,
                                          testLabels: run.test.labels, classes: run.train.classCount).testAccuracy
    }

    /// Runs one term on the test images in evaluation mode and returns its probes.
    func heldOutProbes(_ trainer: Trainer, term label: String, count: Int = 32, training: Bool = false) throws -> [String: Double] {
        try heldOut(trainer, term: label, count: count, training: training).probes
    }

    /// Runs one term on test images; returns its value, probes, and the graph (for gradients).
    func heldOut(_ trainer: Trainer, term label: String, count: Int = 32, training: Bool = false) throws -> (value: Node, probes: [String: Double], graph: Graph) {
        let e = try evaluate(trainer, term: label, count: count, training: training)
        return (e.value, Dictionary(uniqueKeysWithValues: trainer.terms.first { $0.label == label }!.instance!.probes().map { ($0.name, $0.value) }), e.graph)
    }

    /// One term on the first `count` test images (un-augmented, all rows unlabelled, indices
    /// 0..<count), with the encoder's taps — or `taps`, made from the images' node, in their
    /// place. Also returns the images and the generator's state before the term ran, so a test
    /// can make the term's random draws again.
    func evaluate(_ trainer: Trainer, term label: String, count: Int, training: Bool = false,
                  taps makeTaps: ((Graph, TapSet) throws -> TapSet)? = nil) throws
        -> (value: Node, taps: TapSet, images: Tensor, stateBefore: [UInt64], graph: Graph) {
        let run = trainer.run
        let images = run.testAssembler.images(Array(0..<min(count, run.test.count)), augmentation: .none, random: RandomGenerator(seed: 5))
        let n = images.shape[0]
        let pg = PluginGraph(graph: Graph(training: training, random: trainer.random), encoder: run.model)
        let node = pg.graph.constant(images)
        let encoded = try run.model.encode(pg, images: node)
        let taps = try makeTaps?(pg.graph, encoded) ?? encoded
        let batch = BatchView(images: node, labels: [Int32](repeating: -1, count: n), labelled: [UInt8](repeating: 0, count: n),
                              indices: (0..<n).map(Int64.init), datasetSize: run.train.count, numClasses: run.train.classCount,
                              pixelMin: run.setup.pixelMin, pixelMax: run.setup.pixelMax)
        let state = trainer.random.stateWords
        let value = try trainer.terms.first { $0.label == label }!.value(pg, batch: batch, taps: taps)
        return (value, taps, images, state, pg.graph)
    }

    static func series(_ lines: [[String: Any]], term: String) -> [Double] {
        lines.compactMap { ($0["terms"] as? [String: Any])?[term] as? Double }
    }

    static func probe(_ lines: [[String: Any]], _ name: String) -> [Double] {
        lines.compactMap { ($0["probes"] as? [String: Any])?[name] as? Double }
    }

    static func mean(_ xs: ArraySlice<Double>) -> Double { xs.reduce(0, +) / Double(max(xs.count, 1)) }
}

/// A known answer's gradient: the term's backward pass against central differences of the
/// test's own double-precision reference, with respect to each tap.
enum ReferenceGradient {
    /// The taps as leaves of the graph (pool taps keep their switches), so that each one's
    /// gradient is the term's alone, not summed on through the encoder.
    static func leaves(_ graph: Graph, _ encoded: TapSet) -> TapSet {
        let taps = TapSet()
        for (name, node) in zip(encoded.names, encoded.nodes) {
            taps.emit(name, node.switches == nil ? graph.variable(node.value.copy()) : graph.variable(node.value.copy(), switchesOf: node))
        }
        return taps
    }

    /// Runs the backward pass from `value` and compares the gradient of each of `names` (leaves
    /// from `leaves`) with (R(x + h) − R(x − h)) / 2h of `reference`, on up to `perTap` elements
    /// spread over the tap. An element agrees when |analytic − numeric| ≤ 1e-3·s + 2e-2·|numeric|,
    /// s the largest |numeric| of that tap: f32 against f64, with room for h² curvature.
    /// `atKink(tap, value)`: elements where the reference is not differentiable, skipped.
    static func assertAgrees(_ value: Node, graph: Graph, taps: TapSet, names: [String], perTap: Int = 40,
                             atKink: (String, Float) -> Bool = { _, _ in false },
                             file: StaticString = #filePath, line: UInt = #line, reference: ([String: Tensor]) throws -> Double) throws {
        try graph.backward(from: value)
        var inputs: [String: Tensor] = [:]
        for name in taps.names { inputs[name] = try XCTUnwrap(taps[name], file: file, line: line).value.copy() }
        for name in names {
            let node = try XCTUnwrap(taps[name], name, file: file, line: line)
            let grad = node.grad ?? Tensor(zeros: node.shape)
            let x = inputs[name]!
            let stride = max(1, x.count / perTap)
            var pairs: [(Int, Double, Double)] = []
            for i in Swift.stride(from: 0, to: x.count, by: stride) where !atKink(name, x.data[i]) {
                let saved = x.data[i]
                let h = max(1e-3, abs(saved) * 1e-3)
                x.data[i] = saved + h
                let (upAt, up) = (Double(x.data[i]), try reference(inputs))
                x.data[i] = saved - h
                let (downAt, down) = (Double(x.data[i]), try reference(inputs))
                x.data[i] = saved
                pairs.append((i, Double(grad.data[i]), (up - down) / (upAt - downAt)))
            }
            let scale = pairs.map { abs($0.2) }.max() ?? 0
            XCTAssertGreaterThan(scale, 0, "\(name): the reference has no gradient here; the test checks nothing", file: file, line: line)
            for (i, analytic, numeric) in pairs where abs(analytic - numeric) > 1e-3 * scale + 2e-2 * abs(numeric) {
                XCTFail("\(name)[\(i)]: the term's gradient \(analytic), the reference's \(numeric)", file: file, line: line)
            }
        }
    }
}
