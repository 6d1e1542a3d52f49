import Foundation

extension TrainingConfig {
    /// The settings (config.json keys) that differ from `saved`, the config of the run being
    /// resumed, other than `changeableOnResume`; loss expressions are compared as parsed, so
    /// spacing does not count.
    package func changes(from saved: TrainingConfig) throws -> [String] {
        func normalised(_ c: TrainingConfig) throws -> [String: Any] {
            try c.normalisedSettings().filter { !Self.changeableOnResume.contains($0.key) }
        }
        let now = try normalised(self), before = try normalised(saved)
        return Set(now.keys).union(before.keys).sorted().filter { key in
            !((now[key] as? NSObject).map { $0.isEqual(before[key]) } ?? (before[key] == nil))
        }
    }

    /// Every setting by its config.json key, defaults filled in and the loss expression in its
    /// printed form (so spacing does not count): what two runs' settings are compared by.
    package func normalisedSettings() throws -> [String: Any] {
        var c = self
        if let e = try? c.lossExpression() { c.loss = e.description }
        return try JSONSerialization.jsonObject(with: try c.json()) as? [String: Any] ?? [:]
    }
}
