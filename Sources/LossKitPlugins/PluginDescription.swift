import CLossKitABI
import Foundation

/// Reading one `lk_plugin` descriptor into a `LoadedPlugin`: every field checked, every
/// declared function resolved, fields the plugin's ABI minor predates read as absent.
extension PluginLoader {
    /// The smallest `lk_plugin` the host accepts: the ABI 1.0 layout, up to `destroy`.
    static let minimumPluginSize = MemoryLayout<lk_plugin>.offset(of: \lk_plugin.destroy)! + MemoryLayout<UnsafeRawPointer>.size
    /// The first layouts of the option and probe declarations: lk_option_desc and lk_probe_desc
    /// of ABI 1.0, lk_option_decl and lk_probe_decl of 1.3.
    static let minimumOptionSize = MemoryLayout<lk_option_desc>.size, minimumProbeSize = MemoryLayout<lk_probe_desc>.size
    static let minimumOptionDeclSize = MemoryLayout<lk_option_decl>.offset(of: \lk_option_decl.set)! + MemoryLayout<UnsafeRawPointer>.size
    static let minimumProbeDeclSize = MemoryLayout<lk_probe_decl>.offset(of: \lk_probe_decl.get)! + MemoryLayout<UnsafeRawPointer>.size

    static func describe(_ d: UnsafePointer<lk_plugin>, index: Int, library: UnsafeMutableRawPointer, path: String) throws -> LoadedPlugin {
        let size = Int(d.pointee.struct_size)
        guard size >= minimumPluginSize else {
            throw HostError("plugin \(index): struct_size \(size) is smaller than ABI 1.0's lk_plugin (\(minimumPluginSize) bytes)")
        }
        let p = readPlugin(UnsafeRawPointer(d), size: size)
        guard Int(p.abi_major) == Int(LOSSKIT_ABI_MAJOR) else {
            throw HostError("plugin \(index): built for ABI \(p.abi_major).\(p.abi_minor); this host speaks ABI \(LOSSKIT_ABI_MAJOR).\(LOSSKIT_ABI_MINOR)")
        }
        guard let cname = p.name else { throw HostError("plugin \(index) has no name") }
        let name = String(cString: cname)
        guard isValidName(name) else {
            throw HostError("plugin name '\(name)' is invalid: use letters, digits, '-' and '_', starting with a letter")
        }
        guard !reservedNames.contains(name) else { throw HostError("plugin name '\(name)' is reserved by the host") }
        let kind: PluginKind
        switch p.kind {
        case LK_KIND_OBJECTIVE: kind = .objective
        case LK_KIND_ENCODER: kind = .encoder
        default: throw HostError("plugin '\(name)': unknown kind \(p.kind)")
        }
        guard p.create != nil, p.destroy != nil else { throw HostError("plugin '\(name)': create and destroy are required") }
        if kind == .objective && p.loss == nil { throw HostError("objective '\(name)' has no loss function") }
        let encode = p.encode_images ?? p.encode
        if kind == .encoder && encode == nil { throw HostError("encoder '\(name)' has no encode function") }

        let (options, setters) = try readOptions(p, plugin: name, library: library)
        let (probes, getters) = try readProbes(p, plugin: name, library: library)
        let taps = strings(p.taps_read)
        let silent = strings(p.taps_read_without_gradient)
        for pattern in silent where !taps.contains(pattern) {
            throw HostError("plugin '\(name)': taps_read_without_gradient lists '\(pattern)', which taps_read does not")
        }
        let plugin = LoadedPlugin(
            name: name, kind: kind, version: p.version.map { String(cString: $0) } ?? "?",
            summary: p.summary.map { String(cString: $0) } ?? "", abiMajor: Int(p.abi_major), abiMinor: Int(p.abi_minor),
            path: path, tapsRead: taps, tapsReadWithoutGradient: silent, defaultTap: p.default_tap.map { String(cString: $0) },
            options: options, probes: probes, descriptor: d, setters: setters, getters: getters)
        plugin.encodeFunction = encode
        return plugin
    }

    /// A NULL-terminated list of C strings (at most 64).
    private static func strings(_ list: UnsafePointer<UnsafePointer<CChar>?>?) -> [String] {
        guard let list else { return [] }
        var out: [String] = []
        while out.count < 64, let t = list[out.count] { out.append(String(cString: t)) }
        return out
    }

    /// A plugin's array of growable structs: its base, count and stride (the first entry's
    /// struct_size, which every entry must repeat: `sizeAt(i)`).
    private static func array(_ base: UnsafeRawPointer?, count: Int32, minimumSize: Int, what: String) throws -> (UnsafeRawPointer, Int, Int)? {
        let n = Int(max(count, 0))
        guard n > 0 else { return nil }
        guard n <= 256 else { throw HostError("\(what): \(n) entries, more than 256") }
        guard let base else { throw HostError("\(what): \(n) entries but the pointer is NULL") }
        let stride = Int(base.load(as: UInt32.self))
        guard stride >= minimumSize else { throw HostError("\(what): struct_size \(stride), below the first layout's \(minimumSize)") }
        for i in 1..<max(n, 1) where Int((base + i * stride).load(as: UInt32.self)) != stride {
            throw HostError("\(what): entry \(i) has struct_size \((base + i * stride).load(as: UInt32.self)), entry 0 \(stride)")
        }
        return (base, n, stride)
    }

    private static func text(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }

    private static func readOptions(_ p: lk_plugin, plugin name: String, library: UnsafeMutableRawPointer) throws
        -> ([OptionInfo], [String: UnsafeMutableRawPointer]) {
        let old = try array(p.options.map(UnsafeRawPointer.init), count: p.option_count, minimumSize: minimumOptionSize,
                            what: "plugin '\(name)': options")
        let declared = try array(p.option_decls.map(UnsafeRawPointer.init), count: p.option_decl_count, minimumSize: minimumOptionDeclSize,
                                 what: "plugin '\(name)': option_decls")
        guard old == nil || declared == nil else { throw HostError("plugin '\(name)' lists both options and option_decls: use one") }
        var options: [OptionInfo] = [], setters: [String: UnsafeMutableRawPointer] = [:]
        func add(_ oname: String, code: Int32, defaultValue: String, doc: String, range: OptionRange, choices: [String]?,
                 function: UnsafeMutableRawPointer?, call: DeclaredCall) throws {
            guard !oname.isEmpty else { throw HostError("plugin '\(name)': option \(options.count) has no name") }
            guard setters[oname] == nil else { throw HostError("plugin '\(name)': option '\(oname)' is declared twice") }
            guard let type = OptionType(code: code) else { throw HostError("plugin '\(name)': option '\(oname)' has unknown type \(code)") }
            guard let function else {
                if case .symbol(let symbol) = call, !symbol.isEmpty {
                    throw HostError("plugin '\(name)': option '\(oname)' names setter `\(symbol)`, which the library does not export")
                }
                throw HostError("plugin '\(name)': option '\(oname)' has no setter")
            }
            if let lo = range.minimum, let hi = range.maximum, !(lo <= hi) {
                throw HostError("plugin '\(name)': option '\(oname)' declares the empty range \(range)")
            }
            if choices != nil && type != .string { throw HostError("plugin '\(name)': option '\(oname)' declares choices but is \(type.rawValue)") }
            if !range.isUnbounded && [.bool, .string].contains(type) {
                throw HostError("plugin '\(name)': option '\(oname)' declares a range but is \(type.rawValue)")
            }
            setters[oname] = function
            options.append(OptionInfo(name: oname, type: type, defaultValue: defaultValue, doc: doc, range: range, choices: choices, call: call))
        }
        if let (base, n, stride) = old { for i in 0..<n {
            let o = readOptionDesc(base, index: i, stride: stride)
            let symbol = text(o.setter)
            try add(text(o.name), code: o.type, defaultValue: text(o.default_value), doc: text(o.doc), range: OptionRange(), choices: nil,
                    function: symbol.isEmpty ? nil : dlsym(library, symbol), call: .symbol(symbol))
        } }
        if let (base, n, stride) = declared { for i in 0..<n {
            let o = readOptionDecl(base, index: i, stride: stride)
            try add(text(o.name), code: o.type, defaultValue: text(o.default_value), doc: text(o.doc),
                    range: OptionRange(bounds: o.bounds, minimum: o.minimum, maximum: o.maximum),
                    choices: o.choices.map { String(cString: $0).split(separator: "|").map(String.init) },
                    function: o.set.map { unsafeBitCast($0, to: UnsafeMutableRawPointer.self) }, call: .address(index: Int32(i)))
        } }
        return (options, setters)
    }

    private static func readProbes(_ p: lk_plugin, plugin name: String, library: UnsafeMutableRawPointer) throws
        -> ([ProbeInfo], [String: UnsafeMutableRawPointer]) {
        let old = try array(p.probes.map(UnsafeRawPointer.init), count: p.probe_count, minimumSize: minimumProbeSize,
                            what: "plugin '\(name)': probes")
        let declared = try array(p.probe_decls.map(UnsafeRawPointer.init), count: p.probe_decl_count, minimumSize: minimumProbeDeclSize,
                                 what: "plugin '\(name)': probe_decls")
        guard old == nil || declared == nil else { throw HostError("plugin '\(name)' lists both probes and probe_decls: use one") }
        var probes: [ProbeInfo] = [], getters: [String: UnsafeMutableRawPointer] = [:]
        func add(_ qname: String, code: Int32, doc: String, function: UnsafeMutableRawPointer?, call: DeclaredCall) throws {
            guard let type = OptionType(code: code), type != .string else {
                throw HostError("plugin '\(name)': probe '\(qname)' must be int64, double, float or bool")
            }
            guard let function else {
                if case .symbol(let symbol) = call, !symbol.isEmpty {
                    throw HostError("plugin '\(name)': probe '\(qname)' names getter `\(symbol)`, which the library does not export")
                }
                throw HostError("plugin '\(name)': probe '\(qname)' has no getter")
            }
            getters[qname] = function
            probes.append(ProbeInfo(name: qname, type: type, doc: doc, call: call))
        }
        if let (base, n, stride) = old { for i in 0..<n {
            let q = readProbeDesc(base, index: i, stride: stride)
            let symbol = text(q.getter)
            try add(text(q.name), code: q.type, doc: text(q.doc), function: symbol.isEmpty ? nil : dlsym(library, symbol), call: .symbol(symbol))
        } }
        if let (base, n, stride) = declared { for i in 0..<n {
            let q = readProbeDecl(base, index: i, stride: stride)
            try add(text(q.name), code: q.type, doc: text(q.doc), function: q.get.map { unsafeBitCast($0, to: UnsafeMutableRawPointer.self) },
                    call: .address(index: Int32(i)))
        } }
        return (probes, getters)
    }
}
