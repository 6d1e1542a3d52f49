import LossKitCore
import LossKitFormats

/// Chooses the rows of every training step for semi-supervised training.
///
/// Each batch has `labelledPerBatch` rows drawn from the labelled subset, followed by
/// `batchSize - labelledPerBatch` rows drawn from *all* training images (the unlabelled pool,
/// whose rows are marked `labelled = false` so their labels stay hidden). The two pools are
/// walked independently, because the labelled subset is usually tiny (1000 of 60 000) and
/// goes round many times while the unlabelled pool completes one epoch.
///
/// Each pool is walked as a sequence of passes; a pass is a fresh permutation of the pool, so
/// within a pass every member is drawn exactly once, and every pass is shuffled anew. A batch
/// that reaches the end of a pass continues into the next one, so a batch may repeat an index
/// only across a pass boundary (or when it is larger than the pool). With `labelledPerBatch ==
/// batchSize` only the labelled pool is used: plain supervised sampling.
///
/// Everything follows from the seed, and `state` captures the sampler exactly: a sampler
/// restored from the state saved after step k draws the same batches k+1, k+2, ... as the one
/// that never stopped. The state holds each pool's generator as it was when the current pass
/// began plus the position in the pass (the permutation is drawn again on restore), so it is a
/// few dozen bytes regardless of the data-set size.
public final class BatchSampler {
    public let datasetSize: Int
    public let labelledIndices: [Int]
    public let batchSize: Int
    public let labelledPerBatch: Int
    public var unlabelledPerBatch: Int { batchSize - labelledPerBatch }
    /// Batches drawn so far (restored with the state).
    public private(set) var steps: Int = 0

    private let labelledPool: Pool
    private let unlabelledPool: Pool

    /// - Parameters:
    ///   - datasetSize: the number of training images; the unlabelled pool is `0..<datasetSize`.
    ///   - labelled: the labelled subset (e.g. `LabelledSplit.labelledIndices`), unique, in range.
    ///   - batchSize: rows per batch, at least 1.
    ///   - labelledPerBatch: how many of them come from the labelled subset, `0...batchSize`.
    ///   - seed: seeds both pools (through two derived seeds, so the walks are independent, and a
    ///     run may pass the same seed it gives `LabelledSplit.choose`).
    public init(datasetSize: Int, labelled: [Int], batchSize: Int, labelledPerBatch: Int, seed: UInt64) throws {
        guard batchSize >= 1 else {
            throw DataError("batch size must be at least 1, got \(batchSize)")
        }
        guard labelledPerBatch >= 0, labelledPerBatch <= batchSize else {
            throw DataError("labelled rows per batch must be in 0...\(batchSize) (the batch size), got \(labelledPerBatch)")
        }
        guard datasetSize >= 0 else {
            throw DataError("data set size must not be negative, got \(datasetSize)")
        }
        if labelledPerBatch > 0, labelled.isEmpty {
            throw DataError("\(labelledPerBatch) labelled rows per batch were asked for, but no image is labelled")
        }
        if labelledPerBatch < batchSize, datasetSize == 0 {
            throw DataError("\(batchSize - labelledPerBatch) unlabelled rows per batch were asked for, but the data set is empty")
        }
        var seen = Set<Int>()
        for i in labelled {
            guard i >= 0, i < datasetSize else {
                throw DataError("labelled index \(i) is outside the data set 0..<\(datasetSize)")
            }
            guard seen.insert(i).inserted else {
                throw DataError("labelled index \(i) is listed twice")
            }
        }
        self.datasetSize = datasetSize
        self.labelledIndices = labelled
        self.batchSize = batchSize
        self.labelledPerBatch = labelledPerBatch
        let master = RandomGenerator(seed: seed)
        labelledPool = Pool(size: labelled.count, random: RandomGenerator(seed: master.next()))
        unlabelledPool = Pool(size: datasetSize, random: RandomGenerator(seed: master.next()))
    }

    /// A sampler in the exact state `state` was saved in. The configuration must be the one the
    /// state was saved with; a mismatch is reported rather than silently drawing other batches.
    public convenience init(restoring state: [Int64], datasetSize: Int, labelled: [Int],
                            batchSize: Int, labelledPerBatch: Int) throws {
        try self.init(datasetSize: datasetSize, labelled: labelled, batchSize: batchSize,
                      labelledPerBatch: labelledPerBatch, seed: 0)
        try restore(state)
    }

    /// The next batch: `labelledPerBatch` labelled rows, then the unlabelled rows.
    public func next() -> SampledBatch {
        var indices: [Int] = []
        indices.reserveCapacity(batchSize)
        labelledPool.take(labelledPerBatch) { indices.append(labelledIndices[$0]) }
        unlabelledPool.take(unlabelledPerBatch) { indices.append($0) }
        steps += 1
        var flags = [Bool](repeating: false, count: batchSize)
        for r in 0 ..< labelledPerBatch { flags[r] = true }
        return SampledBatch(indices: indices, labelled: flags)
    }

    /// Passes made over the unlabelled pool (all images): 1.5 means one and a half epochs.
    /// Zero when batches have no unlabelled rows.
    public var epochOfUnlabelledPool: Double { unlabelledPool.epochs }

    /// Passes made over the labelled subset; the progress measure of supervised sampling.
    public var epochOfLabelledPool: Double { labelledPool.epochs }

    // MARK: - Saving and restoring

    static let stateVersion: Int64 = 1
    static let stateCount = 19

    /// The complete sampler state, for checkpoints (e.g. a safetensors I64 tensor). Layout:
    /// version, data-set size, labelled count, batch size, labelled per batch, a fingerprint of
    /// the labelled indices, steps, then for the labelled and the unlabelled pool: the four
    /// generator words at the start of the current pass, the position in the pass and the number
    /// of passes begun.
    public var state: [Int64] {
        [Self.stateVersion, Int64(datasetSize), Int64(labelledIndices.count), Int64(batchSize),
         Int64(labelledPerBatch), fingerprint, Int64(steps)]
            + labelledPool.state + unlabelledPool.state
    }

    /// Returns this sampler to a saved state. Throws, leaving the sampler unchanged, if the
    /// state is malformed or was saved with another configuration or labelled subset.
    public func restore(_ state: [Int64]) throws {
        guard state.count == Self.stateCount, state[0] == Self.stateVersion else {
            throw DataError("batch sampler state: expected \(Self.stateCount) values starting with version \(Self.stateVersion), got \(state.count) values\(state.first.map { " starting with \($0)" } ?? "")")
        }
        let expected: [(String, Int64)] = [
            ("data set size", Int64(datasetSize)), ("labelled image count", Int64(labelledIndices.count)),
            ("batch size", Int64(batchSize)), ("labelled rows per batch", Int64(labelledPerBatch)),
        ]
        for (k, (what, value)) in expected.enumerated() where state[1 + k] != value {
            throw DataError("batch sampler state was saved with \(what) \(state[1 + k]), but this run has \(value)")
        }
        guard state[5] == fingerprint else {
            throw DataError("batch sampler state was saved with a different set of labelled images (same count, other indices); was the split drawn with another seed?")
        }
        guard state[6] >= 0 else {
            throw DataError("batch sampler state: step count \(state[6]) is negative")
        }
        let l = Array(state[7 ..< 13]), u = Array(state[13 ..< 19])
        try labelledPool.check(l, name: "labelled")
        try unlabelledPool.check(u, name: "unlabelled")
        labelledPool.restore(l)
        unlabelledPool.restore(u)
        steps = Int(state[6])
    }

    /// FNV-1a over the labelled indices in order: detects resuming with another split.
    private var fingerprint: Int64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for i in labelledIndices {
            var v = UInt64(i)
            for _ in 0 ..< 8 {
                h = (h ^ (v & 0xFF)) &* 0x0000_0100_0000_01B3
                v >>= 8
            }
        }
        return Int64(bitPattern: h)
    }
}

/// One pool walked in passes of fresh permutations of `0..<size`.
private final class Pool {
    let size: Int
    let random: RandomGenerator
    /// Generator state just before the current pass's permutation was drawn.
    var passStart: [UInt64]
    var order: [Int] = []
    var position = 0
    /// Passes begun; 0 only for an empty pool.
    var passes = 0

    init(size: Int, random: RandomGenerator) {
        self.size = size
        self.random = random
        passStart = random.stateWords
        if size > 0 { beginPass() }
    }

    private func beginPass() {
        passStart = random.stateWords
        order = random.permutation(size)
        position = 0
        passes += 1
    }

    /// Calls `body` with the next `k` pool members, starting a new pass whenever one ends.
    @inline(__always)
    func take(_ k: Int, _ body: (Int) -> Void) {
        for _ in 0 ..< k {
            if position == size { beginPass() }
            body(order[position])
            position += 1
        }
    }

    var epochs: Double {
        size == 0 || passes == 0 ? 0 : (Double(passes - 1) * Double(size) + Double(position)) / Double(size)
    }

    var state: [Int64] {
        passStart.map { Int64(bitPattern: $0) } + [Int64(position), Int64(passes)]
    }

    func check(_ s: [Int64], name: String) throws {
        let position = s[4], passes = s[5]
        let valid = size == 0
            ? position == 0 && passes == 0
            : passes >= 1 && position >= 0 && position <= Int64(size) && s[0 ..< 4].contains { $0 != 0 }
        guard valid else {
            throw DataError("batch sampler state: \(name) pool of \(size) images cannot be at position \(position) of pass \(passes) with generator \(Array(s[0 ..< 4]))")
        }
    }

    func restore(_ s: [Int64]) {
        passStart = s[0 ..< 4].map { UInt64(bitPattern: $0) }
        random.restore(from: RandomGenerator(state: passStart))
        passes = Int(s[5])
        if size > 0 {
            order = random.permutation(size)
            position = Int(s[4])
        }
    }
}
