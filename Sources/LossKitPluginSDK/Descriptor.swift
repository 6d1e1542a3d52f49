import CLossKitABI
import Foundation

/// A declared option: its exported setter is written by the plugin as
///
///     @_cdecl("nce_set_tau") public func nceSetTau(_ p: UnsafeMutableRawPointer?, _ v: Double,
///                                                  _ e: UnsafeMutablePointer<lk_error>?) -> Int32 {
///         Runtime.set(p, e) { (n: NCE) in try n.setTau(v) }
///     }
public struct OptionSpec {
    public enum Kind { case int64, double, float, bool, string }
    public let name: String, kind: Kind, defaultValue: String, doc: String, setter: String
    public init(_ name: String, _ kind: Kind, default defaultValue: String, doc: String, setter: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.doc = doc
        self.setter = setter
    }
}

/// A declared probe, read by the host after logged steps through its exported getter
/// (`@_cdecl("nce_probe_loss") public func ...(_ p: UnsafeMutableRawPointer?) -> Double`).
public struct ProbeSpec {
    public let name: String, doc: String, getter: String
    public init(_ name: String, doc: String, getter: String) {
        self.name = name
        self.doc = doc
        self.getter = getter
    }
}

private func typeCode(_ k: OptionSpec.Kind) -> Int32 {
    switch k {
    case .int64: return LK_TYPE_INT64
    case .double: return LK_TYPE_DOUBLE
    case .float: return LK_TYPE_FLOAT
    case .bool: return LK_TYPE_BOOL
    case .string: return LK_TYPE_STRING
    }
}

/// A C string that lives as long as the library (descriptors are static by contract).
private func permanent(_ s: String) -> UnsafePointer<CChar> { UnsafePointer(strdup(s)!) }

public typealias CreateFunction = @convention(c) (UnsafePointer<lk_host_api>?, OpaquePointer?, UnsafeMutablePointer<lk_error>?) -> UnsafeMutableRawPointer?

/// Builds a static `lk_plugin` for a Swift plugin. `create` is a closure literal calling
/// `Runtime.create(MyPlugin.self, $0, $1, $2)`: C cannot tell plugin types apart otherwise.
public func makeDescriptor(
    kind: Int32, name: String, version: String, summary: String, tapsRead: [String] = [], defaultTap: String? = nil,
    options: [OptionSpec] = [], probes: [ProbeSpec] = [], create: CreateFunction
) -> UnsafePointer<lk_plugin> {
    let opts = UnsafeMutablePointer<lk_option_desc>.allocate(capacity: max(options.count, 1))
    for (i, o) in options.enumerated() {
        opts[i] = lk_option_desc(struct_size: UInt32(MemoryLayout<lk_option_desc>.size), name: permanent(o.name), type: typeCode(o.kind),
                                 default_value: permanent(o.defaultValue), doc: permanent(o.doc), setter: permanent(o.setter))
    }
    let prbs = UnsafeMutablePointer<lk_probe_desc>.allocate(capacity: max(probes.count, 1))
    for (i, p) in probes.enumerated() {
        prbs[i] = lk_probe_desc(struct_size: UInt32(MemoryLayout<lk_probe_desc>.size), name: permanent(p.name), type: LK_TYPE_DOUBLE,
                                doc: permanent(p.doc), getter: permanent(p.getter))
    }
    let taps = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: tapsRead.count + 1)
    for (i, t) in tapsRead.enumerated() { taps[i] = permanent(t) }
    taps[tapsRead.count] = nil

    var d = lk_plugin()
    d.struct_size = UInt32(MemoryLayout<lk_plugin>.size)
    d.abi_major = UInt16(LOSSKIT_ABI_MAJOR)
    d.abi_minor = UInt16(LOSSKIT_ABI_MINOR)
    d.kind = kind
    d.name = permanent(name)
    d.version = permanent(version)
    d.summary = permanent(summary)
    d.taps_read = kind == LK_KIND_OBJECTIVE ? UnsafePointer(taps) : nil
    d.default_tap = defaultTap.map(permanent)
    d.options = UnsafePointer(opts)
    d.option_count = Int32(options.count)
    d.probes = UnsafePointer(prbs)
    d.probe_count = Int32(probes.count)
    d.create = create
    d.prepare = Runtime.prepare
    if kind == LK_KIND_OBJECTIVE {
        d.loss = Runtime.loss
        d.after_step = Runtime.afterStep
    } else {
        d.encode = Runtime.encode
    }
    d.destroy = Runtime.destroy
    let p = UnsafeMutablePointer<lk_plugin>.allocate(capacity: 1)
    p.initialize(to: d)
    return UnsafePointer(p)
}

/// The static list an entry returns.
public func makePluginList(_ plugins: [UnsafePointer<lk_plugin>]) -> UnsafePointer<lk_plugin_list> {
    let items = UnsafeMutablePointer<UnsafePointer<lk_plugin>?>.allocate(capacity: plugins.count)
    for (i, p) in plugins.enumerated() { items[i] = p }
    let list = UnsafeMutablePointer<lk_plugin_list>.allocate(capacity: 1)
    list.initialize(to: lk_plugin_list(struct_size: UInt32(MemoryLayout<lk_plugin_list>.size), abi_major: UInt16(LOSSKIT_ABI_MAJOR),
                                       abi_minor: UInt16(LOSSKIT_ABI_MINOR), count: Int32(plugins.count), plugins: UnsafePointer(items)))
    return UnsafePointer(list)
}
