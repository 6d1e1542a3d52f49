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

    /// A core whose kernels need instructions this CPU lacks would stop the first sgemm with
    /// SIGILL (OpenBLAS loads it all the same): named in LOSSKIT_BLAS_CORE it is refused, set in
    /// OPENBLAS_CORETYPE it is replaced by the best core the CPU runs, each with one line; only
    /// `openblas` mode keeps it, and says so.
    func testACoreTheCPUCannotRunIsNeverRun() throws {
        let cpu = CPUFeatures.current
        guard !cpu.has(.threeDNow), !cpu.has(.fma4), let runnable = BLASCore.runnable(for: cpu) else {
            throw XCTSkip("this CPU runs 3DNow! or FMA4: no OpenBLAS core here to fail on")
        }
        let (namedStatus, named, namedCore) = version(["LOSSKIT_BLAS_CORE": "Bulldozer"])
        XCTAssertEqual(namedStatus, 0, named)
        XCTAssertEqual(named.split(separator: "\n").first.map(String.init),
                       "warning: LOSSKIT_BLAS_CORE=Bulldozer needs instructions this CPU lacks (fma4); not used")
        XCTAssertFalse(namedCore.hasPrefix("OpenBLAS core: Bulldozer"), namedCore)

        let (status, out, core) = version(["OPENBLAS_CORETYPE": "Opteron"])
        XCTAssertEqual(status, 0, out)
        XCTAssertEqual(out.components(separatedBy: "warning:").count, 2, "one warning line:\n\(out)")
        XCTAssertTrue(out.hasPrefix("warning: OPENBLAS_CORETYPE=Opteron needs instructions this CPU lacks (3dnow); running \(runnable)\n"), out)
        XCTAssertTrue(core.hasPrefix("OpenBLAS core: \(runnable) (LossKit's choice; Opteron before, whose kernels need 3dnow, which this CPU lacks"), core)

        let (keptStatus, kept, keptCore) = version(["OPENBLAS_CORETYPE": "Opteron", "LOSSKIT_BLAS_CORE": "openblas"])
        XCTAssertEqual(keptStatus, 0, kept)
        XCTAssertTrue(kept.hasPrefix("warning: OPENBLAS_CORETYPE=Opteron needs instructions this CPU lacks (3dnow); LOSSKIT_BLAS_CORE=openblas keeps it"), kept)
        XCTAssertTrue(keptCore.hasPrefix("OpenBLAS core: Opteron (OPENBLAS_CORETYPE"), keptCore)

        // and a training set up with that core runs: before, its first sgemm stopped it (signal 4)
        let data = try SyntheticData.makeFolder(train: 40, test: 8)
        defer { try? FileManager.default.removeItem(atPath: data) }
        var env = ProcessInfo.processInfo.environment
        for key in ["LOSSKIT_BLAS_CORE", "LOSSKIT_BLAS_CHOICE", "LOSSKIT_BLAS_REFUSED", "LOSSKIT_PLUGIN_PATH"] { env[key] = nil }
        env["OPENBLAS_CORETYPE"] = "Opteron"
        let run = SyntheticData.runFolder()
        let (trained, log) = PluginFixtures.run(losskit, ["train", "--data", "idx:" + data, "--encoder", "convnet-s(width=0.25)", "--threads", "1",
                                                          "--labels-per-class", "2", "--steps", "2", "--batch-size", "8", "--out", run],
                                                environment: env)
        XCTAssertEqual(trained, 0, log)
        try? FileManager.default.removeItem(atPath: run)
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
