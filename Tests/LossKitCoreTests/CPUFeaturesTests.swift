import Foundation
@testable import LossKitCore
import XCTest

/// The CPU's features as cpuid and xgetbv read them, and the OpenBLAS core they call for.
final class CPUFeaturesTests: XCTestCase {
    /// Each feature LossKit reads is present exactly when the kernel lists it in /proc/cpuinfo
    /// (the kernel, too, hides what the OS does not save on a context switch).
    func testFeaturesMatchProcCPUInfo() throws {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else {
            throw XCTSkip("no /proc/cpuinfo flags line on this system")
        }
        let flags = Set(line.split(separator: ":", maxSplits: 1)[1].split(separator: " ").map(String.init))
        let cpu = CPUFeatures.current
        for feature in CPUFeatures.Feature.allCases {
            XCTAssertEqual(cpu.features.contains(feature), flags.contains(feature.rawValue), feature.rawValue)
        }
        XCTAssertFalse(cpu.model.isEmpty)
        if let name = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }) {
            XCTAssertEqual(cpu.model, name.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces))
        }
    }

    func testBestCoreFollowsTheInstructionSets() {
        func best(_ f: [CPUFeatures.Feature]) -> String? { BLASCore.best(for: CPUFeatures(model: "test", features: Set(f))) }
        let avx512: [CPUFeatures.Feature] = [.sse2, .avx, .avx2, .fma, .avx512f, .avx512cd, .avx512bw, .avx512dq, .avx512vl]
        XCTAssertEqual(best(avx512 + [.avx512_bf16]), "Cooperlake")
        XCTAssertEqual(best(avx512), "SkylakeX")
        XCTAssertEqual(best(avx512.filter { $0 != .avx512vl }), "Haswell", "SkylakeX kernels use AVX-512VL")
        XCTAssertEqual(best([.sse2, .avx, .avx2, .fma]), "Haswell")
        XCTAssertEqual(best([.sse2, .avx, .avx2]), "Sandybridge", "Haswell kernels use FMA")
        XCTAssertEqual(best([.sse2, .sse4_2]), nil)
        XCTAssertEqual(best([]), nil)
    }

    /// OpenBLAS loads any core it is told or guesses, runnable or not: the table of what each
    /// core's kernels execute keeps LossKit from running one the CPU would stop on.
    func testACoresKernelsRunOnlyWhereTheCPUHasTheirInstructions() {
        func cpu(_ f: [CPUFeatures.Feature]) -> CPUFeatures { CPUFeatures(model: "test", features: Set(f)) }
        let qemu64 = cpu([.sse2, .sse3]), k8 = cpu([.sse2, .threeDNow, .prefetchw])
        let haswell = cpu([.sse2, .sse3, .ssse3, .sse4_1, .sse4_2, .avx, .avx2, .fma])
        let zen = cpu(haswell.features.map { $0 } + [.sse4a, .prefetchw])
        // QEMU's default model: an AMD of family 15 without 3DNow!, where OpenBLAS picks Opteron
        XCTAssertEqual(BLASCore.missing("Opteron", on: qemu64), [.threeDNow])
        XCTAssertTrue(BLASCore.runs("Prescott", on: qemu64))
        XCTAssertEqual(BLASCore.runnable(for: qemu64), "Prescott")
        XCTAssertTrue(BLASCore.runs("opteron", on: k8), "names in any case")
        XCTAssertFalse(BLASCore.runs("Prescott", on: k8), "a K8 without SSE3 has no SSE3 core")
        XCTAssertNil(BLASCore.runnable(for: cpu([.sse2])))
        XCTAssertEqual(BLASCore.missing("Bulldozer", on: haswell), [.fma4])
        XCTAssertFalse(BLASCore.runs("Barcelona", on: haswell), "SSE4a is AMD's")
        XCTAssertTrue(BLASCore.runs("Barcelona", on: zen))
        XCTAssertEqual(BLASCore.missing("SkylakeX", on: haswell), [.avx512f, .avx512cd, .avx512bw, .avx512dq, .avx512vl])
        XCTAssertTrue(BLASCore.runs("Nosuch", on: qemu64), "a name the table does not know is OpenBLAS's to refuse")
        // every core LossKit ranks has its instructions listed, and the best core for a CPU runs on it
        for name in BLASCore.tiers.keys { XCTAssertNotNil(BLASCore.requirements[name], name) }
        for cpu in [qemu64, haswell, zen, cpu(haswell.features.map { $0 } + [.avx512f, .avx512cd, .avx512bw, .avx512dq, .avx512vl, .avx512_bf16])] {
            let best = try? XCTUnwrap(BLASCore.runnable(for: cpu))
            XCTAssertTrue(best.map { BLASCore.runs($0, on: cpu) } ?? false, "\(String(describing: best)) on \(cpu.featureList)")
        }
    }

    func testCoreTiersRankInstructionSetsAndIgnoreCase() {
        XCTAssertLessThan(BLASCore.tier(of: "Prescott"), BLASCore.tier(of: "Sandybridge"))
        XCTAssertLessThan(BLASCore.tier(of: "sandybridge"), BLASCore.tier(of: "HASWELL"))
        XCTAssertEqual(BLASCore.tier(of: "Zen"), BLASCore.tier(of: "Haswell"))
        XCTAssertLessThan(BLASCore.tier(of: "Haswell"), BLASCore.tier(of: "SkylakeX"))
        XCTAssertLessThan(BLASCore.tier(of: "SkylakeX"), BLASCore.tier(of: "Cooperlake"))
        XCTAssertEqual(BLASCore.tier(of: "Nosuch"), 0)
    }

    /// The kernels this test process runs (OpenBLAS's pick or OPENBLAS_CORETYPE) pass the check
    /// the executable makes before trusting a core it chose.
    func testRunningCoreComputesSgemmCorrectly() {
        XCTAssertFalse(BLASCore.running.isEmpty)
        XCTAssertTrue(BLASCore.computesCorrectly(), "sgemm on \(BLASCore.running)")
    }
}
