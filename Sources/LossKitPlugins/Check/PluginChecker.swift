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
    /// The tap an objective reads, as `name@tap` in a loss expression; nil: its default tap.
    public var tap: String?

    public init() {}

    public struct Result: CustomStringConvertible {
        public let plugin: String
        public let lossValue: Float
        public let report: GradientCheck.Report
        public let probes: [(name: String, value: Double)]
        /// Taps the objective declares (`taps_read`, a glob matching at least one) of which no
        /// matching tap received any gradient. A loss that ignores what it says it reads passes
        /// the element-wise check (0 against 0), so this is checked on its own.
        public var tapsWithoutGradient: [String] = []
        /// Those of them the plugin does not declare as possibly without gradient
        /// (`taps_read_without_gradient`, ABI 1.3): a failure for a 1.3 plugin, a note for an
        /// older one, which had no way to declare it.
        public var undeclaredTapsWithoutGradient: [String] = []
        /// Whether an undeclared silent tap fails the check (ABI 1.3 and later).
        public var silenceFails = false
        /// Option values tried (`checkOptions`) and those that went wrong.
        public var optionValuesTried = 0
        public var optionFailures: [String] = []
        public var passed: Bool { report.passed && (!silenceFails || undeclaredTapsWithoutGradient.isEmpty) && optionFailures.isEmpty }
        public var description: String {
            let probeText = probes.map { "\($0.name)=\(String(format: "%.4g", $0.value))" }.joined(separator: " ")
            var silent = ""
            if !undeclaredTapsWithoutGradient.isEmpty {
                silent = "; \(silenceFails ? "FAILED" : "note"): declared taps that receive no gradient: "
                    + "\(undeclaredTapsWithoutGradient.joined(separator: ", ")) (a loss that ignores a tap it reads; "
                    + "declare taps read for their values only in taps_read_without_gradient)"
            }
            let optionText = optionValuesTried == 0 ? ""
                : optionFailures.isEmpty ? "; \(optionValuesTried) option values set as declared"
                : "; FAILED options: \(optionFailures.joined(separator: "; "))"
            return "\(plugin): loss \(lossValue); \(report)\(silent)\(optionText)\(probeText.isEmpty ? "" : "; probes \(probeText)")"
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

        phase("options")
        let (tried, optionFailures) = checkOptions(plugin)
        phase("create")
        let instanceName = plugin.name + (tap.map { "@" + $0 } ?? "")
        let context = InstanceContext(instanceName: instanceName, random: random, logSink: { _ in })
        let instance = try PluginInstance(plugin: plugin, context: context, options: options, api: api)

        switch plugin.kind {
        case .objective:
            let encoder = CheckEncoder(random: random)
            // tap shapes from a dry run, as training measures them
            let dry = PluginGraph(graph: Graph(training: true, random: random), encoder: encoder)
            let dryTaps = try encoder.encode(dry, images: dry.graph.constant(images))
            context.tapShapes = Dictionary(uniqueKeysWithValues: zip(dryTaps.names, dryTaps.nodes.map(\.shape)))
            let tap = self.tap ?? plugin.defaultTap
            if let tap, dryTaps[tap] == nil {
                throw HostError("\(plugin.name)@\(tap): the check encoder has no tap '\(tap)' (taps \(dryTaps.names.joined(separator: ", ")))")
            }
            // `name@tap` reads that tap in place of the default one, as in training
            let tapsRead = plugin.tapsRead.map { $0 == plugin.defaultTap ? tap ?? $0 : $0 }
            for pattern in tapsRead where dryTaps.matching(pattern).isEmpty {
                throw HostError("\(plugin.name) reads tap '\(pattern)', which the check encoder (taps \(dryTaps.names.joined(separator: ", "))) does not offer")
            }
            phase("prepare")
            try instance.prepare(SetupInfo(
                instance: instanceName, tap: tap, channels: C, height: H, width: W,
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
            // smaller steps first: a parameter feeding many ReLU or max-pool units (a decoder's
            // or generator's weight) moves some across their kinks at 5e-4 but not at 1e-4
            check.retrySteps = [2e-4, 1e-4, 5e-5, 2e-3, 1e-2]
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
                    // a pool tap keeps its switches on the checked leaf itself, so a loss that reads its
                    // values (swwae@pool2) sends its gradient to what the check nudges
                    if source.switches != nil { graph.attachSwitches(of: source, to: leaves[i + 1]) }
                    taps.emit(name, leaves[i + 1])
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
            result.tapsWithoutGradient = tapsRead.filter { pattern in
                dryTaps.matching(pattern).allSatisfy { silent.contains("tap \($0)") }
            }
            result.undeclaredTapsWithoutGradient = result.tapsWithoutGradient.filter { !plugin.tapsReadWithoutGradient.contains($0) }
            result.silenceFails = plugin.abiMinor >= 3
            result.optionValuesTried = tried
            result.optionFailures = optionFailures
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
            var result = Result(plugin: plugin.name, lossValue: lossValue, report: report, probes: instance.probes().filter { $0.value.isFinite })
            result.optionValuesTried = tried
            result.optionFailures = optionFailures
            return result
        }
    }

    /// Sets each declared option, alone, to each value its declaration says it accepts at the
    /// edges — the default, both ends of a closed range, every choice, true and false — on a
    /// fresh instance, and to a value just outside each bound, which must be refused. Returns
    /// the values tried and what went wrong: a setter that refuses a declared value, or a
    /// declared value the host refuses (a default outside its own range).
    public func checkOptions(_ plugin: LoadedPlugin) -> (tried: Int, failures: [String]) {
        var tried = 0, failures: [String] = []
        func instance(_ options: [(key: String, value: String)]) throws {
            let context = InstanceContext(instanceName: plugin.name, random: RandomGenerator(seed: seed), logSink: { _ in })
            _ = try PluginInstance(plugin: plugin, context: context, options: options, api: api)
        }
        for o in plugin.options {
            var accepted = [o.defaultValue], refused: [String] = []
            // the values next to a bound in the option's own type
            func text(_ v: Double) -> String { o.type == .int64 ? String(Int64(v)) : o.type == .float ? String(Float(v)) : String(v) }
            func below(_ v: Double) -> Double { o.type == .int64 ? v - 1 : o.type == .float ? Double(Float(v).nextDown) : v.nextDown }
            func above(_ v: Double) -> Double { o.type == .int64 ? v + 1 : o.type == .float ? Double(Float(v).nextUp) : v.nextUp }
            if let lo = o.range.minimum {
                if o.range.minimumOpen { refused.append(text(lo)) } else { accepted.append(text(lo)); refused.append(text(below(lo))) }
            }
            if let hi = o.range.maximum {
                if o.range.maximumOpen { refused.append(text(hi)) } else { accepted.append(text(hi)); refused.append(text(above(hi))) }
            }
            if let choices = o.choices { accepted += choices; refused.append(choices.joined() + "?") }
            if o.type == .bool { accepted += ["true", "false"] }
            for value in Set(accepted).sorted() {
                tried += 1
                do { try instance([(o.name, value)]) } catch { failures.append("\(o.name)=\(value) is declared valid but failed: \(error)") }
            }
            for value in refused {
                tried += 1
                if (try? instance([(o.name, value)])) != nil { failures.append("\(o.name)=\(value) is outside the declaration but was accepted") }
            }
        }
        return (tried, failures)
    }
}
