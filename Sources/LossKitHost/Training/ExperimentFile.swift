import Foundation
import Yams

/// Reads a YAML experiment file (the keys of `TrainingConfig.keys`, snake_case) into a config.
/// Unknown keys are errors, so a typo cannot silently fall back to a default.
public enum ExperimentFile {
    public static func load(path: String) throws -> TrainingConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw HostError("cannot read experiment file \(path)") }
        let parsed: Any?
        do {
            parsed = try Yams.load(yaml: text)
        } catch {
            throw HostError("\(path) is not valid YAML: \(error)")
        }
        guard let map = parsed as? [String: Any] else { throw HostError("\(path) must be a YAML mapping of settings (key: value lines)") }
        let known = Set(TrainingConfig.keys)
        if let bad = map.keys.sorted().first(where: { !known.contains($0) }) {
            throw HostError("\(path): unknown setting '\(bad)' (settings: \(TrainingConfig.keys.joined(separator: ", ")))")
        }
        do {
            return try YAMLDecoder().decode(TrainingConfig.self, from: text)
        } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx) {
            throw HostError("\(path): setting '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type (\(ctx.debugDescription))")
        } catch {
            throw HostError("\(path): \(error)")
        }
    }
}
