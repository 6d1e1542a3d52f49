import ArgumentParser
import Foundation
import LossKitCore
import LossKitHost
import LossKitRun

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Turn run folders into one static HTML page with curves (SVG), image grids (PNG), PCA and t-SNE maps and accuracies.",
        discussion: """
            Several runs are overlaid on the same curves (e.g. ce against ce + nce). Runs that differ only in their seed are \
            one method, unless they ran different versions of a plugin: a table gives each method's accuracy per seed, mean and range, against ce alone seed by seed \
            (losskit report runs/p2-*). The page needs no network or scripts.
            """)
    @OptionGroup var plugins: PluginOptions
    @Argument(help: "Run folders.") var runs: [String]
    @Option(help: "Output folder (default: RUN/report for one run, ./report for several).") var out: String?
    @Flag(help: "Skip the evaluation of the encoders (PCA map, kNN, confusion matrix).") var noEval = false
    @Flag(help: "Also fit a linear probe on frozen features (slower).") var linear = false
    @Option(parsing: .unconditional, help: "Test points of the t-SNE map beside the PCA one (0: no t-SNE; exact, so a few seconds per thousand).")
    var tsnePoints = 1000
    @Option(parsing: .unconditional, help: "Threads (default: each run's own).") var threads: Int?
    @Option(help: ArgumentHelp("Plugins whose versions are not compared when runs are grouped into methods: 'all', or names separated by commas (when you know the versions compute the same; by default another version is another method).",
                               valueName: "all|name,..."))
    var mergePluginVersions: String?

    func validate() throws {
        try validateThreads(threads)
        guard (0...10_000).contains(tsnePoints) else { throw ValidationError("--tsne-points must be in 0...10000, got \(tsnePoints)") }
        _ = try versionMerging()
    }

    func run() throws {
        var builder = ReportBuilder()
        builder.threads = threads
        builder.evaluate = !noEval
        builder.linearProbe = linear
        builder.tsnePoints = tsnePoints
        builder.mergePluginVersions = try versionMerging()
        let folder = out ?? (runs.count == 1 ? RunFolder(runs[0]).report : "report")
        let index = try builder.build(runs: runs, out: folder, loader: noEval ? nil : plugins.load())
        print("report: \(index)")
    }

    /// `--merge-plugin-versions` read: all, or a set of plugin names.
    private func versionMerging() throws -> MethodComparison.VersionMerging {
        guard let value = mergePluginVersions else { return .none }
        if value == "all" { return .all }
        let names = value.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !names.isEmpty, !names.contains(where: \.isEmpty) else {
            throw ValidationError("--merge-plugin-versions takes 'all' or plugin names separated by commas, got '\(value)'")
        }
        return .plugins(Set(names))
    }
}
