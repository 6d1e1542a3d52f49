import Foundation
import LossKitPlugins

/// Where a run's plugins came from, kept in its folder as `plugins.json`: name, version, ABI
/// and the library's path, for the encoder and every term, and every instance's options as set. A run trained with a plugin outside
/// the default folders (a `--plugin-path` of its own) resumes without that flag, since the
/// recorded libraries are loaded again; when one is gone, the message says which plugin and
/// version the run needs and where it was.
public struct RunPlugins: RunRecordFile, Equatable {
    public struct Record: Codable, Equatable {
        public var name: String
        public var version: String
        public var abi: String
        public var path: String
    }

    public var plugins: [Record]
    /// Each instance's options in force, defaults included ("nce": ["tau": "0.07", ...]); absent
    /// in runs written before it was kept.
    public var options: [String: [String: String]]?

    public static let fileName = "plugins.json"

    package init(_ loaded: [LoadedPlugin]) {
        var seen = Set<String>()
        plugins = loaded.filter { seen.insert($0.name).inserted }
            .map { Record(name: $0.name, version: $0.version, abi: $0.abiVersion, path: $0.path) }
    }

    public static func path(in folder: String) -> String { RunFolder(folder).plugins }

    /// Loads the recorded libraries of plugins `loader` lacks (the loader's trust and file checks
    /// apply as to any other), then returns what still stops a resume: a recorded plugin that is
    /// not loaded, said with its version and former path. A different version loaded is a
    /// warning, in `warnings`.
    public func reload(into loader: PluginLoader) -> (missing: [(name: String, message: String)], warnings: [String]) {
        for record in plugins where loader.plugin(named: record.name) == nil && FileManager.default.fileExists(atPath: record.path) {
            loader.loadLibrary(at: record.path)
        }
        var missing: [(name: String, message: String)] = [], warnings: [String] = []
        for record in plugins {
            guard let now = loader.plugin(named: record.name) else {
                let why = loader.rejected.first { $0.path == record.path }.map { "it was refused: \($0.reason)" }
                    ?? (FileManager.default.fileExists(atPath: record.path) ? "it did not load" : "that file is gone")
                missing.append((record.name, "the run was trained with plugin '\(record.name)' \(record.version) (ABI \(record.abi)) from \(record.path), and \(why): "
                                             + "pass --plugin-path with a folder that holds it"))
                continue
            }
            if now.version != record.version {
                warnings.append("the run was trained with plugin '\(record.name)' \(record.version); resuming with \(now.version) from \(now.path)")
            }
        }
        return (missing, warnings)
    }
}
