import Foundation
import XCTest

/// A plugin that crashes mid-training still ends the process (its code runs in it), but leaves
/// one LossKit line saying which plugin, in which call, at which step, and how to resume from
/// the intact checkpoint — which then resumes.
final class PluginCrashTests: XCTestCase {
    private let losskit = BuiltPlugins.buildDirectory + "/losskit"

    func testACrashingPluginLeavesALineNamingItTheStepAndTheResume() throws {
        _ = try BuiltPlugins.executable()
        let folder = try BuiltPlugins.folder(["ConvNet"])
        let library = try PluginFixtures.build("nan_at_step", into: folder)
        let data = try SyntheticData.makeFolder(train: 40, test: 8)
        let run = SyntheticData.runFolder()
        defer { [folder, data, run].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        let args = ["train", "--plugin-path", folder, "--only-plugin-path", "--data", "idx:" + data, "--encoder", "convnet-s(width=0.25)",
                    "--loss", "ce + 0.1*nan-at-step(step=5, crash=1)", "--labels-per-class", "2", "--batch-size", "8",
                    "--steps", "6", "--checkpoint-every", "3", "--threads", "1", "--out", run]
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_BACKTRACE"] = "enable=no"
        let (status, out) = PluginFixtures.run(losskit, args, environment: env)
        XCTAssertEqual(status, SIGSEGV, "the fault still ends the process, by its signal: \(out)")
        let line = "losskit: the process died in the term 'nan-at-step' (plugin nan-at-step 1.0.0, \(library)), in its loss at step 5/6; "
            + "the last checkpoint (step 3) in \(run)/checkpoint.safetensors is intact: resume with `losskit train --resume --out \(run)` (and the same --plugin-path)"
        XCTAssertTrue(out.contains(line), out)
        XCTAssertEqual(out.components(separatedBy: "losskit: the process died").count, 2, "one line")
        // the checkpoint it names resumes (the fixture counts calls anew, so it crashes later this time)
        let (resumed, again) = PluginFixtures.run(losskit, args + ["--resume"], environment: env)
        XCTAssertEqual(resumed, 0, again)
        XCTAssertTrue(again.contains("resuming at step 3"), again)
    }

    /// A library that crashes while it loads (its headers sound, its code not): every command
    /// loads the plugin path first, so the line names the file to remove.
    func testALibraryThatCrashesWhileLoadingIsNamed() throws {
        _ = try BuiltPlugins.executable()
        let folder = try PluginFixtures.makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let library = try PluginFixtures.build("entry_crash", into: folder)
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_BACKTRACE"] = "enable=no"
        let (status, out) = PluginFixtures.run(losskit, ["plugins", "--plugin-path", folder, "--only-plugin-path"], environment: env)
        XCTAssertEqual(status, SIGSEGV, out)
        XCTAssertTrue(out.contains("losskit: the process died while loading the plugin library \(library): the library is damaged or broken; "
                                   + "move it out of the plugin folder (or use --only-plugin-path)"), out)
    }
}
