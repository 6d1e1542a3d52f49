import ArgumentParser
import Foundation
import LossKitCore
import LossKitDistributed
import LossKitHost
import LossKitPlugins

@main
struct LossKit: ParsableCommand {
    /// Chooses OpenBLAS's core first (which may restart the process) and the engine's kernel
    /// build, then runs the command.
    static func main() {
        BLASCoreChoice.prepareProcess()
        _ = KernelPath.choice  // the kernel build, decided (and any LOSSKIT_KERNELS warning printed) before the command's output
        // progress reaches a log file as it is printed (a long `invert` or `train` under nohup)
        setvbuf(stdout, nil, _IOLBF, 0)
        refuseDataParallelUnlessTraining()
        main(nil)
    }

    /// Only `train` runs data-parallel: any other command under mpirun would run N copies of
    /// itself (N evaluations writing the same files), so it is refused, by rank 0 alone.
    static func refuseDataParallelUnlessTraining() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard MPILaunch.launchedByMPI(), let command = arguments.first, !command.hasPrefix("-"), command != "train" else { return }
        if ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"] ?? ProcessInfo.processInfo.environment["PMIX_RANK"] ?? "0" == "0" {
            FileHandle.standardError.write(Data("Error: losskit \(command) runs in one process; start it without mpirun (only `losskit train` trains data-parallel)\n".utf8))
        }
        Foundation.exit(1)
    }

    static let configuration = CommandConfiguration(
        commandName: "losskit",
        abstract: "Train image encoders with a supervised loss plus any weighted mix of unsupervised objectives.",
        discussion: """
        Every objective and encoder is a plugin: a shared library loaded through the C ABI of losskit.h. \
        Plugins are searched in --plugin-path, then LOSSKIT_PLUGIN_PATH (colon-separated), then the \
        losskit-plugins folder beside this executable (installed as PREFIX/bin/losskit: PREFIX/lib/losskit/plugins). --threads sets OpenBLAS's threads and the engine's; \
        losskit also sets OPENBLAS_THREAD_TIMEOUT=4 (unless it is set) so that idle OpenBLAS threads \
        sleep instead of spinning between the small GEMMs of a step; the engine's own worker threads spin for \
        LOSSKIT_SPIN_US microseconds (default 200) after each parallel loop, then sleep.

        When OpenBLAS picks kernels below what the CPU supports (it does not know recent CPUs), losskit \
        restarts itself with OPENBLAS_CORETYPE set to the best core the CPU runs (cpuid), after checking \
        that core's sgemm against a reference; a failed check falls back with a warning. Your own \
        OPENBLAS_CORETYPE wins, unless its kernels need instructions the CPU lacks (OpenBLAS loads them \
        anyway, and the first sgemm would stop on SIGILL; OpenBLAS also picks such a core on some virtual \
        CPUs): then losskit runs the best core the CPU does run, with a warning. The engine's own loops are built for baseline x86-64, AVX2 and \
        AVX-512, and the highest build the CPU runs is used (all compute the same bits, except that the AVX2 \
        build runs the Winograd convolutions' GEMMs on its own kernel, within rounding of OpenBLAS's); \
        LOSSKIT_KERNELS=baseline|avx2|avx512 forces one. --version shows the CPU, the core, the kernel \
        build and who chose them.

        Example: losskit train --loss 'ce + 0.5*nce' --labels-per-class 100 --out runs/a; losskit eval knn runs/a
        """,
        version: versionText,
        subcommands: [PluginsCommand.self, TrainCommand.self, EvalCommand.self, EmbedCommand.self, InvertCommand.self, ReportCommand.self, BenchCommand.self])
}

/// The executable's version (the host's C ABI version is the header's, LOSSKIT_HOST_ABI).
let losskitVersion = "1.0.0"

/// `losskit --version`: the version, the C ABI, and what speed depends on (CPU, BLAS core, kernels).
private var versionText: String {
    (["losskit \(losskitVersion) (C ABI \(LOSSKIT_HOST_ABI))"] + MachineReport.lines).joined(separator: "\n")
}

/// The plugin search options every command shares.
struct PluginOptions: ParsableArguments {
    @Option(name: .customLong("plugin-path"), help: ArgumentHelp("A folder or .so file to search for plugins first (repeatable; colon-separated lists too).", valueName: "path"))
    var pluginPath: [String] = []

    @Flag(help: "Search only --plugin-path: ignore LOSSKIT_PLUGIN_PATH and the folder beside the executable.")
    var onlyPluginPath = false

    /// Every --plugin-path entry, colon-separated lists split.
    private var explicitPaths: [String] { pluginPath.flatMap { $0.split(separator: ":").map(String.init) } }

    func validate() throws {
        // a mistyped folder would otherwise just load nothing from it
        for path in explicitPaths where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("--plugin-path \(path): no such file or folder")
        }
    }

    func load() -> PluginLoader {
        let loader = PluginLoader()
        let path = onlyPluginPath
            ? explicitPaths
            : PluginLoader.searchPath(explicit: pluginPath)
        loader.load(searchPath: path)
        return loader
    }
}

/// `--threads` of the commands that evaluate a run: nil keeps the run's; otherwise the range
/// training accepts (the engine would quietly take 0 or -1 as 1).
func validateThreads(_ threads: Int?) throws {
    if let threads, !Threads.allowed.contains(threads) {
        throw ValidationError("--threads must be in \(Threads.allowed), got \(threads)")
    }
}
