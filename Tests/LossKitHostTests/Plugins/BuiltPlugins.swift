import Foundation
import LossKitHost
import LossKitPlugins
import XCTest

/// The plugins `swift build` made, found beside the test executable (the same build folder),
/// copied into a private folder as an install would place them.
enum BuiltPlugins {
    static let buildDirectory: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let directory = (exe as NSString).deletingLastPathComponent
        refreshInstalledPlugins(in: directory)
        return directory
    }()

    /// The `losskit` executable the test command built beside the tests. Missing, the calling test
    /// fails (never skips): `scripts/test.sh` builds it first, so its absence is a broken build.
    static func executable() throws -> String {
        let path = buildDirectory + "/losskit"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw NSError(domain: "BuiltPlugins", code: 2, userInfo: [NSLocalizedDescriptionKey: "\(path) is missing: run scripts/build.sh debug before swift test (scripts/test.sh does)"])
        }
        return path
    }

    /// The plugins folder beside the executable, which it loads by default, made to hold this
    /// build's plugins: `swift build` rebuilds a plugin without installing it (scripts/build.sh
    /// does), and a test of the command line once ran a stale copy and passed where a fresh clone
    /// failed. Done once per test process, with the first use of `buildDirectory`.
    private static func refreshInstalledPlugins(in buildDirectory: String) {
        let fm = FileManager.default, installed = buildDirectory + "/losskit-plugins"
        try? fm.createDirectory(atPath: installed, withIntermediateDirectories: true)
        for name in (try? fm.contentsOfDirectory(atPath: buildDirectory)) ?? [] where name.hasPrefix("libLossKit") && name.hasSuffix(".so") {
            let source = buildDirectory + "/" + name, target = installed + "/" + name
            guard fm.contents(atPath: source) != fm.contents(atPath: target) else { continue }
            // a new file beside the old one, renamed over it: a process holding the old one mapped keeps it
            let temporary = target + ".new"
            try? fm.removeItem(atPath: temporary)
            guard (try? fm.copyItem(atPath: source, toPath: temporary)) != nil else { continue }
            chmod(temporary, 0o755)
            _ = rename(temporary, target)
        }
    }

    static func folder(_ names: [String]) throws -> String {
        let dir = try PluginFixtures.makeFolder()
        for n in names {
            let src = "\(buildDirectory)/libLossKit\(n).so"
            guard FileManager.default.fileExists(atPath: src) else {
                throw NSError(domain: "BuiltPlugins", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(src) is missing: run `swift build` before `swift test`"])
            }
            try FileManager.default.copyItem(atPath: src, toPath: "\(dir)/libLossKit\(n).so")
            chmod("\(dir)/libLossKit\(n).so", 0o755)
        }
        return dir
    }

    static func loader(_ names: [String]) throws -> PluginLoader {
        let loader = PluginLoader()
        loader.load(searchPath: [try folder(names)])
        XCTAssertTrue(loader.rejected.isEmpty, "\(loader.rejected)")
        return loader
    }
}
