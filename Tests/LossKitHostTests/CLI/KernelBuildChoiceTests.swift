import Foundation
@testable import LossKitCore
import LossKitTestSupport
import XCTest

/// The executable runs the highest build of the engine's loops the CPU supports, LOSSKIT_KERNELS
/// forces another (a name it cannot follow: one warning line, before any other output), and a
/// run trains to the same bits on every build the CPU runs.
final class KernelBuildChoiceTests: XCTestCase {
    private let losskit = BuiltPlugins.buildDirectory + "/losskit"

    override func setUpWithError() throws {
        _ = try BuiltPlugins.executable()
    }

    private func environment(_ kernels: String?) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["LOSSKIT_KERNELS"] = kernels
        return env
    }

    private var runnable: [KernelInstructionSet] { KernelPath.available.filter { KernelPath.runs($0, on: .current) } }

    func testVersionNamesTheBuildAndWhoChoseIt() throws {
        let best = try XCTUnwrap(runnable.last)
        let (status, out) = PluginFixtures.run(losskit, ["--version"], environment: environment(nil))
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.contains("engine kernels: \(KernelPath.describe(best)) (the CPU's best)"), out)
        for set in runnable {
            let (status, out) = PluginFixtures.run(losskit, ["--version"], environment: environment(set.rawValue))
            XCTAssertEqual(status, 0, out)
            XCTAssertTrue(out.contains("engine kernels: \(KernelPath.describe(set)) (LOSSKIT_KERNELS)"), out)
        }
    }

    func testANameItCannotFollowIsOneWarningLineFirst() throws {
        let best = try XCTUnwrap(runnable.last)
        let (status, out) = PluginFixtures.run(losskit, ["--version"], environment: environment("sse9"))
        XCTAssertEqual(status, 0, out)
        XCTAssertEqual(out.split(separator: "\n").first.map(String.init),
                       "warning: LOSSKIT_KERNELS=sse9 is not a kernel path (baseline, avx2, avx512, best); running \(best.rawValue)")
        XCTAssertEqual(out.components(separatedBy: "warning:").count, 2, out)
        if let missing = KernelPath.available.first(where: { !KernelPath.runs($0, on: .current) }) {
            let (status, out) = PluginFixtures.run(losskit, ["--version"], environment: environment(missing.rawValue))
            XCTAssertEqual(status, 0, out)
            XCTAssertTrue(out.hasPrefix("warning: LOSSKIT_KERNELS=\(missing.rawValue) needs instructions this CPU lacks"), out)
        }
    }

    func testATrainingRunWritesTheSameCheckpointOnEveryBuild() throws {
        let data = try SyntheticData.makeFolder(train: 40, test: 8)
        var checkpoints: [KernelInstructionSet: Data] = [:]
        for set in runnable {
            let run = SyntheticData.runFolder()
            let (status, out) = PluginFixtures.run(losskit, ["train", "--data", "idx:" + data, "--encoder", "convnet-s(width=0.25)",
                                                             "--threads", "2", "--labels-per-class", "2", "--steps", "3",
                                                             "--batch-size", "16", "--out", run], environment: environment(set.rawValue))
            XCTAssertEqual(status, 0, out)
            checkpoints[set] = try Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint.safetensors"))
        }
        let baseline = try XCTUnwrap(checkpoints[.baseline])
        for (set, checkpoint) in checkpoints { XCTAssertEqual(checkpoint, baseline, "\(set.rawValue) build") }
    }
}
