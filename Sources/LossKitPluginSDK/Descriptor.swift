import CLossKitABI
import Foundation

/// A declared option of the ABI 1.0–1.2 kind, kept so that plugins written for it build
/// unchanged; new plugins declare `Option`s on their type instead (see Declarations.swift).
/// Its exported setter is written by the plugin as
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

/// Builds a static `lk_plugin` for a Swift plugin type with its options and probes declared
/// once (ABI 1.3):
///
///     describe(SpatialContrasting.self, kind: LK_KIND_OBJECTIVE, name: "sc", version: "1.1.0",
///              summary: "...", tapsRead: ["conv5"], defaultTap: "conv5",
///              options: [.double("region", \.region, default: 0.5, .above(0, upTo: 1), doc: "...")],
///              probes: [Probe("positive_distance", \.positiveDistance, doc: "...")],
///              create: { Runtime.create(SpatialContrasting.self, $0, $1, $2) })
///
/// `create` is a closure literal calling `Runtime.create(T.self, $0, $1, $2)`: a C function
/// pointer cannot carry the type otherwise. `tapsReadWithoutGradient`: the patterns of
/// `tapsRead` read for their values or switches only.
public func describe<T: AnyObject>(
    _ type: T.Type, kind: Int32, name: String, version: String, summary: String, tapsRead: [String] = [],
    tapsReadWithoutGradient: [String] = [], defaultTap: String? = nil, options: [Option<T>] = [], probes: [Probe<T>] = [],
    create: CreateFunction
) -> UnsafePointer<lk_plugin> {
    DeclarationRegistry.shared.register(type, options: options, probes: probes)
    let options = options.map { o in
        lk_option_decl(struct_size: UInt32(MemoryLayout<lk_option_decl>.size), name: permanent(o.name), type: o.type,
                       default_value: permanent(o.defaultText), doc: permanent(o.doc),
                       bounds: o.bounds.flags, minimum: o.bounds.minimum, maximum: o.bounds.maximum,
                       choices: o.choices.map { permanent($0.joined(separator: "|")) }, set: DeclaredThunks.setter(for: o.type))
    }
    let probes = probes.map { p in
        lk_probe_decl(struct_size: UInt32(MemoryLayout<lk_probe_decl>.size), name: permanent(p.name), type: LK_TYPE_DOUBLE,
                      doc: permanent(p.doc), get: unsafeBitCast(DeclaredThunks.getDouble, to: lk_fn.self))
    }
    var d = descriptor(kind: kind, name: name, version: version, summary: summary, tapsRead: tapsRead, defaultTap: defaultTap, create: create)
    d.taps_read_without_gradient = tapsReadWithoutGradient.isEmpty ? nil : permanentList(tapsReadWithoutGradient)
    d.option_decls = permanent(options)
    d.option_decl_count = Int32(options.count)
    d.probe_decls = permanent(probes)
    d.probe_decl_count = Int32(probes.count)
    return permanent(d)
}

/// Builds a static `lk_plugin` for a Swift plugin with ABI 1.0–1.2 option and probe specs
/// (exported setters and getters found by name). `create` as for `describe`.
public func makeDescriptor(
    kind: Int32, name: String, version: String, summary: String, tapsRead: [String] = [], defaultTap: String? = nil,
    options: [OptionSpec] = [], probes: [ProbeSpec] = [], create: CreateFunction
) -> UnsafePointer<lk_plugin> {
    let opts = options.map { o in
        lk_option_desc(struct_size: UInt32(MemoryLayout<lk_option_desc>.size), name: permanent(o.name), type: typeCode(o.kind),
                       default_value: permanent(o.defaultValue), doc: permanent(o.doc), setter: permanent(o.setter))
    }
    let prbs = probes.map { p in
        lk_probe_desc(struct_size: UInt32(MemoryLayout<lk_probe_desc>.size), name: permanent(p.name), type: LK_TYPE_DOUBLE,
                      doc: permanent(p.doc), getter: permanent(p.getter))
    }
    var d = descriptor(kind: kind, name: name, version: version, summary: summary, tapsRead: tapsRead, defaultTap: defaultTap, create: create)
    d.options = permanent(opts)
    d.option_count = Int32(opts.count)
    d.probes = permanent(prbs)
    d.probe_count = Int32(prbs.count)
    return permanent(d)
}

/// A NULL-terminated C array of permanent strings.
private func permanentList(_ items: [String]) -> UnsafePointer<UnsafePointer<CChar>?> {
    let list = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: items.count + 1)
    for (i, t) in items.enumerated() { list[i] = permanent(t) }
    list[items.count] = nil
    return UnsafePointer(list)
}

/// Permanent copies of the descriptor's parts (descriptors are static by contract), allocated
/// by this build's sizes with malloc rather than through generic code: Swift's runtime metadata
/// of a C struct is uniqued by name across the process, so where an older plugin is loaded too,
/// generic code can size `lk_plugin` by that plugin's smaller layout.
private func permanent(_ d: lk_plugin) -> UnsafePointer<lk_plugin> {
    let p = malloc(MemoryLayout<lk_plugin>.size)!.assumingMemoryBound(to: lk_plugin.self)
    p.pointee = d
    return UnsafePointer(p)
}

private func permanent(_ items: [lk_option_decl]) -> UnsafePointer<lk_option_decl> {
    let raw = malloc(max(items.count, 1) * MemoryLayout<lk_option_decl>.stride)!
    for (i, item) in items.enumerated() { (raw + i * MemoryLayout<lk_option_decl>.stride).assumingMemoryBound(to: lk_option_decl.self).pointee = item }
    return UnsafePointer(raw.assumingMemoryBound(to: lk_option_decl.self))
}

private func permanent(_ items: [lk_probe_decl]) -> UnsafePointer<lk_probe_decl> {
    let raw = malloc(max(items.count, 1) * MemoryLayout<lk_probe_decl>.stride)!
    for (i, item) in items.enumerated() { (raw + i * MemoryLayout<lk_probe_decl>.stride).assumingMemoryBound(to: lk_probe_decl.self).pointee = item }
    return UnsafePointer(raw.assumingMemoryBound(to: lk_probe_decl.self))
}

private func permanent(_ items: [lk_option_desc]) -> UnsafePointer<lk_option_desc> {
    let raw = malloc(max(items.count, 1) * MemoryLayout<lk_option_desc>.stride)!
    for (i, item) in items.enumerated() { (raw + i * MemoryLayout<lk_option_desc>.stride).assumingMemoryBound(to: lk_option_desc.self).pointee = item }
    return UnsafePointer(raw.assumingMemoryBound(to: lk_option_desc.self))
}

private func permanent(_ items: [lk_probe_desc]) -> UnsafePointer<lk_probe_desc> {
    let raw = malloc(max(items.count, 1) * MemoryLayout<lk_probe_desc>.stride)!
    for (i, item) in items.enumerated() { (raw + i * MemoryLayout<lk_probe_desc>.stride).assumingMemoryBound(to: lk_probe_desc.self).pointee = item }
    return UnsafePointer(raw.assumingMemoryBound(to: lk_probe_desc.self))
}

/// The parts of a descriptor both ways share.
private func descriptor(kind: Int32, name: String, version: String, summary: String, tapsRead: [String],
                        defaultTap: String?, create: CreateFunction) -> lk_plugin {
    var d = lk_plugin()
    d.struct_size = UInt32(MemoryLayout<lk_plugin>.size)
    d.abi_major = UInt16(LOSSKIT_ABI_MAJOR)
    d.abi_minor = UInt16(LOSSKIT_ABI_MINOR)
    d.kind = kind
    d.name = permanent(name)
    d.version = permanent(version)
    d.summary = permanent(summary)
    d.taps_read = kind == LK_KIND_OBJECTIVE ? permanentList(tapsRead) : nil
    d.default_tap = defaultTap.map(permanent)
    d.create = create
    d.prepare = Runtime.prepare
    if kind == LK_KIND_OBJECTIVE {
        d.loss = Runtime.loss
        d.after_step = Runtime.afterStep
    } else {
        d.encode = Runtime.encode
    }
    d.destroy = Runtime.destroy
    return d
}

/// Whether a library of `describe`d plugins can serve a host: the same major, and a minor that
/// reads option and probe declarations (1.3). The entry returns NULL otherwise:
///
///     @_cdecl("losskit_plugin_entry")
///     public func entry(_ major: UInt16, _ minor: UInt16) -> UnsafePointer<lk_plugin_list>? {
///         servesHost(major, minor) ? plugins : nil
///     }
public func servesHost(_ major: UInt16, _ minor: UInt16) -> Bool { major == UInt16(LOSSKIT_ABI_MAJOR) && minor >= 3 }

/// The static list an entry returns.
public func makePluginList(_ plugins: [UnsafePointer<lk_plugin>]) -> UnsafePointer<lk_plugin_list> {
    let items = UnsafeMutablePointer<UnsafePointer<lk_plugin>?>.allocate(capacity: plugins.count)
    for (i, p) in plugins.enumerated() { items[i] = p }
    let list = UnsafeMutablePointer<lk_plugin_list>.allocate(capacity: 1)
    list.initialize(to: lk_plugin_list(struct_size: UInt32(MemoryLayout<lk_plugin_list>.size), abi_major: UInt16(LOSSKIT_ABI_MAJOR),
                                       abi_minor: UInt16(LOSSKIT_ABI_MINOR), count: Int32(plugins.count), plugins: UnsafePointer(items)))
    return UnsafePointer(list)
}
