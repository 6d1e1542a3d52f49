import Foundation
import LossKitCore
import LossKitPlugins

/// One setting of a run, declared once: its key in `config.json` and experiment files, where it
/// lives in `TrainingConfig` (its type and default), whether a resumed run may change it, what it
/// means (the help `losskit train --help` shows) and which values it accepts. The config's
/// decoding and encoding, the keys an experiment file may use, `validate()`, the resume rule and
/// the flags' help all come from `TrainingConfig.settings`; a new setting is its property, one
/// entry there and, if it has one, its flag.
struct TrainingSetting {
    let key: String
    /// Whether a resumed run may change it: how long the run goes and how it reports, never what
    /// the checkpoint holds or what the run means.
    let changeableOnResume: Bool
    /// One line: what the setting does (the flag's help).
    let help: String
    /// Why a config's value is refused, or nil when it is accepted.
    let check: ((TrainingConfig) -> String?)?
    let decode: (inout TrainingConfig, KeyedDecodingContainer<SettingKey>) throws -> Void
    let encode: (TrainingConfig, inout KeyedEncodingContainer<SettingKey>) throws -> Void

    /// A setting with a value always: a missing key keeps the default.
    static func value<T: Codable>(_ key: String, _ path: WritableKeyPath<TrainingConfig, T>, resumable: Bool = false, _ help: String,
                                  accepts: ((TrainingConfig) -> String?)? = nil) -> TrainingSetting {
        let k = SettingKey(key)
        return TrainingSetting(
            key: key, changeableOnResume: resumable, help: help, check: accepts,
            decode: { config, c in if let v = try c.decodeIfPresent(T.self, forKey: k) { config[keyPath: path] = v } },
            encode: { config, c in try c.encode(config[keyPath: path], forKey: k) })
    }

    /// A setting that may be absent in a run (`labels_per_class` of an all-labels run, no
    /// `init_from`): written as null then, and a null read back as absent; a missing key keeps
    /// the default. Written out, so a config read back is the config that was written.
    static func optional<T: Codable>(_ key: String, _ path: WritableKeyPath<TrainingConfig, T?>, resumable: Bool = false, _ help: String,
                                     accepts: ((TrainingConfig) -> String?)? = nil) -> TrainingSetting {
        let k = SettingKey(key)
        return TrainingSetting(
            key: key, changeableOnResume: resumable, help: help, check: accepts,
            decode: { config, c in if c.contains(k) { config[keyPath: path] = try c.decodeIfPresent(T.self, forKey: k) } },
            encode: { config, c in
                if let v = config[keyPath: path] { try c.encode(v, forKey: k) } else { try c.encodeNil(forKey: k) }
            })
    }
}

/// A setting's key in a keyed container.
struct SettingKey: CodingKey {
    let stringValue: String
    init(_ key: String) { stringValue = key }
    init?(stringValue: String) { self.stringValue = stringValue }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}

extension TrainingConfig: Codable {
    /// Every setting, in the order experiment files and error messages list them, each checked
    /// in this order by `validate()`.
    static let settings: [TrainingSetting] = [
        .value("data", \.data, "Data set: fashion-mnist[:DIR], mnist:DIR, idx:DIR, cifar10:DIR."),
        .value("encoder", \.encoder, "Encoder plugin, with options: convnet-s or 'convnet-s(width=0.5)'."),
        .value("loss", \.loss, "Loss expression, e.g. 'ce + 0.5*nce'."),
        .optional("labels_per_class", \.labelsPerClass, "Labelled images per class (the rest are unlabelled).",
                  accepts: { c in c.labelsPerClass.map { $0 >= 1 } ?? true ? nil : "labels per class must be ≥ 1" }),
        .value("batch_size", \.batchSize, "Rows per batch (alone, it keeps the labelled fraction: a quarter by default).",
               accepts: { c in c.batchSize >= 2 && c.batchSize <= maximumBatchSize ? nil
                   : "batch size must be in 2...\(maximumBatchSize) (batch-norm needs two rows; \(maximumBatchSize) rows of 28×28 need about 24 GB), got \(c.batchSize)" }),
        .value("labelled_per_batch", \.labelledPerBatch, "Labelled rows per batch.",
               accepts: { c in c.labelledPerBatch >= 0 && c.labelledPerBatch <= c.batchSize ? nil
                   : "labelled rows per batch must be in 0...\(c.batchSize), got \(c.labelledPerBatch)" }),
        .value("steps", \.steps, resumable: true, "Optimiser steps.",
               accepts: { c in c.steps < 1 ? "steps must be ≥ 1, got \(c.steps)"
                   : c.steps > maximumSteps ? "steps must be at most \(maximumSteps), got \(c.steps)" : nil }),
        .value("optimizer", \.optimizer, "sgd (momentum, Nesterov) or adam.",
               accepts: { c in ["sgd", "adam"].contains(c.optimizer) ? nil : "optimizer must be sgd or adam, got '\(c.optimizer)'" }),
        .value("learning_rate", \.learningRate, "Base learning rate.",
               accepts: { c in c.learningRate.isFinite && c.learningRate > 0 ? nil : "learning rate must be > 0, got \(c.learningRate)" }),
        .value("momentum", \.momentum, "SGD momentum or Adam beta1.",
               accepts: { c in c.momentum >= 0 && c.momentum < 1 ? nil
                   : "momentum (\(c.optimizer == "adam" ? "Adam's beta1" : "SGD's")) must be in [0, 1), got \(c.momentum)" }),
        .value("nesterov", \.nesterov, "Nesterov momentum with sgd."),
        .value("weight_decay", \.weightDecay, "L2 weight decay.",
               accepts: { c in c.weightDecay.isFinite && c.weightDecay >= 0 ? nil : "weight decay must be ≥ 0, got \(c.weightDecay)" }),
        .value("schedule", \.schedule, "cosine, constant or step.",
               accepts: { c in ["cosine", "constant", "step"].contains(c.schedule) ? nil : "schedule must be cosine, constant or step, got '\(c.schedule)'" }),
        .value("warmup_steps", \.warmupSteps, "Linear warm-up steps (cosine schedule).",
               accepts: { c in c.warmupSteps >= 0 ? nil : "warm-up steps must be ≥ 0, got \(c.warmupSteps)" }),
        .value("step_every", \.stepEvery, "Steps between the step schedule's drops.",
               accepts: { c in c.stepEvery >= 1 ? nil : "step_every must be ≥ 1, got \(c.stepEvery)" }),
        .value("step_gamma", \.stepGamma, "The step schedule's factor at each drop.",
               accepts: { c in c.stepGamma.isFinite && c.stepGamma > 0 ? nil
                   : "step_gamma must be > 0 (a negative one would flip the learning rate's sign), got \(c.stepGamma)" }),
        .value("seed", \.seed, "Seed for data order, initialisation, augmentation and plugin randomness."),
        .value("threads", \.threads, resumable: true, "Threads for OpenBLAS and the engine.",
               accepts: { c in Threads.allowed.contains(c.threads) ? nil : "threads must be in \(Threads.allowed), got \(c.threads)" }),
        .value("crop_padding", \.cropPadding, "Zero-padding before the random crop (0: no crop).",
               accepts: { c in c.cropPadding >= 0 && c.cropPadding <= 16 ? nil : "crop padding must be in 0...16, got \(c.cropPadding)" }),
        .value("horizontal_flip", \.horizontalFlip, "Random horizontal flips (off for digits)."),
        .value("crop_scale", \.cropScale, "Random-resized crop keeping at least this fraction of the area, resized back (0: off; 0.2 for NCE).",
               accepts: { c in c.cropScale == 0 || (c.cropScale >= 0.05 && c.cropScale <= 1) ? nil : "crop scale must be 0 (off) or in 0.05...1, got \(c.cropScale)" }),
        .value("jitter", \.jitter, "Brightness and contrast jitter: factors uniform in [1-J, 1+J] (0: off; 0.4 for NCE).",
               accepts: { c in c.jitter >= 0 && c.jitter < 1 ? nil : "jitter must be in [0, 1) (0: off), got \(c.jitter)" }),
        .value("checkpoint_every", \.checkpointEvery, resumable: true, "Write a checkpoint every N steps.",
               accepts: { c in c.checkpointEvery >= 1 ? nil : "checkpoint interval must be ≥ 1" }),
        .value("log_every", \.logEvery, resumable: true, "Write a metrics line every N steps.",
               accepts: { c in c.logEvery >= 1 ? nil : "log interval must be ≥ 1" }),
        .value("eval_every", \.evalEvery, resumable: true, "Evaluate test accuracy every N steps (0: at the end only).",
               accepts: { c in c.evalEvery >= 0 ? nil : "evaluation interval must be ≥ 0 (0: at the end only), got \(c.evalEvery)" }),
        .value("knn_every", \.knnEvery, resumable: true,
               "Weighted kNN accuracy (k 200, tau 0.07) of the encoder's features every N steps and at the end, as `eval knn` (0: never; one pass over the training set each).",
               accepts: { c in c.knnEvery >= 0 ? nil : "kNN interval must be ≥ 0 (0: never), got \(c.knnEvery)" }),
        .optional("init_from", \.initFrom, "Start the encoder from this run folder's checkpoint (fine-tuning after pretraining)."),
        .value("sync_bn", \.syncBatchNorm, resumable: true,
               "Under mpirun: batch-norm statistics over every rank's rows, as one process computes them (default: each rank's own, as PyTorch's DDP)."),
    ]

    /// The help of the setting `key` (for its flag in `losskit train`).
    public static func help(_ key: String) -> String {
        guard let s = settings.first(where: { $0.key == key }) else { preconditionFailure("no setting '\(key)'") }
        return s.help
    }

    /// Refuses the first setting whose value its declaration does not accept, naming it.
    public func validate() throws {
        for setting in TrainingConfig.settings {
            if let message = setting.check?(self) { throw RunError(message) }
        }
    }

    /// The keys an experiment file may use.
    public static var keys: [String] { settings.map(\.key) }

    /// Settings a resumed run may change: how long it runs and how it reports. Every other one
    /// defines what the checkpoint holds (a term dropped from the loss would silently lose its
    /// parameters and memory bank) or what the rest of the run would mean.
    package static var changeableOnResume: Set<String> { Set(settings.filter(\.changeableOnResume).map(\.key)) }

    /// Decodes with every key optional: missing keys keep their defaults (`labelled_per_batch`: a
    /// quarter of the batch read), keys that are not settings are ignored here (an experiment
    /// file refuses them before).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: SettingKey.self)
        var config = TrainingConfig()
        for setting in TrainingConfig.settings { try setting.decode(&config, c) }
        if !c.contains(SettingKey("labelled_per_batch")) { config.labelledPerBatch = config.batchSize / 4 }
        self = config
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: SettingKey.self)
        for setting in TrainingConfig.settings { try setting.encode(self, &c) }
    }
}
