import LossKitCore
import LossKitDistributed
import LossKitLossExpression
import LossKitPlugins

/// One weighted term of the loss expression: the built-in supervised `ce`, or a plugin
/// instance. `label` names it in logs and errors ("nce", "sc@conv4").
public final class ObjectiveTerm {
    public let label: String
    public let weight: Double
    /// When the term is on and how its weight ramps; the weight at a step is `weight` times
    /// `schedule.factor(afterSteps:)`.
    public let schedule: TermSchedule
    public let plugin: String
    public let instance: PluginInstance?
    /// A loss computed inside the host process instead of `instance`: only the boundary
    /// benchmark's twin of a plugin uses it, to measure what the C ABI costs.
    package let inProcess: ((PluginGraph, BatchView, TapSet) throws -> Node)?

    package init(label: String, weight: Double, schedule: TermSchedule = TermSchedule(), plugin: String, instance: PluginInstance?,
         inProcess: ((PluginGraph, BatchView, TapSet) throws -> Node)? = nil) {
        self.label = label
        self.weight = weight
        self.schedule = schedule
        self.plugin = plugin
        self.instance = instance
        self.inProcess = inProcess
    }

    /// The term's unweighted value for this batch.
    public func value(_ pg: PluginGraph, batch: BatchView, taps: TapSet) throws -> Node {
        if let inProcess { return try inProcess(pg, batch, taps) }
        guard let instance else {
            // cross-entropy of the head on the labelled rows only
            guard let logits = taps["logits"] else { throw HostError("ce: the model has no logits tap") }
            return try pg.graph.softmaxCrossEntropy(logits, labels: batch.labels.map { max($0, 0) }, mask: batch.labelled.map { $0 != 0 })
        }
        return try instance.loss(pg, batch: batch, taps: taps)
    }
}

/// Builds the terms of a loss expression against the loaded plugins and the model's taps,
/// so every mistake — an unknown plugin, a tap the encoder lacks, a bad option — is reported
/// before step one.
public enum LossComposer {
    public static func compose(
        _ expression: LossExpression, loader: PluginLoader, model: EncoderModel, setup: SetupInfo, random: RandomGenerator,
        communicator: Communicator = SingleProcess(), log: @escaping (String) -> Void = { print($0) }
    ) throws -> [ObjectiveTerm] {
        let objectives = loader.plugins.filter { $0.kind == .objective }.map(\.name)
        try expression.validate(knownPlugins: ["ce"] + objectives, availableTaps: model.tapNames)
        var terms: [ObjectiveTerm] = []
        let counts = Dictionary(grouping: expression.terms, by: \.plugin).mapValues(\.count)
        for term in expression.terms {
            let label = counts[term.plugin]! > 1 ? "\(term.plugin)@\(term.tap ?? "default")" : term.plugin
            if term.plugin == "ce" {
                if let tap = term.tap, tap != "logits" { throw HostError("ce reads the head's logits; '@\(tap)' is not supported") }
                if !term.options.isEmpty { throw HostError("ce takes no options") }
                terms.append(ObjectiveTerm(label: label, weight: term.weight, schedule: term.schedule, plugin: "ce", instance: nil))
                continue
            }
            let plugin = loader.plugin(named: term.plugin)!
            let tap = term.tap ?? plugin.defaultTap
            // every tap the plugin reads (its default one rebound by @tap) must exist
            for pattern in plugin.tapsRead {
                let wanted = pattern == plugin.defaultTap ? (tap ?? pattern) : pattern
                guard model.tapNames.contains(where: { tapNameMatches($0, wanted) }) else {
                    throw HostError("\(label) reads tap '\(wanted)', which encoder \(model.encoder.plugin.name) does not offer (taps: \(model.tapNames.joined(separator: ", ")))")
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
            terms.append(ObjectiveTerm(label: label, weight: term.weight, schedule: term.schedule, plugin: term.plugin, instance: instance))
        }
        return terms
    }
}
