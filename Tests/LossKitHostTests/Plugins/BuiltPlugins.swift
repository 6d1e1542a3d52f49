import Foundation
import LossKitHost
import XCTest

/// The plugins `swift build` made, found beside the test executable (the same build folder),
/// copied into a private folder as an install would place them.
enum BuiltPlugins {
    static let buildDirectory: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }()

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
