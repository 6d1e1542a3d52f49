import Foundation
import LossKitFormats

/// A run folder: the one list of what it holds (everything that reads or writes a run finds
/// the files here, by name), and the writes of the training run that fills it. Each file's
/// format is its own type's (Checkpoint, MetricsLog, RunPlugins, RunClaim, ...); where it goes,
/// and that it is replaced whole, is this type's.
///
///     config.json               the resolved training settings (Trainer)
///     checkpoint.safetensors    weights, optimiser and generator state, step (Trainer)
///     metrics.jsonl             one line per logged step and evaluation (Trainer)
///     plugins.json              where each plugin came from, and the options in force (RunPlugins)
///     machine.json              the CPU path each start and resume computed on (RunMachine)
///     images/                   grids the plugins and the trainer hand the report
///     inversion/                `losskit invert`'s study (InversionRecord)
///     samples/                  `losskit eval samples`' scores and grid (SampleScores)
///     report/                   `losskit report`'s page, by default
///     .lock                     the writer's claim (RunClaim)
public struct RunFolder {
    public let folder: String

    public init(_ folder: String) { self.folder = folder }

    public static let configName = "config.json"
    public static let checkpointName = "checkpoint.safetensors"
    public static let metricsName = "metrics.jsonl"
    public static let imagesName = "images"
    public static let reportName = "report"
    public static let inversionName = "inversion"
    public static let samplesName = "samples"

    /// `s` as a file name: each run of characters other than letters, digits, `-` and `_` becomes
    /// one `_`, none at either end ("reconstructions (with switches)" → "reconstructions_with_switches";
    /// the report turns the `_` back into spaces for the caption).
    public static func fileName(_ s: String) -> String {
        var name = ""
        for c in s {
            if c.isLetter || c.isNumber || c == "-" || c == "_" {
                name.append(c)
            } else if !name.isEmpty, name.last != "_" {
                name.append("_")
            }
        }
        while name.hasSuffix("_") { name.removeLast() }
        return name.isEmpty ? "unnamed" : name
    }

    public var config: String { folder + "/" + RunFolder.configName }
    public var checkpoint: String { folder + "/" + RunFolder.checkpointName }
    public var metrics: String { folder + "/" + RunFolder.metricsName }
    public var images: String { folder + "/" + RunFolder.imagesName }
    public var plugins: String { folder + "/" + RunPlugins.fileName }
    public var machine: String { folder + "/" + RunMachine.fileName }
    public var report: String { folder + "/" + RunFolder.reportName }
    public var lock: String { folder + "/" + RunClaim.lockName }
    public var inversion: String { folder + "/" + RunFolder.inversionName }
    public var samples: String { folder + "/" + RunFolder.samplesName }

    // MARK: what training writes

    /// The resolved settings, replacing any earlier ones whole.
    public func writeConfig(_ config: TrainingConfig) throws {
        try FileIO.writeAtomically(Array(config.json()), to: self.config)
    }

    /// The checkpoint, replacing the earlier one whole (readers never see a partial file).
    public func writeCheckpoint(_ checkpoint: Checkpoint) throws {
        try checkpoint.write(to: self.checkpoint)
    }

    /// The training log, opened for appending; `truncateAfterStep` drops what a resumed run
    /// logged after its checkpoint.
    public func openMetrics(truncateAfterStep: Int?) throws -> MetricsLog {
        try MetricsLog(path: metrics, truncateAfterStep: truncateAfterStep)
    }

    /// An image grid for the report, `images/<owner>--<name>.png` (the report turns the name
    /// back into a caption: "swwae: reconstructions with switches").
    public func writeImage(_ grid: ImageGrid, owner: String, name: String) throws {
        try writeImage(grid, in: RunFolder.imagesName, file: "\(RunFolder.fileName(owner))--\(RunFolder.fileName(name)).png")
    }

    /// An image grid as `<part>/<file>` (`part` one of the folder names above: images,
    /// inversion, samples), the part made if it is not there.
    public func writeImage(_ grid: ImageGrid, in part: String, file: String) throws {
        let dir = folder + "/" + part
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try grid.write(to: dir + "/" + file)
    }
}
