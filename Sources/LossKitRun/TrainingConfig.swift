import Foundation
import LossKitCore
import LossKitData
import LossKitLossExpression
import LossKitPlugins

/// Everything that defines a run. Saved as `config.json` in the run folder; a YAML experiment
/// file (`ExperimentFile`) supplies the same keys (snake_case) in place of flags.
public struct TrainingConfig: Equatable {
    public var data = "fashion-mnist"
    /// Encoder plugin with options in loss-term syntax: "convnet-s" or "convnet-s(width=0.5)".
    public var encoder = "convnet-s"
    /// The loss expression as written; parsed once, whenever it is set, into `lossExpression()`,
    /// which every reader of the run's terms uses rather than parsing the text again.
    public var loss = "ce" { didSet { parsedLoss = TrainingConfig.parsed(loss) } }
    private var parsedLoss: Result<LossExpression, LossExpressionError> = TrainingConfig.parsed("ce")
    /// Labelled images per class; nil means every training image is labelled.
    public var labelsPerClass: Int? = 100
    public var batchSize = 128
    /// Labelled rows in each batch; the rest are drawn from all training images, unlabelled.
    /// A quarter of the batch unless set (an experiment file that sets only `batch_size` gets a
    /// quarter of that).
    public var labelledPerBatch = 32
    public var steps = 1500
    public var optimizer = "sgd"
    public var learningRate: Float = 0.05
    public var momentum: Float = 0.9
    public var nesterov = true
    public var weightDecay: Float = 5e-4
    /// "cosine", "constant" or "step".
    public var schedule = "cosine"
    public var warmupSteps = 0
    public var stepEvery = 1000
    public var stepGamma: Float = 0.1
    public var seed: UInt64 = 0
    public var threads = 2
    public var cropPadding = 2
    public var horizontalFlip = false
    /// Smallest area fraction a random-resized crop keeps (see `Augmentation.cropScale`); 0: off.
    public var cropScale: Float = 0
    /// Brightness and contrast jitter strength (see `Augmentation.jitter`); 0: off.
    public var jitter: Float = 0
    public var checkpointEvery = 500
    public var logEvery = 50
    /// Evaluate test accuracy every N steps (0: only at the end).
    public var evalEvery = 0
    /// Weighted kNN accuracy (k 200, τ 0.07, cosine) of the encoder's features every N steps and
    /// at the end: the test set against every training image, as `losskit eval knn` (0: never).
    /// Each evaluation encodes the whole training set once (1–2 minutes for Fashion-MNIST here).
    public var knnEvery = 0
    /// A run folder whose checkpoint initialises the encoder (weights and batch-norm statistics),
    /// for fine-tuning after unsupervised pretraining; the head and plugins start fresh.
    public var initFrom: String?
    /// In a data-parallel run (`mpirun -np N`), batch-norm statistics over every rank's rows
    /// rather than each rank's own (`DataParallel`); no effect in a run of one process.
    public var syncBatchNorm = false

    public init() {}


    /// Labelled rows in each batch as the sampler draws them: every row when all labels are used.
    public var labelledRows: Int { labelsPerClass == nil ? batchSize : labelledPerBatch }

    /// Whether the classification head learns in such a run: a `ce` term with a non-zero weight
    /// and labelled rows in each batch. Without both, its test accuracy is that of random weights,
    /// and neither training, `eval accuracy` nor the report print it.
    public var trainsTheHead: Bool {
        guard labelledRows > 0, let expression = try? lossExpression() else { return false }
        return expression.terms.contains { $0.plugin == "ce" && $0.weight != 0 }
    }

    /// `loss` parsed (the error, with its caret, if the text is not an expression).
    public func lossExpression() throws(LossExpressionError) -> LossExpression { try parsedLoss.get() }

    private static func parsed(_ text: String) -> Result<LossExpression, LossExpressionError> {
        do { return .success(try LossExpression.parse(text)) } catch { return .failure(error) }
    }

    /// The most steps a run may take: a billion steps is weeks of any useful model; more is a
    /// typo (or `--epochs 1e300`) that would otherwise overflow the step arithmetic.
    public static let maximumSteps = 1_000_000_000

    /// The largest batch a run may take. A 28×28 image needs about 3 MB of activations and
    /// gradients in convnet-s (peak 376 MiB at batch 128, docs/BENCHMARKS.md), so 8192 rows need
    /// about 24 GB: past that a batch cannot fit a machine LossKit targets, and is refused before
    /// anything is allocated or written rather than failing to map hundreds of GB mid-run.
    public static let maximumBatchSize = 8192

    /// The training-input transformations these settings ask for.
    public var augmentation: Augmentation {
        Augmentation(cropPadding: cropPadding, horizontalFlip: horizontalFlip, cropScale: cropScale, jitter: jitter)
    }

    public var optimizerSettings: OptimizerSettings {
        optimizer == "adam"
            ? .adam(lr: learningRate, beta1: momentum, weightDecay: weightDecay)
            : .sgd(lr: learningRate, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
    }

    public var learningRateSchedule: LearningRateSchedule {
        switch schedule {
        case "constant": return .constant
        case "step": return .step(every: stepEvery, gamma: stepGamma)
        default: return .cosine(warmupSteps: warmupSteps, totalSteps: steps)
        }
    }

    public func json() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(self)
    }
}
