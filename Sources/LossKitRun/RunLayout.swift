import Foundation

/// The files of a run folder, by name: everything that reads or writes a run finds them here,
/// and this is the one list of what a run folder holds.
///
///     config.json               the resolved training settings (Trainer)
///     checkpoint.safetensors    weights, optimiser and generator state, step (Trainer)
///     metrics.jsonl             one line per logged step and evaluation (Trainer)
///     plugins.json              where each plugin came from, and the options in force (RunPlugins)
///     images/                   grids the plugins and the trainer hand the report
///     inversion/                `losskit invert`'s study (InversionRecord)
///     samples/                  `losskit eval samples`' scores and grid (SampleScores)
///     report/                   `losskit report`'s page, by default
///     .lock                     the writer's claim (RunClaim)
public struct RunLayout {
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

    public var config: String { folder + "/" + RunLayout.configName }
    public var checkpoint: String { folder + "/" + RunLayout.checkpointName }
    public var metrics: String { folder + "/" + RunLayout.metricsName }
    public var images: String { folder + "/" + RunLayout.imagesName }
    public var plugins: String { folder + "/" + RunPlugins.fileName }
    public var report: String { folder + "/" + RunLayout.reportName }
    public var lock: String { folder + "/" + RunClaim.lockName }
    public var inversion: String { folder + "/" + RunLayout.inversionName }
    public var samples: String { folder + "/" + RunLayout.samplesName }
}
