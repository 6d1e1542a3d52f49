import Foundation
import COpenBLAS

/// What a speed figure depends on, said in one place for `losskit --version`, `losskit bench`
/// and its JSON: the CPU model and features, the OpenBLAS core and who chose it, and the
/// build of the engine's own loops that runs and who chose it.
public enum MachineReport {
    /// The build of the engine's own loops this process runs and who chose it (`KernelPath`).
    public static var kernelPath: String { KernelPath.choice.description }

    /// Which Winograd algorithm 3×3 layers take (`Graph.winogradLargeTileMinOutputSide`).
    public static var winogradTiles: String { winogradTiles(f4From: winogradF4From) }

    /// The output side from which 3×3 layers take F(4×4); nil: F(2×2) at every size.
    public static var winogradF4From: Int? {
        Graph.winogradLargeTileMinOutputSide == Int.max ? nil : Graph.winogradLargeTileMinOutputSide
    }

    /// The words for a Winograd choice, wherever one is shown (here, machine.json's notes, the report).
    public static func winogradTiles(f4From side: Int?) -> String {
        side.map { "Winograd F(4×4) from \($0)×\($0) outputs, F(2×2) below" } ?? "Winograd F(2×2) at every size"
    }

    /// Whether the Winograd convolution's forward and input-gradient GEMMs run on the engine's
    /// panel kernel rather than OpenBLAS (`Graph.winogradGemmsOnPanels`).
    public static var winogradPanelGemms: Bool { Graph.winogradGemmsOnPanels }

    /// Where the Winograd GEMMs run, in words.
    public static var winogradGemms: String {
        winogradPanelGemms ? "its GEMMs on the engine's panel kernel (filter gradients on OpenBLAS)" : "its GEMMs on OpenBLAS"
    }

    public static var openBLASConfig: String {
        guard let text = openblas_get_config() else { return "unknown" }
        return String(cString: text).trimmingCharacters(in: .whitespaces)
    }

    /// Three lines: CPU, BLAS, kernels.
    public static var lines: [String] {
        let cpu = CPUFeatures.current
        return ["CPU: \(cpu.model) (\(cpu.featureList.isEmpty ? "no extensions read" : cpu.featureList))",
                "OpenBLAS core: \(BLASCoreChoice.report.description); \(openBLASConfig)",
                "engine kernels: \(kernelPath); \(winogradTiles), \(winogradGemms)"]
    }

    /// The same, as JSON values.
    public static var json: [String: Any] {
        let cpu = CPUFeatures.current, blas = BLASCoreChoice.report
        var blasEntry: [String: Any] = ["core": blas.core, "before": blas.before, "chosen_by": blas.chosenBy,
                                        "config": openBLASConfig]
        if let refusal = blas.refusal { blasEntry["refusal"] = refusal }
        if let better = blas.better { blasEntry["cpu_runs"] = better }
        return ["cpu_model": cpu.model, "cpu_features": cpu.featureList.split(separator: " ").map(String.init),
                "blas": blasEntry, "kernel_path": kernelPath,
                "kernels": ["instruction_set": KernelPath.choice.instructionSet.rawValue, "chosen_by": KernelPath.choice.chosenBy,
                            "available": KernelPath.available.map(\.rawValue),
                            "winograd_f4_from": winogradF4From.map { $0 as Any } ?? NSNull(),
                            "winograd_gemms": winogradPanelGemms ? "panel" : "openblas"]]
    }
}
