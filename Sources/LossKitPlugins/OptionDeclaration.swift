import CLossKitABI
import Foundation

/// The C types an option or probe may have (LK_TYPE_*).
public enum OptionType: String, Codable {
    case int64, double, float, bool, string

    init?(code: Int32) {
        switch code {
        case LK_TYPE_INT64: self = .int64
        case LK_TYPE_DOUBLE: self = .double
        case LK_TYPE_FLOAT: self = .float
        case LK_TYPE_BOOL: self = .bool
        case LK_TYPE_STRING: self = .string
        default: return nil
        }
    }
}

/// The values a numeric option accepts (lk_option_desc.bounds, minimum, maximum; ABI 1.3).
public struct OptionRange: Codable, Equatable, CustomStringConvertible {
    public var minimum: Double?, maximum: Double?
    public var minimumOpen = false, maximumOpen = false

    public init(minimum: Double? = nil, maximum: Double? = nil, minimumOpen: Bool = false, maximumOpen: Bool = false) {
        self.minimum = minimum
        self.maximum = maximum
        self.minimumOpen = minimumOpen
        self.maximumOpen = maximumOpen
    }

    init(bounds: Int32, minimum: Double, maximum: Double) {
        self.minimum = bounds & LK_BOUND_MIN != 0 ? minimum : nil
        self.maximum = bounds & LK_BOUND_MAX != 0 ? maximum : nil
        minimumOpen = bounds & LK_BOUND_MIN_OPEN != 0
        maximumOpen = bounds & LK_BOUND_MAX_OPEN != 0
    }

    public var isUnbounded: Bool { minimum == nil && maximum == nil }

    public func contains(_ v: Double) -> Bool {
        if let lo = minimum, minimumOpen ? !(v > lo) : !(v >= lo) { return false }
        if let hi = maximum, maximumOpen ? !(v < hi) : !(v <= hi) { return false }
        return true
    }

    /// "(0, 1]", "≥ 0", "> 0", "≤ 10", "any".
    public var description: String {
        func text(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v) }
        switch (minimum, maximum) {
        case let (lo?, hi?): return "\(minimumOpen ? "(" : "[")\(text(lo)), \(text(hi))\(maximumOpen ? ")" : "]")"
        case let (lo?, nil): return "\(minimumOpen ? ">" : "≥") \(text(lo))"
        case let (nil, hi?): return "\(maximumOpen ? "<" : "≤") \(text(hi))"
        case (nil, nil): return "any"
        }
    }
}

/// How the host reaches an option's setter or a probe's getter.
public enum DeclaredCall: Equatable {
    /// ABI 1.0–1.2: an exported symbol, called without the declaration's index.
    case symbol(String)
    /// ABI 1.3: the address in the declaration, called with its index.
    case address(index: Int32)
}

/// A declared option of a plugin, as read from its `lk_option_desc`: the one source of its
/// type, default, accepted values and doc.
public struct OptionInfo: Equatable {
    public let name: String
    public let type: OptionType
    public let defaultValue: String
    public let doc: String
    /// Numeric options: the declared range (unbounded for a 1.2 plugin, whose setter checks).
    public let range: OptionRange
    /// String options: the declared choices; nil for any string.
    public let choices: [String]?
    public let call: DeclaredCall

    /// The accepted values as `plugins info` shows them.
    public var accepts: String {
        if let choices { return choices.joined(separator: " | ") }
        switch type {
        case .bool: return "true | false"
        case .string: return "any text"
        default: return range.isUnbounded ? "any" : range.description
        }
    }

    /// Checks a parsed value against the declaration; the error shows the term as written,
    /// what the option accepts and what it got: "nce(tau=-1): tau must be > 0, got -1.0".
    public func validate(_ value: OptionValue, plugin: String, text: String) throws {
        let written = "\(plugin)(\(name)=\(text))"
        switch value {
        case .int64(let v): try within(Double(v), shown: String(v), written: written)
        case .double(let v): try within(v, shown: String(v), written: written)
        case .float(let v): try within(Double(v), shown: String(v), written: written)
        case .bool: break
        case .string(let v):
            if let choices, !choices.contains(v) {
                throw HostError("\(written): \(name) must be one of \(choices.joined(separator: ", ")), got '\(v)'")
            }
        }
    }

    private func within(_ v: Double, shown: String, written: String) throws {
        guard range.contains(v) else { throw HostError("\(written): \(name) must be \(rangeWords), got \(shown)") }
    }

    /// "in (0, 1]", "≥ 0", "> 0".
    private var rangeWords: String { range.minimum != nil && range.maximum != nil ? "in \(range)" : range.description }
}

/// A declared probe of a plugin, as read from its `lk_probe_desc`.
public struct ProbeInfo: Equatable {
    public let name: String
    public let type: OptionType
    public let doc: String
    public let call: DeclaredCall
}

/// Copies the first `size` bytes a plugin wrote of a struct that grows by appending (its
/// `struct_size`) into a zeroed host-sized one: fields appended after the plugin was built read
/// as zero, which every appended field takes to mean "absent".
///
/// Deliberately not generic: Swift's runtime metadata of an imported C struct is uniqued by name
/// across the process, so where an older Swift plugin is loaded, generic code (and the standard
/// library's unspecialised generics in debug builds) can see that plugin's smaller layout of
/// `lk_plugin` rather than this host's. Concrete types and memcpy use this build's layout.
func readPlugin(_ source: UnsafeRawPointer, size: Int) -> lk_plugin {
    var value = lk_plugin()
    copyPrefix(&value, MemoryLayout<lk_plugin>.size, from: source, size)
    return value
}

func readOptionDesc(_ base: UnsafeRawPointer, index: Int, stride: Int) -> lk_option_desc {
    var value = lk_option_desc()
    copyPrefix(&value, MemoryLayout<lk_option_desc>.size, from: base + index * stride, stride)
    return value
}

func readOptionDecl(_ base: UnsafeRawPointer, index: Int, stride: Int) -> lk_option_decl {
    var value = lk_option_decl()
    copyPrefix(&value, MemoryLayout<lk_option_decl>.size, from: base + index * stride, stride)
    return value
}

func readProbeDesc(_ base: UnsafeRawPointer, index: Int, stride: Int) -> lk_probe_desc {
    var value = lk_probe_desc()
    copyPrefix(&value, MemoryLayout<lk_probe_desc>.size, from: base + index * stride, stride)
    return value
}

func readProbeDecl(_ base: UnsafeRawPointer, index: Int, stride: Int) -> lk_probe_decl {
    var value = lk_probe_decl()
    copyPrefix(&value, MemoryLayout<lk_probe_decl>.size, from: base + index * stride, stride)
    return value
}

/// Zeroes `hostSize` bytes at `destination`, then copies the plugin's first `pluginSize` of them.
private func copyPrefix(_ destination: UnsafeMutableRawPointer, _ hostSize: Int, from source: UnsafeRawPointer, _ pluginSize: Int) {
    memset(destination, 0, hostSize)
    memcpy(destination, source, min(pluginSize, hostSize))
}
