import Foundation

/// Runs that differ only in their seed (and in settings that do not change what is trained:
/// threads, how often to log, checkpoint or evaluate) are one method. `MethodComparison` groups
/// runs so and sets each method's final test accuracies beside the baseline's seed by seed —
/// the baseline is `ce` alone where it is among them, else the first method — because with few
/// labels the seeds move a result by points, and the question a reader of several seeds asks is
/// whether a method beats the baseline by more than the seeds themselves move it.
public struct MethodComparison {
    public struct Method {
        /// The loss expression, and the settings that tell it from another method with the same loss.
        public let label: String
        /// Final test accuracy of the head (0…1) by seed.
        public let accuracies: [Int: Double]
        public var mean: Double { accuracies.values.reduce(0, +) / Double(max(accuracies.count, 1)) }
        /// Largest minus smallest accuracy over the seeds.
        public var range: Double { (accuracies.values.max() ?? 0) - (accuracies.values.min() ?? 0) }
    }

    public let methods: [Method]
    /// Index of the baseline in `methods`.
    public let baseline: Int?

    /// Settings that leave what is trained unchanged; a method is the rest of the config.
    static let incidental: Set<String> = ["seed", "threads", "log_every", "checkpoint_every", "eval_every", "knn_every"]

    /// `runs`: each run's resolved config (config.json) and its final test accuracy (nil when
    /// its head was not trained: such runs are left out). Methods keep the order of their first run.
    public init(runs: [(config: [String: Any], accuracy: Double?)]) {
        var keys: [String] = [], groups: [String: (config: [String: Any], accuracies: [Int: Double])] = [:]
        for run in runs {
            guard let accuracy = run.accuracy, let seed = run.config["seed"] as? Int else { continue }
            let method = run.config.filter { !Self.incidental.contains($0.key) }
            let key = Self.canonical(method)
            if groups[key] == nil { keys.append(key); groups[key] = (method, [:]) }
            groups[key]!.accuracies[seed] = accuracy
        }
        let configs = keys.map { groups[$0]!.config }
        methods = keys.map { key in
            let config = groups[key]!.config
            let loss = config["loss"] as? String ?? "?"
            // the settings in which this method differs from another with the same loss
            let twins = configs.filter { ($0["loss"] as? String) == loss && Self.canonical($0) != key }
            let differing = Set(twins.flatMap { other in config.keys.filter { Self.text(config[$0]) != Self.text(other[$0]) } }).sorted()
            let label = differing.isEmpty ? loss : loss + " (" + differing.map { "\($0) \(Self.text(config[$0]))" }.joined(separator: ", ") + ")"
            return Method(label: label, accuracies: groups[key]!.accuracies)
        }
        let plain = methods.firstIndex { $0.label == "ce" }
        baseline = methods.isEmpty ? nil : (plain ?? 0)
    }

    /// `m`'s accuracy minus the baseline's, for each seed both have.
    public func differences(_ m: Method) -> [(seed: Int, difference: Double)] {
        guard let baseline else { return [] }
        let base = methods[baseline].accuracies
        return m.accuracies.keys.sorted().compactMap { s in base[s].map { (s, m.accuracies[s]! - $0) } }
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
        let seeds = Set(methods.flatMap { $0.accuracies.keys }).sorted()
        func percent(_ x: Double) -> String { String(format: "%.2f", 100 * x) }
        func signed(_ x: Double) -> String { String(format: "%+.2f", 100 * x) }
        var s = "<h2>Methods over seeds</h2>\n<p>Runs that differ only in their seed are one method. Final test accuracy of the head (%) per seed; "
            + "the baseline is <code>\(escape(methods[baseline].label))</code>. \"Beyond the spread\": the mean is above the baseline's by more "
            + "than the baseline's own range over its seeds.</p>\n<table><tr><th>method</th>"
            + seeds.map { "<th>seed \($0)</th>" }.joined() + "<th>mean</th><th>range</th><th>vs baseline, per seed</th><th>mean difference</th><th>beyond the spread</th></tr>\n"
        for (i, m) in methods.enumerated() {
            let d = differences(m)
            s += "<tr><td><code>\(escape(m.label))</code></td>" + seeds.map { "<td>\(m.accuracies[$0].map(percent) ?? "—")</td>" }.joined()
            s += "<td><b>\(percent(m.mean))</b></td><td>\(m.accuracies.count > 1 ? percent(m.range) : "—")</td>"
            if i == baseline {
                s += "<td>—</td><td>—</td><td>—</td></tr>\n"
                continue
            }
            let mean = d.isEmpty ? nil : d.map(\.difference).reduce(0, +) / Double(d.count)
            s += "<td>\(d.isEmpty ? "no common seed" : d.map { signed($0.difference) }.joined(separator: ", "))</td>"
            s += "<td>\(mean.map(signed) ?? "—")</td><td>\(beyondSpread(m).map { $0 ? "yes" : "no" } ?? "—")</td></tr>\n"
        }
        return s + "</table>\n"
    }

    private static func text(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: return "none"
        case let v as Double where v == v.rounded() && abs(v) < 1e15: return String(Int(v))
        case let v?: return "\(v)"
        }
    }

    private static func canonical(_ config: [String: Any]) -> String {
        config.keys.sorted().map { "\($0)=\(text(config[$0]))" }.joined(separator: ";")
    }
}
