import Foundation

/// A user's option text converted to the option's declared C type.
public enum OptionValue: Equatable {
    case int64(Int64), double(Double), float(Float), bool(Bool), string(String)

    /// Parses `text` as `type`; the error says which type was expected.
    public static func parse(_ text: String, as type: OptionType, option: String) throws -> OptionValue {
        let t = text.trimmingCharacters(in: .whitespaces)
        switch type {
        case .int64:
            guard let v = Int64(t) else { throw HostError("option '\(option)' takes an integer; got '\(text)'") }
            return .int64(v)
        case .double:
            guard let v = Double(t), v.isFinite else { throw HostError("option '\(option)' takes a finite number; got '\(text)'") }
            return .double(v)
        case .float:
            guard let v = Float(t), v.isFinite else { throw HostError("option '\(option)' takes a finite number; got '\(text)'") }
            return .float(v)
        case .bool:
            switch t.lowercased() {
            case "true", "1", "yes", "on": return .bool(true)
            case "false", "0", "no", "off": return .bool(false)
            default: throw HostError("option '\(option)' takes true or false; got '\(text)'")
            }
        case .string:
            return .string(text)
        }
    }

    public var text: String {
        switch self {
        case .int64(let v): return String(v)
        case .double(let v): return String(v)
        case .float(let v): return String(v)
        case .bool(let v): return v ? "true" : "false"
        case .string(let v): return v
        }
    }
}
