import Foundation
import LossKitFormats
import LossKitPlugins

/// One writer's claim on a run folder, held while `losskit train` writes it.
///
/// Two trainings on one `--out` would interleave their config, metrics and checkpoints into a
/// folder that looks whole and is not; a folder that is not a LossKit run (a home folder, `/`)
/// would get run files among its own. So a writer first checks the folder is a run (or empty,
/// or new), then takes an exclusive `flock` on `<run>/.lock`, which names the holder for the
/// message a second writer gets. The kernel drops the lock when the process ends, however it
/// ends, so a killed run never leaves a stale claim. Holding it, the writer removes temporary
/// files an interrupted checkpoint write left behind.
public final class RunClaim {
    public let folder: String
    private let descriptor: Int32
    private var held = false

    /// The lock file's name inside the run folder.
    public static let lockName = ".lock"

    public init(folder: String) throws {
        self.folder = folder
        if let refusal = RunClaim.refusal(folder) { throw RunError(refusal) }
        try RunClaim.makeFolders(folder)
        let lock = RunFolder(folder).lock
        descriptor = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw RunError("cannot open \(lock): \(String(cString: strerror(errno)))") }
        try hold()   // a throw here still runs deinit, which closes the descriptor
        removeInterruptedWrites()
    }

    deinit { close(descriptor) }

    /// Takes the lock (again, after `release`), or throws naming the process that holds it.
    public func hold() throws {
        guard !held else { return }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = String(decoding: FileIO.readPrefix(descriptor, 200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw RunError("\(folder) is being written by another losskit process (\(holder.isEmpty ? "unknown process" : holder)): wait for it to end, or choose another --out")
        }
        held = true
        let note = "pid \(getpid()), since \(ISO8601DateFormatter().string(from: Date()))\n"
        _ = ftruncate(descriptor, 0)
        _ = note.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    /// Lets another writer in: the trainer releases the folder when training returns.
    public func release() {
        guard held else { return }
        _ = flock(descriptor, LOCK_UN)
        held = false
    }

    /// `mkdir -p`, with the system's reason for a failure ("Not a directory", "Permission
    /// denied") rather than Foundation's error dump.
    static func makeFolders(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw RunError("cannot create run folder \(path): \(prefix): \(String(cString: strerror(errno)))")
            }
        }
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw RunError("cannot create run folder \(path): \(String(cString: strerror(errno == 0 ? ENOTDIR : errno)))")
        }
    }

    /// Why `folder` may not become (or stay) a run folder, or nil. A run folder is new, empty,
    /// or holds a LossKit `config.json` (or only what a writer leaves before it: the lock and
    /// temporary files).
    static func refusal(_ folder: String) -> String? {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else { return nil }
        guard isFolder.boolValue else { return "--out \(folder) is a file, not a folder" }
        guard let listing = opendir(folder) else { return "cannot read --out \(folder): \(String(cString: strerror(errno)))" }
        closedir(listing)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let own = entries.filter { $0 != lockName && !isTemporary($0) }
        if own.isEmpty { return nil }
        if isLossKitConfig(RunFolder(folder).config) { return nil }
        let shown = own.sorted().prefix(4).joined(separator: ", ") + (own.count > 4 ? ", … (\(own.count) entries)" : "")
        return "--out \(folder) is not a LossKit run folder (it holds \(shown) and no LossKit config.json): choose a new or empty folder"
    }

    /// Whether `path` is a config.json that LossKit wrote: a JSON object of known settings that
    /// names at least the data, encoder and loss (another tool's config.json is not).
    static func isLossKitConfig(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        let keys = Set(object.keys)
        return keys.isSubset(of: TrainingConfig.keys) && keys.isSuperset(of: ["data", "encoder", "loss"])
            && (try? JSONDecoder().decode(TrainingConfig.self, from: data)) != nil
    }

    /// The temporary files of `FileIO.writeAtomically` (".NAME.tmp-PID-RANDOM").
    static func isTemporary(_ name: String) -> Bool { name.hasPrefix(".") && name.contains(".tmp-") }

    private func removeInterruptedWrites() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where RunClaim.isTemporary(name) {
            unlink(folder + "/" + name)
        }
    }
}
