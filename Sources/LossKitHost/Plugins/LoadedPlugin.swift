import CLossKitABI
import Foundation

/// A plugin's kind as `losskit plugins` prints it.
public enum PluginKind: String, Codable {
    case objective, encoder
}

/// A declared option of a plugin, as read from its `lk_option_desc`.
public struct OptionInfo: Codable, Equatable {
    public let name: String
    public let type: OptionType
    public let defaultValue: String
    public let doc: String
    public let setter: String
}

/// A declared probe of a plugin, as read from its `lk_probe_desc`.
public struct ProbeInfo: Codable, Equatable {
    public let name: String
    public let type: OptionType
    public let doc: String
    public let getter: String
}

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

/// One plugin found in a library that passed every check: its descriptor copied into Swift
/// values, plus what the host needs to call it (the descriptor pointer and resolved setter and
/// getter addresses).
public final class LoadedPlugin {
    public let name: String
    public let kind: PluginKind
    public let version: String
    public let summary: String
    public let abiMajor: Int, abiMinor: Int
    public let path: String
    public let tapsRead: [String]
    public let defaultTap: String?
    public let options: [OptionInfo]
    public let probes: [ProbeInfo]
    let descriptor: UnsafePointer<lk_plugin>
    let setters: [String: UnsafeMutableRawPointer]
    let getters: [String: UnsafeMutableRawPointer]

    init(name: String, kind: PluginKind, version: String, summary: String, abiMajor: Int, abiMinor: Int, path: String,
         tapsRead: [String], defaultTap: String?, options: [OptionInfo], probes: [ProbeInfo],
         descriptor: UnsafePointer<lk_plugin>, setters: [String: UnsafeMutableRawPointer], getters: [String: UnsafeMutableRawPointer]) {
        self.name = name
        self.kind = kind
        self.version = version
        self.summary = summary
        self.abiMajor = abiMajor
        self.abiMinor = abiMinor
        self.path = path
        self.tapsRead = tapsRead
        self.defaultTap = defaultTap
        self.options = options
        self.probes = probes
        self.descriptor = descriptor
        self.setters = setters
        self.getters = getters
    }

    public var abiVersion: String { "\(abiMajor).\(abiMinor)" }
}

/// A library that was not loaded, with the reason in words a user can act on.
public struct RejectedPlugin: Equatable, Codable {
    public let path: String
    public let reason: String
}
