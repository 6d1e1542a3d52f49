import Foundation
import LossKitCore
import XCTest

/// The executable chooses OpenBLAS's core before any work: it restarts itself on the best core
/// this CPU runs when the one loaded is lower, leaves a user's OPENBLAS_CORETYPE alone unless told,
/// and falls back, with one warning line, when its choice is not taken.
final class BLASCoreChoiceTests: XCTestCase {
    private let losskit = BuiltPlugins.buildDirectory + "/losskit"

    override func setUpWithError() throws {
        _ = try BuiltPlugins.executable()
    }

    /// `losskit --version` with the given environment changes; returns its exit status, output,
    /// and the line that names the BLAS core.
    private func version(_ changes: [String: String?]) -> (Int32, String, String) {
        var env = ProcessInfo.processInfo.environment
        for key in ["OPENBLAS_CORETYPE", "LOSSKIT_BLAS_CORE", "LOSSKIT_BLAS_CHOICE", "LOSSKIT_BLAS_REFUSED"] { env[key] = nil }
        for (key, value) in changes { env[key] = value }
        let (status, out) = PluginFixtures.run(losskit, ["--version"], environment: env)
        let line = out.split(separator: "\n").first { $0.hasPrefix("OpenBLAS core: ") }.map(String.init) ?? ""
        return (status, out, line)
    }

    private var best: String? { BLASCore.best(for: .current) }

    func testVersionSaysTheCPUTheCoreAndTheKernels() {
        let (status, out, core) = version([:])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.hasPrefix("losskit "), out)
        XCTAssertTrue(out.contains("CPU: \(CPUFeatures.current.model) (\(CPUFeatures.current.featureList))"), out)
        XCTAssertFalse(core.isEmpty, out)
        XCTAssertTrue(out.contains("engine kernels: "), out)
        // on its own, the process never runs below the best core the CPU supports
        if let best {
            let running = String(core.dropFirst("OpenBLAS core: ".count).prefix { $0 != " " })
            XCTAssertGreaterThanOrEqual(BLASCore.tier(of: running), BLASCore.tier(of: best), out)
        }
    }

    func testAUsersCoreTypeWinsAndTheBetterCoreIsNamed() throws {
        guard let best, BLASCore.tier(of: best) > BLASCore.tier(of: "Prescott") else { throw XCTSkip("this CPU runs nothing above SSE kernels") }
        let (status, out, core) = version(["OPENBLAS_CORETYPE": "Prescott"])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(core.hasPrefix("OpenBLAS core: Prescott (OPENBLAS_CORETYPE; this CPU runs \(best): LOSSKIT_BLAS_CORE=best uses it)"), core)
    }

    func testBestRestartsOnTheBestCoreOverAUsersCoreType() throws {
        guard let best, BLASCore.tier(of: best) > BLASCore.tier(of: "Prescott") else { throw XCTSkip("this CPU runs nothing above SSE kernels") }
        let (status, out, core) = version(["OPENBLAS_CORETYPE": "Prescott", "LOSSKIT_BLAS_CORE": "best"])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(core.hasPrefix("OpenBLAS core: \(best) (LossKit's choice; Prescott before)"), core)
        XCTAssertTrue(core.contains(" \(best) MAX_THREADS"), "OpenBLAS's own config names the core: \(core)")
        XCTAssertFalse(out.contains("warning"), out)
    }

    func testANamedCoreIsUsedAndOneOpenBLASDoesNotKnowFallsBackWithAWarning() {
        let (status, out, core) = version(["OPENBLAS_CORETYPE": "Prescott", "LOSSKIT_BLAS_CORE": "Sandybridge"])
        if let best, BLASCore.tier(of: best) >= BLASCore.tier(of: "Sandybridge") {
            XCTAssertEqual(status, 0, out)
            XCTAssertTrue(core.hasPrefix("OpenBLAS core: Sandybridge (LOSSKIT_BLAS_CORE; Prescott before"), core)
        }
        let (badStatus, badOut, badCore) = version(["OPENBLAS_CORETYPE": "Prescott", "LOSSKIT_BLAS_CORE": "Nosuch"])
        XCTAssertEqual(badStatus, 0, badOut)
        XCTAssertEqual(badOut.components(separatedBy: "warning:").count, 2, "one warning line:\n\(badOut)")
        XCTAssertTrue(badOut.contains("warning: OpenBLAS core Nosuch not used: OpenBLAS did not take the name"), badOut)
        XCTAssertTrue(badCore.hasPrefix("OpenBLAS core: Prescott (as started, after a refused choice; Nosuch refused: "), badCore)
    }

    func testOpenBLASModeNeverRestarts() {
        let (status, out, core) = version(["OPENBLAS_CORETYPE": "Prescott", "LOSSKIT_BLAS_CORE": "openblas"])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(core.hasPrefix("OpenBLAS core: Prescott (OPENBLAS_CORETYPE"), core)
    }

    /// A restarted process gets the same arguments: a command's output is the same either way.
    func testTheRestartKeepsTheArguments() throws {
        guard let best, BLASCore.tier(of: best) > BLASCore.tier(of: "Prescott") else { throw XCTSkip("this CPU runs nothing above SSE kernels") }
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_CORETYPE"] = "Prescott"
        env["LOSSKIT_PLUGIN_PATH"] = nil
        let args = ["plugins", "info", "ce", "--plugin-path", "/nonexistent-folder-\(getpid())"]
        let (plainStatus, plain) = PluginFixtures.run(losskit, args, environment: env)
        env["LOSSKIT_BLAS_CORE"] = "best"
        let (status, restarted) = PluginFixtures.run(losskit, args, environment: env)
        XCTAssertEqual(status, plainStatus)
        XCTAssertEqual(restarted, plain)
        XCTAssertTrue(plain.contains("--plugin-path /nonexistent-folder-"), "the arguments reached the command: \(plain)")
    }
}
