import Foundation
import LossKitPlugins
import Yams

/// Reads a YAML experiment file (the keys of `TrainingConfig.keys`, snake_case) into a config.
/// Unknown keys are errors, so a typo cannot silently fall back to a default.
///
/// A settings file is a flat mapping of single values, and is read as one: its size and nesting
/// are bounded before YAML parses it, and every value must be a scalar. That also makes it safe
/// from hostile files: a YAML alias "bomb" (anchors of lists of aliases, a few hundred bytes that
/// expand to gigabytes when built into values) is refused at its first list, and deep nesting
/// cannot exhaust the parser's stack.
public enum ExperimentFile {
    /// The largest settings file read: its few dozen lines are well under a kilobyte.
    public static let maximumBytes = 64 * 1024
    /// The deepest indentation or flow nesting ('[' / '{') a file may have; a flat mapping has 0.
    public static let maximumNesting = 64

    public static func load(path: String) throws -> TrainingConfig {
        let text = try read(path)
        if let line = deeplyNestedLine(text) {
            throw RunError("\(path): line \(line) nests deeper than \(maximumNesting) levels; a settings file is a flat list of `key: value` lines")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw RunError("\(path) is not valid YAML: \(error)")
        }
        guard let root, case .mapping(let map) = root else { throw RunError("\(path) must be a YAML mapping of settings (key: value lines)") }
        let known = Set(TrainingConfig.keys)
        for (key, value) in map {
            guard let name = key.string, known.contains(name) else {
                throw RunError("\(path): unknown setting '\(key.string ?? "\(key)")' (settings: \(TrainingConfig.keys.joined(separator: ", ")))")
            }
            guard case .scalar = value else {
                throw RunError("\(path): setting '\(name)' must be a single value, not a list or mapping")
            }
        }
        do {
            return try YAMLDecoder().decode(TrainingConfig.self, from: text)
        } catch let DecodingError.typeMismatch(_, ctx), let DecodingError.valueNotFound(_, ctx) {
            throw RunError("\(path): setting '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type (\(ctx.debugDescription))")
        } catch {
            throw RunError("\(path): \(error)")
        }
    }

    /// The file's text, refused before reading when it is not a file or larger than a settings
    /// file can be.
    private static func read(_ path: String) throws -> String {
        var st = stat()
        guard stat(path, &st) == 0 else { throw RunError("cannot read experiment file \(path): \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw RunError("experiment file \(path) is not a regular file") }
        guard st.st_size <= maximumBytes else {
            throw RunError("experiment file \(path) is \(st.st_size) bytes; a settings file is a few lines (at most \(maximumBytes / 1024) KiB)")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw RunError("cannot read experiment file \(path) as UTF-8 text")
        }
        return text
    }

    /// The first line (1-based) whose indentation, or whose depth of '[' and '{' so far, passes
    /// `maximumNesting`. Counted on the raw text, quotes included: only a file far from a
    /// settings file comes near the bound.
    static func deeplyNestedLine(_ text: String) -> Int? {
        var flow = 0
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let indent = line.prefix { $0 == " " || $0 == "\t" || $0 == "-" }.count
            if indent > maximumNesting { return n + 1 }
            for c in line.utf8 {
                if c == UInt8(ascii: "[") || c == UInt8(ascii: "{") { flow += 1 } else if c == UInt8(ascii: "]") || c == UInt8(ascii: "}") { flow -= 1 }
                if flow > maximumNesting { return n + 1 }
            }
        }
        return nil
    }
}
