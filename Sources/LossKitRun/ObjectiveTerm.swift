import LossKitCore
import LossKitDistributed
import LossKitLossExpression
import LossKitPlugins

/// What computes a term's value: a plugin instance through the C ABI, or a term built into the
/// host (`ce`, or the boundary benchmark's in-process twin of a plugin). The trainer treats every
/// kind alike; only what a kind says of itself differs.
public enum TermComputation {
    case plugin(PluginInstance)
    case builtIn(BuiltInTerm)
}

/// A term the host computes itself, on the same graph and taps a plugin term gets.
public protocol BuiltInTerm {
    /// Whether the term reads the batch's unlabelled rows: a run whose terms read none draws
    /// its labelled rows only (`Trainer.rowsPerStep`).
    var readsUnlabelledRows: Bool { get }
    func value(_ pg: PluginGraph, batch: BatchView, taps: TapSet) throws -> Node
}

/// `ce`: the cross-entropy of the host's linear head (the `logits` tap) on the labelled rows.
public struct CrossEntropyTerm: BuiltInTerm {
    public init() {}
    public var readsUnlabelledRows: Bool { false }
    public func value(_ pg: PluginGraph, batch: BatchView, taps: TapSet) throws -> Node {
        guard let logits = taps["logits"] else { throw RunError("ce: the model has no logits tap") }
        return try pg.graph.softmaxCrossEntropy(logits, labels: batch.labels.map { max($0, 0) }, mask: batch.labelled.map { $0 != 0 })
    }
}

/// A term computed by a Swift closure in the host process (the boundary benchmark's twin of a
/// plugin, measuring what the C ABI costs); it reads every row, as a plugin may.
public struct InProcessTerm: BuiltInTerm {
    let compute: (PluginGraph, BatchView, TapSet) throws -> Node
    public init(_ compute: @escaping (PluginGraph, BatchView, TapSet) throws -> Node) { self.compute = compute }
    public var readsUnlabelledRows: Bool { true }
    public func value(_ pg: PluginGraph, batch: BatchView, taps: TapSet) throws -> Node { try compute(pg, batch, taps) }
}

/// One weighted term of the loss expression. `label` names it in logs and errors ("nce",
/// "sc@conv4").
public final class ObjectiveTerm {
    public let label: String
    public let weight: Double
    /// When the term is on and how its weight ramps; the weight at a step is `weight` times
    /// `schedule.factor(afterSteps:)`.
    public let schedule: TermSchedule
    public let plugin: String
    public let computation: TermComputation
    /// Wraps each computation of the value (the boundary benchmark times the term's own call).
    package var measured: ((() throws -> Node) throws -> Node)?

    public init(label: String, weight: Double, schedule: TermSchedule = TermSchedule(), plugin: String, computation: TermComputation) {
        self.label = label
        self.weight = weight
        self.schedule = schedule
        self.plugin = plugin
        self.computation = computation
    }

    /// The plugin instance behind the term (its context, probes, after-step hook), if it is a
    /// plugin's.
    public var instance: PluginInstance? {
        if case .plugin(let instance) = computation { return instance }
        return nil
    }

    /// Whether the term reads unlabelled rows: every plugin term may.
    public var readsUnlabelledRows: Bool {
        switch computation {
        case .plugin: return true
        case .builtIn(let term): return term.readsUnlabelledRows
        }
    }

    /// The term's unweighted value for this batch.
    public func value(_ pg: PluginGraph, batch: BatchView, taps: TapSet) throws -> Node {
        let compute = { [computation] () throws -> Node in
            switch computation {
            case .plugin(let instance): return try instance.loss(pg, batch: batch, taps: taps)
            case .builtIn(let term): return try term.value(pg, batch: batch, taps: taps)
            }
        }
        return try measured.map { try $0(compute) } ?? compute()
    }
}

/// Builds the terms of a loss expression against the loaded plugins and the model's taps,
/// so every mistake — an unknown plugin, a tap the encoder lacks, a bad option — is reported
/// before step one.
public enum LossComposer {
    /// The terms built into the host, by name, each with the one tap it reads; none takes
    /// options. Their names are reserved (`PluginLoader.reservedNames`): no plugin may take one.
    public static let builtInTerms: [(name: String, tap: String, make: () -> BuiltInTerm)] = [
        ("ce", "logits", { CrossEntropyTerm() }),
    ]

    public static func compose(
        _ expression: LossExpression, loader: PluginLoader, model: EncoderModel, setup: SetupInfo, random: RandomGenerator,
        communicator: Communicator = SingleProcess(), log: @escaping (String) -> Void = { print($0) }
    ) throws -> [ObjectiveTerm] {
        let objectives = loader.plugins.filter { $0.kind == .objective }.map(\.name)
        try expression.validate(knownPlugins: builtInTerms.map(\.name) + objectives, availableTaps: model.tapNames)
        var terms: [ObjectiveTerm] = []
        let counts = Dictionary(grouping: expression.terms, by: \.plugin).mapValues(\.count)
        for term in expression.terms {
            let label = counts[term.plugin]! > 1 ? "\(term.plugin)@\(term.tap ?? "default")" : term.plugin
            if let builtIn = builtInTerms.first(where: { $0.name == term.plugin }) {
                if let tap = term.tap, tap != builtIn.tap {
                    throw RunError("\(builtIn.name) reads the '\(builtIn.tap)' tap only; '@\(tap)' is not supported")
                }
                if !term.options.isEmpty { throw RunError("\(builtIn.name) is built into the host and takes no options") }
                terms.append(ObjectiveTerm(label: label, weight: term.weight, schedule: term.schedule, plugin: builtIn.name,
                                           computation: .builtIn(builtIn.make())))
                continue
            }
            let plugin = loader.plugin(named: term.plugin)!
            let tap = term.tap ?? plugin.defaultTap
            // every tap the plugin reads (its default one rebound by @tap) must exist
            for pattern in plugin.tapsRead {
                let wanted = pattern == plugin.defaultTap ? (tap ?? pattern) : pattern
                guard model.tapNames.contains(where: { tapNameMatches($0, wanted) }) else {
                    throw RunError("\(label) reads tap '\(wanted)', which encoder \(model.encoder.plugin.name) does not offer (taps: \(model.tapNames.joined(separator: ", ")))")
                }
            }
            let context = InstanceContext(instanceName: label, random: random, logSink: log)
            context.tapShapes = model.tapShapes
            // a plugin may ask its rank as early as prepare (losskit.h, "What a plugin may call where")
            context.communicator = communicator
            let instance = try PluginInstance(plugin: plugin, context: context, options: term.options.map { ($0.key, $0.value) })
            var s = setup
            s.instance = label
            s.tap = tap
            try instance.prepare(s)
            terms.append(ObjectiveTerm(label: label, weight: term.weight, schedule: term.schedule, plugin: term.plugin, computation: .plugin(instance)))
        }
        return terms
    }
}
