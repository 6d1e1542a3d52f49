import Foundation
@testable import LossKitCore
import LossKitTestSupport
import XCTest

/// The one executable on CPUs other than the one the tests run on, emulated by QEMU's user mode
/// (`qemu-x86_64 -cpu MODEL`, Debian's qemu-user, which scripts/setup.sh installs): x86-64 with
/// nothing past SSE3, AVX without AVX2 (Sandy Bridge), and AVX2 with FMA (Haswell). On each the
/// executable must read the emulated CPU's features, run the build of the engine's loops they
/// allow, and train to the same bits as this CPU's run of that build on the same OpenBLAS core.
/// `KernelBuildChoiceTests` forces each build on this CPU; only a CPU without AVX can show that
/// no instruction past its features reaches any path the executable runs there (one would stop
/// it with SIGILL), and that the choice follows the CPU rather than the machine the tests run on.
///
/// QEMU's TCG does not emulate AVX-512, so no AVX-512 CPU is among them. OpenBLAS's core is set
/// with OPENBLAS_CORETYPE to one the emulated CPU runs: were losskit to restart itself on a
/// better core (`BLASCoreChoice`), the restarted process would run natively, outside the emulator.
/// Each run's machine.json must name the emulated CPU, which shows it did not.
final class EmulatedCPUTests: XCTestCase {
    private struct EmulatedCPU {
        /// QEMU's name for the CPU model.
        let model: String
        /// The OpenBLAS core both runs take: one the emulated CPU runs.
        let blasCore: String
        /// The build of the engine's loops its features allow.
        let kernels: KernelInstructionSet
        /// A feature (as `CPUFeatures.featureList` spells it) the CPU has, and one it lacks.
        let has: String, lacks: String?
    }

    private let cpus = [
        EmulatedCPU(model: "qemu64", blasCore: "Prescott", kernels: .baseline, has: "sse2", lacks: "avx"),
        EmulatedCPU(model: "SandyBridge", blasCore: "Sandybridge", kernels: .baseline, has: "avx", lacks: "avx2"),
        EmulatedCPU(model: "Haswell", blasCore: "Haswell", kernels: .avx2, has: "fma", lacks: nil),
    ]

    private var qemu = ""
    private var data = ""

    override func setUpWithError() throws {
        _ = try BuiltPlugins.executable()
        let found = ["/usr/bin/qemu-x86_64", "/usr/local/bin/qemu-x86_64"].first { FileManager.default.isExecutableFile(atPath: $0) }
        qemu = try XCTUnwrap(found, "qemu-x86_64 is missing: install qemu-user (scripts/setup.sh does)")
        // 28×28, so the 28×28 layers take Winograd F(4×4) and, on the AVX2 build, its own GEMM kernel
        data = try SyntheticData.makeFolder(train: 40, test: 8, size: 28)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: data)
    }

    /// A short training of `ce + swwae + nce` (convolutions on every path, pooling with switches,
    /// batch norm, the memory bank) on one thread; returns the run folder and the output.
    private func train(_ launcher: [String], _ changes: [String: String]) -> (String, Int32, String) {
        var env = ProcessInfo.processInfo.environment
        for key in ["OPENBLAS_CORETYPE", "LOSSKIT_BLAS_CORE", "LOSSKIT_KERNELS", "LOSSKIT_PLUGIN_PATH"] { env[key] = nil }
        for (key, value) in changes { env[key] = value }
        let run = SyntheticData.runFolder()
        let args = ["train", "--data", "idx:" + data, "--encoder", "convnet-s(width=0.25)", "--loss", "ce + 0.1*swwae + 0.1*nce(negatives=0)",
                    "--threads", "1", "--labels-per-class", "2", "--steps", "3", "--batch-size", "8", "--out", run]
        let (status, out) = PluginFixtures.run(launcher[0], Array(launcher.dropFirst()) + [BuiltPlugins.buildDirectory + "/losskit"] + args,
                                               environment: env)
        return (run, status, out)
    }

    private func machine(_ run: String) throws -> [String: Any] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/machine.json"))) as? [String: Any]
        let segments = try XCTUnwrap(json?["segments"] as? [[String: Any]])
        return try XCTUnwrap(segments.first)
    }

    func testEachEmulatedCPURunsTheBuildItsFeaturesAllowAndTrainsToThisCPUsBits() throws {
        var compared = 0
        for cpu in cpus {
            let (run, status, out) = train([qemu, "-cpu", cpu.model], ["OPENBLAS_CORETYPE": cpu.blasCore])
            guard status == 0 else {
                XCTFail("\(cpu.model): exit \(status) (4 is SIGILL: an instruction the CPU lacks)\n\(out.suffix(1500))")
                continue
            }
            let seen = try machine(run)
            let features = (seen["cpu_features"] as? String ?? "").split(separator: " ").map(String.init)
            XCTAssertNotEqual(seen["cpu_model"] as? String, CPUFeatures.current.model, "\(cpu.model): the run left the emulator")
            XCTAssertTrue(features.contains(cpu.has), "\(cpu.model): \(features)")
            if let lacks = cpu.lacks { XCTAssertFalse(features.contains(lacks), "\(cpu.model): \(features)") }
            XCTAssertEqual(seen["kernels"] as? String, cpu.kernels.rawValue, cpu.model)
            XCTAssertEqual(seen["blas_core"] as? String, cpu.blasCore, cpu.model)

            // the same build and core on this CPU, where it runs them
            guard KernelPath.runs(cpu.kernels, on: .current),
                  let best = BLASCore.best(for: .current), BLASCore.tier(of: best) >= BLASCore.tier(of: cpu.blasCore) else { continue }
            let (native, nativeStatus, nativeOut) = train(["/usr/bin/env"], ["OPENBLAS_CORETYPE": cpu.blasCore, "LOSSKIT_KERNELS": cpu.kernels.rawValue])
            XCTAssertEqual(nativeStatus, 0, nativeOut)
            let emulated = try Data(contentsOf: URL(fileURLWithPath: run + "/checkpoint.safetensors"))
            XCTAssertEqual(emulated, try Data(contentsOf: URL(fileURLWithPath: native + "/checkpoint.safetensors")),
                           "\(cpu.model): the checkpoint differs from this CPU's \(cpu.kernels.rawValue) build on \(cpu.blasCore)")
            compared += 1
            [run, native].forEach { try? FileManager.default.removeItem(atPath: $0) }
        }
        XCTAssertGreaterThan(compared, 0, "no emulated CPU's build and core run on this CPU")
    }

    /// QEMU's default CPU (`qemu64`, also what many virtual machines are given): an AMD of family
    /// 15 without 3DNow!, for which OpenBLAS picks Opteron, whose kernels begin with 3DNow!'s
    /// `femms`; its first sgemm stopped losskit with SIGILL. losskit now restarts on a core the
    /// CPU runs. (The restarted process runs natively, outside the emulator, so only the choice,
    /// made inside it, is checked here; `BLASCoreChoiceTests` runs a training on such a rescue.)
    func testQEMUsDefaultCPUIsNotGivenOpteronsKernels() throws {
        var env = ProcessInfo.processInfo.environment
        for key in ["OPENBLAS_CORETYPE", "LOSSKIT_BLAS_CORE", "LOSSKIT_KERNELS"] { env[key] = nil }
        let losskit = BuiltPlugins.buildDirectory + "/losskit"
        env["LOSSKIT_BLAS_CORE"] = "openblas"
        let (keptStatus, kept) = PluginFixtures.run(qemu, ["-cpu", "qemu64", losskit, "--version"], environment: env)
        XCTAssertEqual(keptStatus, 0, kept)
        XCTAssertTrue(kept.contains("warning: OpenBLAS's own pick, Opteron, needs instructions this CPU lacks (3dnow); LOSSKIT_BLAS_CORE=openblas keeps it"), kept)
        env["LOSSKIT_BLAS_CORE"] = nil
        let (status, out) = PluginFixtures.run(qemu, ["-cpu", "qemu64", losskit, "--version"], environment: env)
        XCTAssertEqual(status, 0, out)
        XCTAssertFalse(out.contains("warning"), out)
        XCTAssertTrue(out.contains("OpenBLAS core: Prescott (LossKit's choice; Opteron before"), out)
    }

    /// Below the floor of any Swift program: a CPU without CMPXCHG16B (QEMU's Conroe model, like
    /// the first AMD64 CPUs), on which Swift's runtime dies of SIGILL at its first atomic, gets
    /// one line that says so and exit status 1, from a C constructor that runs before Swift code.
    func testACPUWithoutCMPXCHG16BIsToldSoNotTrapped() {
        let (status, out) = PluginFixtures.run(qemu, ["-cpu", "Conroe", BuiltPlugins.buildDirectory + "/losskit", "--version"])
        XCTAssertEqual(status, 1, out)
        XCTAssertTrue(out.contains("error: this CPU lacks CMPXCHG16B, which Swift's runtime (and so LossKit) needs"), out)
        XCTAssertFalse(out.contains("Signal"), out)
    }

    /// The Intel Xeon: an Intel CPU with AVX2 of a model Debian's OpenBLAS 0.3.21 does not
    /// know (QEMU's Haswell with model number 250) gets OpenBLAS's SSE3 kernels, Prescott, and
    /// losskit names the core the CPU runs. (`LOSSKIT_BLAS_CORE=openblas` keeps it from restarting
    /// on that core, which would leave the emulator; `BLASCoreChoiceTests` tests the restart.)
    func testACPUOpenBLASDoesNotKnowIsSeenForWhatItRuns() throws {
        var env = ProcessInfo.processInfo.environment
        for key in ["OPENBLAS_CORETYPE", "LOSSKIT_KERNELS"] { env[key] = nil }
        env["LOSSKIT_BLAS_CORE"] = "openblas"
        let (status, out) = PluginFixtures.run(qemu, ["-cpu", "Haswell,model=250", BuiltPlugins.buildDirectory + "/losskit", "--version"],
                                               environment: env)
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.contains("CPU: Intel Core Processor (Haswell) ("), out)
        XCTAssertTrue(out.contains("OpenBLAS core: Prescott (OpenBLAS's own pick; this CPU runs Haswell: LOSSKIT_BLAS_CORE=best uses it)"), out)
        XCTAssertTrue(out.contains("engine kernels: \(KernelPath.describe(.avx2)) (the CPU's best)"), out)
    }
}
