import Foundation

extension TrainingConfig {
    /// The settings (config.json keys) that differ from `saved`, the config of the run being
    /// resumed, other than `changeableOnResume`; loss expressions are compared as parsed, so
    /// spacing does not count.
    package func changes(from saved: TrainingConfig) throws -> [String] {
        func normalised(_ c: TrainingConfig) throws -> [String: Any] {
            var c = c
            if let e = try? c.lossExpression() { c.loss = e.description }
            let object = try JSONSerialization.jsonObject(with: try c.json()) as? [String: Any] ?? [:]
            return object.filter { !Self.changeableOnResume.contains($0.key) }
        }
        let now = try normalised(self), before = try normalised(saved)
        return Set(now.keys).union(before.keys).sorted().filter { key in
            !((now[key] as? NSObject).map { $0.isEqual(before[key]) } ?? (before[key] == nil))
        }
    }
}
