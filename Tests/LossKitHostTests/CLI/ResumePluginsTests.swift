import CLossKitABI
import Foundation
import LossKitHost
import LossKitRun
import XCTest

/// A run remembers where its plugins came from: `--resume` loads a third-party plugin again
/// without its --plugin-path, and when the library is gone, says which plugin and version the
/// run needs and where it was.
final class ResumePluginsTests: XCTestCase {
    private let losskit = BuiltPlugins.buildDirectory + "/losskit"

    func testResumeFindsAThirdPartyPluginOrNamesTheOneItNeeds() throws {
        _ = try BuiltPlugins.executable()
        let folder = try PluginFixtures.makeFolder()
        let library = try PluginFixtures.build("entropy_min", into: folder,
                                               source: PluginFixtures.repositoryRoot.appendingPathComponent("Examples/entropy-min/entropy_min.c").path)
        let data = try SyntheticData.makeFolder(train: 40, test: 8)
        let run = SyntheticData.runFolder()
        defer { [folder, data, run].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        var env = ProcessInfo.processInfo.environment
        env["LOSSKIT_PLUGIN_PATH"] = nil
        let common = ["--data", "idx:" + data, "--encoder", "convnet-s(width=0.25)", "--loss", "ce + 0.3*entropy-min",
                      "--labels-per-class", "2", "--batch-size", "8", "--threads", "1", "--out", run]
        var (status, out) = PluginFixtures.run(losskit, ["train", "--plugin-path", folder, "--steps", "2"] + common, environment: env)
        XCTAssertEqual(status, 0, out)
        let record = try String(contentsOfFile: run + "/plugins.json", encoding: .utf8)
        XCTAssertTrue(record.contains("\"path\" : \"\(library)\""), record)
        XCTAssertTrue(record.contains("\"name\" : \"convnet-s\""), record)
        // every option in force, defaults included, by instance
        let options = try XCTUnwrap(RunPlugins.read(folder: run)?.options)
        XCTAssertEqual(options["encoder"], ["width": "0.25", "dropout": "0.0"])
        XCTAssertEqual(options["entropy-min"], ["temperature": "1.0", "all_rows": "false"])

        (status, out) = PluginFixtures.run(losskit, ["train", "--resume", "--steps", "4"] + common, environment: env)
        XCTAssertEqual(status, 0, "resumed without --plugin-path: \(out)")
        XCTAssertTrue(out.contains("resuming at step 2"), out)

        try FileManager.default.removeItem(atPath: library)
        (status, out) = PluginFixtures.run(losskit, ["train", "--resume", "--steps", "6"] + common, environment: env)
        XCTAssertEqual(status, 1, out)
        XCTAssertTrue(out.contains("Error: cannot resume \(run): the run was trained with plugin 'entropy-min' 1.1.0 (ABI 1.\(LOSSKIT_ABI_MINOR)) from \(library), "
                                   + "and that file is gone: pass --plugin-path with a folder that holds it"), out)
    }

    /// Evaluation finds the run's encoder the same way: a run trained with an encoder from a
    /// private folder evaluates without --plugin-path, and names it when it is gone.
    func testEvaluationFindsTheRunsEncoderOrNamesIt() throws {
        _ = try BuiltPlugins.executable()
        let folder = try BuiltPlugins.folder(["ConvNet"])
        let data = try SyntheticData.makeFolder(train: 40, test: 8)
        let run = SyntheticData.runFolder()
        defer { [folder, data, run].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        var (status, out) = PluginFixtures.run(losskit, ["train", "--plugin-path", folder, "--only-plugin-path", "--data", "idx:" + data,
                                                          "--encoder", "convnet-s(width=0.25)", "--labels-per-class", "2", "--batch-size", "8",
                                                          "--steps", "2", "--threads", "1", "--out", run])
        XCTAssertEqual(status, 0, out)
        // --only-plugin-path with no --plugin-path: nothing is searched but what the run recorded
        (status, out) = PluginFixtures.run(losskit, ["eval", "accuracy", run, "--only-plugin-path"])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.contains("head accuracy: "), out)
        let library = folder + "/libLossKitConvNet.so"
        try FileManager.default.removeItem(atPath: library)
        (status, out) = PluginFixtures.run(losskit, ["eval", "accuracy", run, "--only-plugin-path"])
        XCTAssertEqual(status, 1, out)
        XCTAssertTrue(out.contains("cannot evaluate \(run): the run was trained with plugin 'convnet-s' 1.2.0 (ABI 1.\(LOSSKIT_ABI_MINOR)) from \(library), and that file is gone"), out)
    }
}
