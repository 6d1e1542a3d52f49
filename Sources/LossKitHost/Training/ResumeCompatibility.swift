import Foundation

extension TrainingConfig {
    /// Settings a resumed run may change: how long it runs and how it reports. Every other one
    /// defines what the checkpoint holds (a term dropped from the loss would silently lose its
    /// parameters and memory bank) or what the rest of the run would mean.
    static let changeableOnResume: Set<String> = ["steps", "threads", "log_every", "checkpoint_every", "eval_every", "knn_every", "sync_bn"]

    /// The settings (config.json keys) that differ from `saved`, the config of the run being
    /// resumed, other than `changeableOnResume`; loss expressions are compared as parsed, so
    /// spacing does not count.
    func changes(from saved: TrainingConfig) throws -> [String] {
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
