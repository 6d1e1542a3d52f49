import CLossKitABI
import CLossKitShims
import Foundation

/// Finds and loads plugin libraries.
///
/// Search order: the `--plugin-path` folders, then `LOSSKIT_PLUGIN_PATH` (colon-separated), then
/// the `losskit-plugins` folder beside the executable, and for an executable installed in
/// `PREFIX/bin`, `PREFIX/lib/losskit/plugins` — never the working directory unless a user names it. Every `.so` found is checked before and after `dlopen`; a library that fails
/// a check is reported with its path and reason and skipped, and the others still load.
public final class PluginLoader {
    public private(set) var plugins: [LoadedPlugin] = []
    public private(set) var rejected: [RejectedPlugin] = []
    /// Milliseconds spent loading (for docs/BENCHMARKS.md: loading must stay cheap).
    public private(set) var loadMilliseconds: Double = 0

    /// Names the host itself provides; a plugin may not take them.
    public static let reservedNames: Set<String> = ["ce"]

    public init() {}

    /// The folders to search, in order.
    public static func searchPath(explicit: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
                                  executableDirectory: String? = defaultExecutableDirectory()) -> [String] {
        var dirs: [String] = explicit.flatMap { $0.split(separator: ":").map(String.init) }
        if let env = environment["LOSSKIT_PLUGIN_PATH"] {
            dirs += env.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        }
        if let exe = executableDirectory {
            dirs.append(exe + "/losskit-plugins")
            // an installed host (scripts/install.sh): PREFIX/bin/losskit, PREFIX/lib/losskit/plugins
            if (exe as NSString).lastPathComponent == "bin" {
                dirs.append((exe as NSString).deletingLastPathComponent + "/lib/losskit/plugins")
            }
        }
        var seen = Set<String>()
        return dirs.filter { seen.insert($0).inserted }
    }

    public static func defaultExecutableDirectory() -> String? {
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        return (exe as NSString).deletingLastPathComponent
    }

    /// Loads every `.so` in each folder (sorted by name, so the order is the same on every
    /// machine), or the file itself when a path names a file. Missing default folders are fine.
    public func load(searchPath: [String]) {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { loadMilliseconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 }
        let fm = FileManager.default
        for entry in searchPath {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: entry, isDirectory: &isDir) else { continue }
            if !isDir.boolValue {
                loadLibrary(at: entry)
                continue
            }
            if let reason = PluginTrust.refusal(entry, what: "plugin folder") {
                rejected.append(RejectedPlugin(path: entry, reason: reason))
                continue
            }
            let files = ((try? fm.contentsOfDirectory(atPath: entry)) ?? []).filter { $0.hasSuffix(".so") }.sorted()
            for f in files { loadLibrary(at: entry + "/" + f) }
        }
    }

    public func plugin(named name: String) -> LoadedPlugin? { plugins.first { $0.name == name } }

    /// Checks and loads one library, recording its plugins or the reason it was refused.
    @discardableResult
    public func loadLibrary(at path: String) -> [LoadedPlugin] {
        // a library whose headers are sound can still crash in its constructors or entry: the
        // process then dies, and this line says which file killed it
        lk_crash_note_install()
        lk_crash_note_set("losskit: the process died while loading the plugin library \(path): the library is damaged or broken; "
                          + "move it out of the plugin folder (or use --only-plugin-path), and check it with `losskit plugins check`")
        defer { lk_crash_note_set(nil) }
        do {
            let found = try PluginLoader.open(path: path)
            var accepted: [LoadedPlugin] = []
            for p in found {
                if let other = plugins.first(where: { $0.name == p.name }) {
                    rejected.append(RejectedPlugin(path: path, reason: "plugin name '\(p.name)' is already taken by \(other.path); this one is skipped"))
                    continue
                }
                plugins.append(p)
                accepted.append(p)
            }
            return accepted
        } catch {
            rejected.append(RejectedPlugin(path: path, reason: "\(error)"))
            return []
        }
    }

    /// Opens a library and validates its descriptors; throws the reason it cannot be used.
    static func open(path: String) throws -> [LoadedPlugin] {
        // trust first (the resolved path and every folder above it), then the file's headers
        if let reason = PluginTrust.refusal(path, what: "plugin file") { throw HostError(reason) }
        try ELFCheck.check(path)
        // RTLD_NODELETE: unloading a Swift library and then touching its metadata crashes the
        // host, so libraries stay mapped for the life of the process.
        guard let lib = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            throw HostError("dlopen failed: \(String(cString: dlerror()))")
        }
        guard let sym = dlsym(lib, LOSSKIT_ENTRY_SYMBOL) else {
            throw HostError("no `\(LOSSKIT_ENTRY_SYMBOL)` symbol: not a LossKit plugin (a Swift plugin needs a public @_cdecl entry)")
        }
        let entry = unsafeBitCast(sym, to: lk_entry_fn.self)
        guard let list = entry(UInt16(LOSSKIT_ABI_MAJOR), UInt16(LOSSKIT_ABI_MINOR)) else {
            throw HostError("its entry returned no plugin list (the plugin declined host ABI \(LOSSKIT_ABI_MAJOR).\(LOSSKIT_ABI_MINOR))")
        }
        let l = list.pointee
        guard Int(l.struct_size) >= MemoryLayout<lk_plugin_list>.size else {
            throw HostError("its plugin list has struct_size \(l.struct_size), smaller than ABI 1.0's \(MemoryLayout<lk_plugin_list>.size): a corrupt or pre-release plugin")
        }
        guard Int(l.abi_major) == Int(LOSSKIT_ABI_MAJOR) else {
            throw HostError("built for ABI \(l.abi_major).\(l.abi_minor); this host speaks ABI \(LOSSKIT_ABI_MAJOR).\(LOSSKIT_ABI_MINOR): rebuild the plugin against this losskit.h")
        }
        guard l.count > 0, let items = l.plugins else { throw HostError("its plugin list is empty") }
        var out: [LoadedPlugin] = []
        var names = Set<String>()
        for i in 0..<Int(l.count) {
            guard let d = items[i] else { throw HostError("plugin list entry \(i) is NULL") }
            let p = try describe(d, index: i, library: lib, path: path)
            guard names.insert(p.name).inserted else { throw HostError("the library lists plugin '\(p.name)' twice") }
            out.append(p)
        }
        return out
    }

    static func isValidName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, CharacterSet.letters.contains(first), s.count <= 64 else { return false }
        return s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" }
    }
}
