import Foundation
import LossKitCore
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
