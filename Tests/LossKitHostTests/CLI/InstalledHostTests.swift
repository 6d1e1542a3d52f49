import Foundation
import XCTest

/// LossKit as a plugin author meets it: installed under a prefix by scripts/install.sh, a C
/// objective built out of tree with `cc $(pkg-config --cflags losskit)`, and the same objective
/// as a Swift package of its own (Examples/entropy-min-swift) depending on the SDK product —
/// both loaded, checked and trained by the installed `losskit` from a plugin folder.
final class InstalledHostTests: XCTestCase {
    private var prefix = "", plugins = ""
    private let root = PluginFixtures.repositoryRoot.path

    override func setUpWithError() throws {
        _ = try BuiltPlugins.executable()
        prefix = try PluginFixtures.makeFolder()
        plugins = try PluginFixtures.makeFolder()
        // install what this test run built (debug), as `scripts/install.sh --prefix P` installs a release build
        let (status, out) = PluginFixtures.run("/bin/bash", [root + "/scripts/install.sh", "--prefix", prefix, "--configuration", "debug", "--no-build"])
        XCTAssertEqual(status, 0, out)
    }

    override func tearDown() { [prefix, plugins].forEach { try? FileManager.default.removeItem(atPath: $0) } }

    private func losskit(_ args: [String]) -> (Int32, String) { PluginFixtures.losskit(args, executable: prefix + "/bin/losskit") }

    func testTheInstalledHostFindsItsPluginsAndTrains() throws {
        for path in ["bin/losskit", "include/losskit.h", "lib/pkgconfig/losskit.pc", "lib/losskit/plugins/libLossKitNCE.so"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: prefix + "/" + path), path)
        }
        var (status, out) = losskit(["plugins"])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.contains(prefix + "/lib/losskit/plugins/libLossKitConvNet.so"), out)
        let data = try SyntheticData.makeFolder(train: 40, test: 8), run = SyntheticData.runFolder()
        defer { [data, run].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        (status, out) = losskit(["train", "--data", "idx:" + data, "--encoder", "convnet-s(width=0.25)", "--loss", "ce + 0.1*sc",
                                 "--labels-per-class", "2", "--batch-size", "8", "--steps", "2", "--threads", "1", "--out", run])
        XCTAssertEqual(status, 0, out)
    }

    func testACPluginAndItsSwiftTwinBuiltOutOfTreeComputeTheSameLossAndTrain() throws {
        // C: the header and flags from the installed prefix, nothing from this checkout
        var env = ProcessInfo.processInfo.environment
        env["PKG_CONFIG_PATH"] = prefix + "/lib/pkgconfig"
        var (status, out) = PluginFixtures.run("/usr/bin/env", ["pkg-config", "--cflags", "losskit"], environment: env)
        XCTAssertEqual(status, 0, out)
        let cflags = out.split(whereSeparator: \.isWhitespace).map(String.init)
        XCTAssertEqual(cflags, ["-I\(prefix)/include"])
        (status, out) = PluginFixtures.run("/usr/bin/env", ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC"] + cflags
                                           + [root + "/Examples/entropy-min/entropy_min.c", "-o", plugins + "/libentropy_min.so"])
        XCTAssertEqual(status, 0, out)

        // Swift: its own package, `swift build` outside the main one
        let package = root + "/Examples/entropy-min-swift"
        (status, out) = PluginFixtures.run("/usr/bin/env", ["swift", "build", "--package-path", package])
        XCTAssertEqual(status, 0, out)
        (status, out) = PluginFixtures.run("/usr/bin/env", ["swift", "build", "--package-path", package, "--show-bin-path"])
        let built = out.trimmingCharacters(in: .whitespacesAndNewlines) + "/libEntropyMinSwift.so"
        try FileManager.default.copyItem(atPath: built, toPath: plugins + "/libEntropyMinSwift.so")
        for lib in ["libentropy_min.so", "libEntropyMinSwift.so"] { chmod(plugins + "/" + lib, 0o755) }

        var losses: [String] = []
        for (library, name) in [("libentropy_min.so", "entropy-min"), ("libEntropyMinSwift.so", "entropy-min-swift")] {
            (status, out) = losskit(["plugins", "check", plugins + "/" + library, "--term", "\(name)(temperature=2)"])
            XCTAssertEqual(status, 0, out)
            XCTAssertTrue(out.hasPrefix("ok: \(name): loss "), out)
            losses.append(String(out.dropFirst("ok: \(name): loss ".count).prefix { $0 != ";" }))
        }
        XCTAssertEqual(losses[0], losses[1], "the C and Swift objectives are the same ops")

        let data = try SyntheticData.makeFolder(train: 40, test: 8), run = SyntheticData.runFolder()
        defer { [data, run].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        (status, out) = losskit(["train", "--plugin-path", plugins, "--data", "idx:" + data, "--encoder", "convnet-s(width=0.25)",
                                 "--loss", "ce + 0.3*entropy-min(temperature=2) + 0.3*entropy-min-swift(temperature=2)",
                                 "--labels-per-class", "2", "--batch-size", "8", "--steps", "2", "--threads", "1", "--out", run])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.contains("entropy-min-swift "), out)
    }
}
