import CLossKitABI
import Foundation
import LossKitCore

/// What `losskit plugins check` does inside its child process: create the plugin, prepare it for
/// a small synthetic setup, run it on a random batch, and gradient-check its loss (or, for an
/// encoder, its features) against central finite differences with respect to the images —
/// hence every tap — the encoder's parameters and the plugin's own parameters.
public struct PluginChecker {
    public var batchSize = 6
    public var seed: UInt64 = 7
    /// Called before each phase, so a parent process can tell where a crash happened.
    public var phase: (String) -> Void = { _ in }
    /// The host table the plugin gets: this host's, or in tests an older host's
    /// (`HostAPITable.abi11`) to check the plugin's fallbacks.
    public var api = UnsafePointer(HostAPITable.shared)

    public init() {}

    public struct Result: CustomStringConvertible {
        public let plugin: String
        public let lossValue: Float
        public let report: GradientCheck.Report
        public let probes: [(name: String, value: Double)]
        /// Taps the objective declares (`taps_read`, a glob matching at least one) of which no
        /// matching tap received any gradient. A loss that ignores what it says it reads passes
        /// the element-wise check (0 against 0), so this is reported on its own; ABI 1.2 cannot
        /// declare a tap read without gradient (SWWAE reads `pool*` for their switches; DCGAN mode
        /// does not use `logits`), so it is a note here, and the method tests pin each variant's list.
        public var tapsWithoutGradient: [String] = []
        public var passed: Bool { report.passed }
        public var description: String {
            let probeText = probes.map { "\($0.name)=\(String(format: "%.4g", $0.value))" }.joined(separator: " ")
            let silent = tapsWithoutGradient.isEmpty ? ""
                : "; note: declared taps that receive no gradient: \(tapsWithoutGradient.joined(separator: ", ")) (read without gradient, or not read)"
            return "\(plugin): loss \(lossValue); \(report)\(silent)\(probeText.isEmpty ? "" : "; probes \(probeText)")"
    }
    }

    public func check(_ plugin: LoadedPlugin, options: [(key: String, value: String)] = []) throws -> Result {
        let random = RandomGenerator(seed: seed)
        let (C, H, W) = CheckEncoder.imageShape
        let images = Tensor(uninitialized: [batchSize, C, H, W])
        random.fillNormal(images.data, images.count)
        let labels = (0..<batchSize).map { Int32($0 % CheckEncoder.numClasses) }
        let labelled = (0..<batchSize).map { UInt8($0 % 2) }
        // a data set large enough for memory-bank objectives' default noise counts
        let datasetSize = 8192
        let indices = (0..<batchSize).map { Int64($0 * 997 % datasetSize) }

        phase("create")
        let context = InstanceContext(instanceName: plugin.name, random: random, logSink: { _ in })
        let instance = try PluginInstance(plugin: plugin, context: context, options: options, api: api)

        switch plugin.kind {
        case .objective:
            let encoder = CheckEncoder(random: random)
            // tap shapes from a dry run, as training measures them
            let dry = PluginGraph(graph: Graph(training: true, random: random), encoder: encoder)
            let dryTaps = try encoder.encode(dry, images: dry.graph.constant(images))
            context.tapShapes = Dictionary(uniqueKeysWithValues: zip(dryTaps.names, dryTaps.nodes.map(\.shape)))
            for pattern in plugin.tapsRead where dryTaps.matching(pattern).isEmpty {
                throw HostError("\(plugin.name) reads tap '\(pattern)', which the check encoder (taps \(dryTaps.names.joined(separator: ", "))) does not offer")
            }
            phase("prepare")
            try instance.prepare(SetupInfo(
                instance: plugin.name, tap: plugin.defaultTap, channels: C, height: H, width: W,
                numClasses: CheckEncoder.numClasses, datasetSize: datasetSize, pixelMin: -3, pixelMax: 3, batchSize: batchSize))
            // The loss is checked as a function of the taps themselves (independent leaves; pool
            // taps keep their switches), the images (read directly by reconstruction and
            // warping objectives), the encoder's parameters (used by encode-again) and the
            // plugin's own parameters. The plugin's random draws repeat exactly each evaluation.
            let saved = random.stateWords
            var lossValue: Float = 0
            let tapValues = dryTaps.nodes.map { $0.value.copy() }
            phase("loss")
            var check = GradientCheck(step: 5e-4, rtol: 5e-2, atol: 5e-3, maxElementsPerTensor: 16, allowKinks: true)
            // a smaller step first: a parameter feeding many ReLU or max-pool units (a decoder's
            // or generator's weight) moves some across their kinks at 5e-4 but not at 2e-4
            check.retrySteps = [2e-4, 2e-3, 1e-2]
            check.stopGradients = false  // the loss as a function; detach/frozen placement is the method's own test
            let report = try check.run(
                inputs: [(name: "images", tensor: images)] + zip(dryTaps.names, tapValues).map { (name: "tap \($0)", tensor: $1) },
                parameters: encoder.parameters + context.parameters
            ) { graph, leaves in
                random.restore(from: RandomGenerator(state: saved))
                let pg = PluginGraph(graph: graph, encoder: encoder)
                let taps = TapSet()
                for (i, name) in dryTaps.names.enumerated() {
                    let source = dryTaps.nodes[i]
                    taps.emit(name, source.switches == nil ? leaves[i + 1] : graph.variable(leaves[i + 1].value, switchesOf: source))
                }
                let batch = BatchView(images: leaves[0], labels: labels, labelled: labelled, indices: indices,
                                      datasetSize: datasetSize, numClasses: CheckEncoder.numClasses, pixelMin: -3, pixelMax: 3)
                let loss = try instance.loss(pg, batch: batch, taps: taps)
                lossValue = loss.value.scalar
                guard lossValue.isFinite else { throw HostError("\(plugin.name): the loss is not finite (\(lossValue))") }
                return loss
            }
            phase("probes")
            var result = Result(plugin: plugin.name, lossValue: lossValue, report: report, probes: instance.probes().filter { $0.value.isFinite })
            let silent = Set(report.withoutGradient)
            result.tapsWithoutGradient = plugin.tapsRead.filter { pattern in
                dryTaps.matching(pattern).allSatisfy { silent.contains("tap \($0)") }
            }
            return result

        case .encoder:
            phase("prepare")
            try instance.prepare(SetupInfo(
                instance: plugin.name, tap: nil, channels: C, height: H, width: W, numClasses: CheckEncoder.numClasses,
                datasetSize: datasetSize, pixelMin: -3, pixelMax: 3, batchSize: batchSize))
            var lossValue: Float = 0
            phase("encode")
            var check = GradientCheck(step: 1e-3, rtol: 5e-2, atol: 5e-3, maxElementsPerTensor: 24, allowKinks: true)
            check.retrySteps = [5e-4, 2e-3]
            let report = try check.run(
                inputs: [(name: "images", tensor: images)], parameters: context.parameters
            ) { graph, leaves in
                let pg = PluginGraph(graph: graph, encoder: nil)
                let taps = try instance.encode(pg, images: leaves[0])
                let f = taps["features"]!
                let w = Tensor(uninitialized: f.shape)
                RandomGenerator(seed: 99).fillUniform(w.data, w.count, low: -1, high: 1)
                let loss = try graph.sum(graph.mul(f, graph.constant(w)))
                lossValue = loss.value.scalar
                return loss
            }
            return Result(plugin: plugin.name, lossValue: lossValue, report: report, probes: instance.probes().filter { $0.value.isFinite })
        }
    }
}
