import Foundation
import LossKitPlugins

/// `metrics.jsonl` in the run folder: one JSON object per line, appended as training goes.
/// Training lines carry "step", "loss", "terms", "probes", "lr", "images_per_s" (over the steps' own
/// time since the previous line, evaluations and checkpoints excluded); evaluation lines
/// carry "step" and "eval". On resume, lines past the checkpoint's step are dropped so the log
/// reads as one uninterrupted run.
public final class MetricsLog {
    public let path: String
    private let handle: FileHandle

    public init(path: String, truncateAfterStep: Int? = nil) throws {
        self.path = path
        let fm = FileManager.default
        if let keep = truncateAfterStep, let data = fm.contents(atPath: path) {
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").filter { line in
                guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let step = obj["step"] as? Int else { return false }
                return step <= keep
            }
            try (lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).write(toFile: path, atomically: true, encoding: .utf8)
        } else if truncateAfterStep == nil {
            _ = fm.createFile(atPath: path, contents: Data())  // a failure shows as the FileHandle error below
        }
        if !fm.fileExists(atPath: path) { _ = fm.createFile(atPath: path, contents: Data()) }
        guard let h = FileHandle(forWritingAtPath: path) else { throw RunError("cannot write \(path)") }
        handle = h
        handle.seekToEndOfFile()
    }

    deinit { try? handle.close() }

    public func append(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        handle.write(data)
        handle.write(Data("\n".utf8))
    }

    /// Reads every line of a metrics file (for reports and tests).
    public static func read(_ path: String) throws -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: path) else { throw RunError("no metrics log at \(path)") }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}
