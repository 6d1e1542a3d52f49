import CLossKitABI
import Foundation

/// A plugin's kind as `losskit plugins` prints it.
public enum PluginKind: String, Codable {
    case objective, encoder
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
    /// The patterns of `tapsRead` declared as read without gradient (ABI 1.3).
    public let tapsReadWithoutGradient: [String]
    public let defaultTap: String?
    public let options: [OptionInfo]
    public let probes: [ProbeInfo]
    let descriptor: UnsafePointer<lk_plugin>
    /// An encoder's forward pass: `encode_images` (1.3) where set, else `encode`.
    var encodeFunction: EncodeFunction? = nil
    /// Each option's and probe's function, by name.
    let setters: [String: UnsafeMutableRawPointer]
    let getters: [String: UnsafeMutableRawPointer]

    init(name: String, kind: PluginKind, version: String, summary: String, abiMajor: Int, abiMinor: Int, path: String,
         tapsRead: [String], tapsReadWithoutGradient: [String], defaultTap: String?, options: [OptionInfo], probes: [ProbeInfo],
         descriptor: UnsafePointer<lk_plugin>, setters: [String: UnsafeMutableRawPointer], getters: [String: UnsafeMutableRawPointer]) {
        self.name = name
        self.kind = kind
        self.version = version
        self.summary = summary
        self.abiMajor = abiMajor
        self.abiMinor = abiMinor
        self.path = path
        self.tapsRead = tapsRead
        self.tapsReadWithoutGradient = tapsReadWithoutGradient
        self.defaultTap = defaultTap
        self.options = options
        self.probes = probes
        self.descriptor = descriptor
        self.setters = setters
        self.getters = getters
    }

    public var abiVersion: String { "\(abiMajor).\(abiMinor)" }
}

/// lk_plugin's `encode` / `encode_images`.
typealias EncodeFunction = @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<lk_error>?) -> Int32

/// A library that was not loaded, with the reason in words a user can act on.
public struct RejectedPlugin: Equatable, Codable {
    public let path: String
    public let reason: String
}
