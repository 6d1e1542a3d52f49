import Foundation
import LossKitKernels
#if arch(x86_64)
import LossKitKernelsAVX2
import LossKitKernelsAVX512
#endif

/// Which build of the engine's hot loops this process runs (`EngineKernels`), and who chose it.
///
/// Chosen once, at the first use: the highest instruction set this CPU and its operating system
/// support (`CPUFeatures`), unless `LOSSKIT_KERNELS` names one — `baseline`, `avx2`, `avx512`, or
/// `best` (the default) — for tests and bug reports. A named set the CPU cannot run is refused
/// with a one-line warning (running it would stop the process with an illegal instruction), as
/// is a name that is not one of these. Every path computes the same bits (EngineKernels.swift),
/// so the choice changes the speed of a run, never its numbers.
public enum KernelPath {
    static let variable = "LOSSKIT_KERNELS"

    /// What runs, why, and what was refused.
    public struct Choice: Sendable, Equatable {
        public var instructionSet: KernelInstructionSet
        /// "the CPU's best" or "LOSSKIT_KERNELS".
        public var chosenBy: String
        /// A one-line warning when LOSSKIT_KERNELS could not be followed.
        public var warning: String?

        public var description: String {
            "\(KernelPath.describe(instructionSet)) (\(chosenBy))"
        }
    }

    /// The builds in this binary, lowest first (on other architectures, the baseline alone).
    public static var available: [KernelInstructionSet] { builds.map { $0.instructionSet } }

    private static var builds: [any EngineKernels.Type] {
        #if arch(x86_64)
        [LossKitKernels.KernelTable.self, LossKitKernelsAVX2.KernelTable.self, LossKitKernelsAVX512.KernelTable.self]
        #else
        [LossKitKernels.KernelTable.self]
        #endif
    }

    /// Whether `cpu` runs the instructions a build for `set` may contain: LLVM's `haswell` and
    /// `skylake-avx512` emit BMI, LZCNT, MOVBE and F16C instructions as well as the vector ones.
    public static func runs(_ set: KernelInstructionSet, on cpu: CPUFeatures) -> Bool {
        switch set {
        case .baseline: return true
        case .avx2: return cpu.has(.avx, .avx2, .fma, .bmi1, .bmi2, .abm, .movbe, .f16c, .popcnt)
        case .avx512: return runs(.avx2, on: cpu) && cpu.hasAVX512Core
        }
    }

    /// The decision for a CPU and the value of LOSSKIT_KERNELS (nil: unset).
    public static func choose(requested: String?, cpu: CPUFeatures, available: [KernelInstructionSet] = available) -> Choice {
        let best = available.last { runs($0, on: cpu) } ?? .baseline
        let name = (requested ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        if name.isEmpty || name == "best" { return Choice(instructionSet: best, chosenBy: "the CPU's best", warning: nil) }
        guard let set = KernelInstructionSet(rawValue: name) else {
            let names = (KernelInstructionSet.allCases.map(\.rawValue) + ["best"]).joined(separator: ", ")
            return Choice(instructionSet: best, chosenBy: "the CPU's best",
                          warning: "warning: \(variable)=\(requested ?? "") is not a kernel path (\(names)); running \(best.rawValue)")
        }
        guard available.contains(set) else {
            return Choice(instructionSet: best, chosenBy: "the CPU's best",
                          warning: "warning: \(variable)=\(name): this binary has no \(name) kernels (it has \(available.map(\.rawValue).joined(separator: ", "))); running \(best.rawValue)")
        }
        guard runs(set, on: cpu) else {
            return Choice(instructionSet: best, chosenBy: "the CPU's best",
                          warning: "warning: \(variable)=\(name) needs instructions this CPU lacks; running \(best.rawValue)")
        }
        return Choice(instructionSet: set, chosenBy: variable, warning: nil)
    }

    nonisolated(unsafe) private static var decided: Choice?
    nonisolated(unsafe) private static var activeKernels: (any EngineKernels.Type)?

    /// This process's choice, made at the first call (its warning printed then, once).
    public static var choice: Choice {
        if let decided { return decided }
        let made = choose(requested: ProcessInfo.processInfo.environment[variable], cpu: .current)
        if let warning = made.warning { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
        decided = made
        return made
    }

    /// The loops the engine calls.
    static var kernels: any EngineKernels.Type {
        if let activeKernels { return activeKernels }
        let chosen = build(choice.instructionSet)
        activeKernels = chosen
        return chosen
    }

    static func build(_ set: KernelInstructionSet) -> any EngineKernels.Type {
        builds.first { $0.instructionSet == set } ?? LossKitKernels.KernelTable.self
    }

    /// Runs `body` on another path (tests: each path against the baseline). Not thread-safe: the
    /// engine must be idle around the switch.
    static func using<R>(_ set: KernelInstructionSet, _ body: () throws -> R) rethrows -> R {
        let saved = kernels
        activeKernels = build(set)
        defer { activeKernels = saved }
        return try body()
    }

    static func describe(_ set: KernelInstructionSet) -> String {
        switch set {
        case .baseline:
            #if arch(x86_64)
            "x86-64 baseline (SSE2)"
            #else
            "baseline"
            #endif
        case .avx2: "AVX2 + FMA"
        case .avx512: "AVX-512"
        }
    }
}

/// The loops of the path this process runs (`KernelPath`).
var kernels: any EngineKernels.Type { KernelPath.kernels }
