import Foundation
import LossKitCore

/// The machine a run computed on, kept in its folder as `machine.json`: one segment per start
/// and per resume, each from the step it began at. The same seed, thread count and CPU path —
/// OpenBLAS core, engine kernel build, Winograd algorithm — give the same bits; a run resumed on
/// another path goes on at other roundings, so it will not match an uninterrupted run bit for
/// bit, and `differences(from:)` says why (the trainer prints it on resume).
public struct RunMachine: RunRecordFile, Equatable {
    public struct Segment: Codable, Equatable {
        /// The step the process began at (0 for the start, the checkpoint's step for a resume).
        public var fromStep: Int
        public var cpuModel: String
        /// The CPU features read from cpuid, space-separated (as `losskit --version` prints them).
        public var cpuFeatures: String
        /// The OpenBLAS core that ran, and who chose it (BLASCoreChoice).
        public var blasCore: String
        public var blasChosenBy: String
        /// The engine kernels' instruction set (KernelPath: baseline, avx2, avx512).
        public var kernels: String
        /// The output side from which 3×3 layers took Winograd F(4×4); nil: F(2×2) at every size.
        public var winogradF4From: Int?
        public var threads: Int
        /// Processes of a data-parallel run (rank 0's machine is the one recorded).
        public var ranks: Int

        enum CodingKeys: String, CodingKey {
            case fromStep = "from_step", cpuModel = "cpu_model", cpuFeatures = "cpu_features", blasCore = "blas_core"
            case blasChosenBy = "blas_chosen_by", kernels, winogradF4From = "winograd_f4_from", threads, ranks
        }

        /// This process, beginning at `fromStep`.
        public static func current(fromStep: Int, threads: Int, ranks: Int) -> Segment {
            let cpu = CPUFeatures.current, blas = BLASCoreChoice.report
            return Segment(fromStep: fromStep, cpuModel: cpu.model, cpuFeatures: cpu.featureList, blasCore: blas.core,
                           blasChosenBy: blas.chosenBy, kernels: KernelPath.choice.instructionSet.rawValue,
                           winogradF4From: MachineReport.winogradF4From, threads: threads, ranks: ranks)
        }

        /// What this segment computes with that `earlier` did not, in words; empty where the
        /// arithmetic is the same (the CPU model alone does not change it).
        public func differences(from earlier: Segment) -> [String] {
            var said: [String] = []
            if blasCore.lowercased() != earlier.blasCore.lowercased() { said.append("OpenBLAS core \(earlier.blasCore) → \(blasCore)") }
            if kernels != earlier.kernels { said.append("engine kernels \(earlier.kernels) → \(kernels)") }
            if winogradF4From != earlier.winogradF4From {
                said.append("\(MachineReport.winogradTiles(f4From: earlier.winogradF4From)) → \(MachineReport.winogradTiles(f4From: winogradF4From))")
            }
            if threads != earlier.threads { said.append("threads \(earlier.threads) → \(threads)") }
            return said
        }
    }

    public var segments: [Segment]

    public static let fileName = "machine.json"

    public init(segments: [Segment]) { self.segments = segments }

    public static func path(in folder: String) -> String { RunFolder(folder).machine }

    /// The record with `segment` as its last: segments from its step on (a resume that died
    /// before its first checkpoint, started again from the same one) are dropped.
    public func adding(_ segment: Segment) -> RunMachine {
        RunMachine(segments: segments.filter { $0.fromStep < segment.fromStep } + [segment])
    }

    /// The line a resume prints where the path differs from the one the run last computed on.
    public static func resumeWarning(last: Segment, now: Segment) -> String? {
        let changes = now.differences(from: last)
        guard !changes.isEmpty else { return nil }
        return "note: resuming at step \(now.fromStep) on another CPU path than the run computed on from step \(last.fromStep) "
            + "(\(changes.joined(separator: ", "))): the rest of the run rounds differently and will not match an uninterrupted run bit for bit"
    }
}
