import Foundation

/// One setting of a run, declared once: its key in `config.json` and experiment files, where it
/// lives in `TrainingConfig`, and whether a resumed run may change it. The config's decoding and
/// encoding, the list of keys an experiment file may use, and the resume rule all come from
/// `TrainingConfig.settings`, so a new setting is one line there (and its property, its check in
/// `validate`, and its flag in `losskit train`).
struct TrainingSetting {
    let key: String
    /// Whether a resumed run may change it: how long the run goes and how it reports, never what
    /// the checkpoint holds or what the run means.
    let changeableOnResume: Bool
    let decode: (inout TrainingConfig, KeyedDecodingContainer<SettingKey>) throws -> Void
    let encode: (TrainingConfig, inout KeyedEncodingContainer<SettingKey>) throws -> Void

    /// A setting with a value always: a missing key keeps the default.
    static func value<T: Codable>(_ key: String, _ path: WritableKeyPath<TrainingConfig, T>, resumable: Bool = false) -> TrainingSetting {
        let k = SettingKey(key)
        return TrainingSetting(
            key: key, changeableOnResume: resumable,
            decode: { config, c in if let v = try c.decodeIfPresent(T.self, forKey: k) { config[keyPath: path] = v } },
            encode: { config, c in try c.encode(config[keyPath: path], forKey: k) })
    }

    /// A setting that may be absent in a run (`labels_per_class` of an all-labels run, no
    /// `init_from`): written as null then, and a null read back as absent; a missing key keeps
    /// the default. Written out, so a config read back is the config that was written.
    static func optional<T: Codable>(_ key: String, _ path: WritableKeyPath<TrainingConfig, T?>, resumable: Bool = false) -> TrainingSetting {
        let k = SettingKey(key)
        return TrainingSetting(
            key: key, changeableOnResume: resumable,
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
    /// Every setting, in the order `--help` and error messages list them.
    static let settings: [TrainingSetting] = [
        .value("data", \.data), .value("encoder", \.encoder), .value("loss", \.loss),
        .optional("labels_per_class", \.labelsPerClass), .value("batch_size", \.batchSize), .value("labelled_per_batch", \.labelledPerBatch),
        .value("steps", \.steps, resumable: true), .value("optimizer", \.optimizer), .value("learning_rate", \.learningRate),
        .value("momentum", \.momentum), .value("nesterov", \.nesterov), .value("weight_decay", \.weightDecay),
        .value("schedule", \.schedule), .value("warmup_steps", \.warmupSteps), .value("step_every", \.stepEvery),
        .value("step_gamma", \.stepGamma), .value("seed", \.seed), .value("threads", \.threads, resumable: true),
        .value("crop_padding", \.cropPadding), .value("horizontal_flip", \.horizontalFlip), .value("crop_scale", \.cropScale),
        .value("jitter", \.jitter), .value("checkpoint_every", \.checkpointEvery, resumable: true),
        .value("log_every", \.logEvery, resumable: true), .value("eval_every", \.evalEvery, resumable: true),
        .value("knn_every", \.knnEvery, resumable: true), .optional("init_from", \.initFrom),
        .value("sync_bn", \.syncBatchNorm, resumable: true),
    ]

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
