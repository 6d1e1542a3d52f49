import Foundation
import LossKitRun

/// Runs that differ only in their seed (and in settings that do not change what is trained:
/// threads, how often to log, checkpoint or evaluate) and ran the same plugin versions are one
/// method. `MethodComparison` groups runs so and sets each method's final test accuracies
/// beside the baseline's seed by seed — the baseline is `ce` alone where it is among them, else
/// the first method — because with few labels the seeds move a result by points, and the
/// question a reader of several seeds asks is whether a method beats the baseline by more than
/// the seeds themselves move it.
public struct MethodComparison {
    public struct Method {
        /// The loss expression, and the settings that tell it from another method with the same loss.
        public let label: String
        /// Final test accuracy of the head (0…1) of each run, by seed (two runs of one seed,
        /// e.g. at 1 and at 2 threads, are both kept).
        public let runs: [Int: [Double]]
        /// The accuracy of each seed: its runs' mean.
        public var accuracies: [Int: Double] { runs.mapValues { $0.reduce(0, +) / Double($0.count) } }
        public var mean: Double { accuracies.values.reduce(0, +) / Double(max(accuracies.count, 1)) }
        /// Largest minus smallest accuracy over the seeds.
        public var range: Double { (accuracies.values.max() ?? 0) - (accuracies.values.min() ?? 0) }
        let settings: [String: Any]
    }

    public let methods: [Method]
    /// Index of the baseline in `methods`.
    public let baseline: Int?
    /// Every method's label and the indices (in `runs`) of its runs, those without an accuracy
    /// too (the report draws each method's curves from them).
    public let groups: [(label: String, members: [Int])]
    /// Which plugins' versions are not compared: runs that differ only in them are one method.
    public enum VersionMerging: Equatable, Sendable {
        case none, all
        case plugins(Set<String>)

        func merges(_ plugin: String) -> Bool {
            switch self {
            case .none: false
            case .all: true
            case .plugins(let names): names.contains(plugin)
            }
        }
    }

    /// Whose versions were let into one method.
    public let mergingVersions: VersionMerging

    /// Prefix of the settings that hold a plugin's version ("plugin gan" = "1.3.0"), which a label
    /// shows as it reads: "plugin gan 1.3.0".
    static let versionKey = "plugin "

    /// Settings that leave what is trained unchanged; a method is the rest of the config.
    static let incidental: Set<String> = ["seed", "threads", "log_every", "checkpoint_every", "eval_every", "knn_every"]

    /// `runs`: each run's config (config.json), the version of each plugin it loaded (name to
    /// version, from plugins.json; nil where the run has no such record) and its final test
    /// accuracy (nil when its head was not trained: such runs are left out). Configs are compared
    /// with defaults filled in and the loss as parsed (an older run's file lacks later settings;
    /// spacing does not count); a fine-tuned run's `init_from` by the loss of the run it started
    /// from, where that run is readable (each seed may have a pretraining of its own).
    ///
    /// Runs with another version of a plugin are another method unless `mergingVersions` merges
    /// that plugin's: a new version may compute differently under the same config (GAN 1.3.0's
    /// minibatch features are not 1.2.0's), and nothing in a run folder says whether it does —
    /// the caller who knows (a version bumped for an ABI move, say) may merge them. Methods keep
    /// the order of their first run.
    public init(runs: [(config: [String: Any], plugins: [String: String]?, accuracy: Double?)], mergingVersions: VersionMerging = .none) {
        self.mergingVersions = mergingVersions
        var keys: [String] = [], groups: [String: (settings: [String: Any], runs: [Int: [Double]], members: [Int])] = [:]
        for (index, run) in runs.enumerated() {
            var settings = Self.normalised(run.config).filter { !Self.incidental.contains($0.key) }
            for (name, version) in run.plugins ?? [:] where !mergingVersions.merges(name) {
                settings[Self.versionKey + name] = version
            }
            let key = Self.canonical(settings)
            if groups[key] == nil { keys.append(key); groups[key] = (settings, [:], []) }
            groups[key]!.members.append(index)
            if let accuracy = run.accuracy, let seed = (run.config["seed"] as? NSNumber)?.intValue {
                groups[key]!.runs[seed, default: []].append(accuracy)
            }
        }
        let all = keys.map { groups[$0]!.settings }
        let labelled = keys.map { key in
            let settings = groups[key]!.settings
            let loss = Self.text(settings["loss"])
            // the settings in which this method differs from another with the same loss
            let twins = all.filter { Self.text($0["loss"]) == loss && Self.canonical($0) != key }
            var differing = Set(twins.flatMap { other in
                Set(settings.keys).union(other.keys).filter { Self.text(settings[$0]) != Self.text(other[$0]) }
            })
            // a fine-tuned run is never its loss alone, whether or not its loss was also run from scratch
            if Self.text(settings["init_from"]) != "none" { differing.insert("init_from") }
            let label = differing.isEmpty ? loss : loss + " (" + differing.sorted().map { "\($0) \(Self.text(settings[$0]))" }.joined(separator: ", ") + ")"
            return Method(label: label, runs: groups[key]!.runs, settings: settings)
        }
        self.groups = zip(labelled, keys).map { ($0.label, groups[$1]!.members) }
        let methods = labelled.filter { !$0.runs.isEmpty }
        self.methods = methods
        // ce alone, trained from scratch where there is such a method
        let plain = methods.indices.filter { Self.text(methods[$0].settings["loss"]) == "ce" }
        baseline = plain.first { methods[$0].settings["init_from"] == nil || methods[$0].settings["init_from"] is NSNull }
            ?? plain.first ?? (methods.isEmpty ? nil : 0)
    }

    /// `m`'s accuracy minus the baseline's, for each seed both have.
    public func differences(_ m: Method) -> [(seed: Int, difference: Double)] {
        guard let baseline else { return [] }
        let base = methods[baseline].accuracies, mine = m.accuracies
        return mine.keys.sorted().compactMap { s in base[s].map { (s, mine[s]! - $0) } }
    }

    /// Whether `m`'s mean is above the baseline's by more than the baseline's own range over
    /// its seeds (needs two seeds of each).
    public func beyondSpread(_ m: Method) -> Bool? {
        guard let baseline, m.accuracies.count > 1, methods[baseline].accuracies.count > 1 else { return nil }
        return m.mean - methods[baseline].mean > methods[baseline].range
    }

    /// The table for the report page ("" when there is nothing to compare).
    func html(escape: (String) -> String) -> String {
        guard let baseline, methods.count > 1 || methods.contains(where: { $0.accuracies.count > 1 }) else { return "" }
        let seeds = Set(methods.flatMap { $0.runs.keys }).sorted()
        func percent(_ x: Double) -> String { String(format: "%.2f", 100 * x) }
        func signed(_ x: Double) -> String { String(format: "%+.2f", 100 * x) }
        func cell(_ m: Method, _ seed: Int) -> String {
            guard let runs = m.runs[seed] else { return "—" }
            return percent(m.accuracies[seed]!) + (runs.count > 1 ? " (mean of \(runs.count) runs: \(runs.map(percent).joined(separator: ", ")))" : "")
        }
        let versions = switch mergingVersions {
        case .none: "another version of a plugin is another method"
        case .all: "plugin versions are not compared (<code>--merge-plugin-versions all</code>)"
        case .plugins(let names):
            "another version of a plugin is another method, except for " + names.sorted().map { "<code>\(escape($0))</code>" }.joined(separator: ", ")
                + " (<code>--merge-plugin-versions</code>)"
        }
        var s = "<h2>Methods over seeds</h2>\n<p>Runs that differ only in their seed are one method; \(versions). Final test accuracy of the head (%) per seed; "
            + "the baseline is <code>\(escape(methods[baseline].label))</code>. \"Beyond the spread\": the mean is above the baseline's by more "
            + "than the baseline's own range over its seeds.</p>\n<table><tr><th>method</th>"
            + seeds.map { "<th>seed \($0)</th>" }.joined() + "<th>mean</th><th>range</th><th>vs baseline, per seed</th><th>mean difference</th><th>beyond the spread</th></tr>\n"
        for (i, m) in methods.enumerated() {
            s += "<tr><td><code>\(escape(m.label))</code></td>" + seeds.map { "<td>\(cell(m, $0))</td>" }.joined()
            s += "<td><b>\(percent(m.mean))</b></td><td>\(m.accuracies.count > 1 ? percent(m.range) : "—")</td>"
            if i == baseline {
                s += "<td>—</td><td>—</td><td>—</td></tr>\n"
                continue
            }
            let d = differences(m)
            let mean = d.isEmpty ? nil : d.map(\.difference).reduce(0, +) / Double(d.count)
            s += "<td>\(d.isEmpty ? "no common seed" : d.map { signed($0.difference) }.joined(separator: ", "))</td>"
            s += "<td>\(mean.map(signed) ?? "—")</td><td>\(beyondSpread(m).map { $0 ? "yes" : "no" } ?? "—")</td></tr>\n"
        }
        return s + "</table>\n"
    }

    /// `config` with defaults filled in and the loss as parsed (as it was when it is not a
    /// LossKit config), `init_from` replaced by the loss of the run it names where readable.
    static func normalised(_ config: [String: Any]) -> [String: Any] {
        var settings = config
        if let data = try? JSONSerialization.data(withJSONObject: config),
           let decoded = try? JSONDecoder().decode(TrainingConfig.self, from: data),
           let all = try? decoded.normalisedSettings() {
            settings = all
        }
        if let source = settings["init_from"] as? String,
           let data = FileManager.default.contents(atPath: RunFolder(source).config),
           let pretraining = try? JSONDecoder().decode(TrainingConfig.self, from: data) {
            let loss = (try? pretraining.lossExpression().description) ?? pretraining.loss
            settings["init_from"] = "a run of '\(loss)', \(pretraining.steps) steps"
        }
        return settings
    }

    /// A setting's value as config.json writes it (true, 0.05, "sgd"), or "none".
    static func text(_ value: Any?) -> String {
        guard let value, !(value is NSNull) else { return "none" }
        if let s = value as? String { return s }
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]) { return String(decoding: data, as: UTF8.self) }
        return "\(value)"
    }

    private static func canonical(_ settings: [String: Any]) -> String {
        settings.keys.sorted().map { "\($0)=\(text(settings[$0]))" }.joined(separator: ";")
    }
}
