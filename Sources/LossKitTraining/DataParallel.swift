import Foundation
import LossKitCore
import LossKitDistributed
import LossKitPlugins

/// What one rank of a data-parallel run (`mpirun -np N losskit train`) does beyond a single
/// process's step, so that N ranks train one model:
///
/// - every rank draws the step's whole batch with the run's sampler and augments it with the
///   run's generator, exactly as one process would, and computes the loss on its share: an equal
///   slice of the labelled rows and of the unlabelled rows (`positions`). Each term's mean over
///   the rank's rows, averaged over the ranks, is then the term's mean over the batch;
/// - gradients are summed across ranks in buckets and divided by N before the optimiser step,
///   which every rank takes alike, so parameters stay identical;
/// - batch-norm uses the rank's own rows (as PyTorch's DDP), and the encoder's running
///   statistics are averaged after each step; with `--sync-bn` each batch-norm's statistics are
///   the whole batch's (`Graph.batchStatisticsSum`), which gives the single-process run up to the
///   order of float sums;
/// - draws inside the step (a GAN's noise, NCE's negatives) come from a generator of the rank's
///   own, seeded each step from the seed, the step and the rank, so the run's generator draws
///   only the augmentation, the same on every rank;
/// - at each checkpoint every rank's parameters and states are compared (`checkAgreement`).
///
/// A run of one process has no `DataParallel` and computes exactly what it did before.
final class DataParallel {
    let communicator: Communicator
    let synchronisedBatchNorm: Bool
    var rank: Int { communicator.rank }
    var size: Int { communicator.size }
    /// Floats per all-reduce call: big enough that a call's latency is small beside its transfer,
    /// small enough that the staging buffer stays modest (4 MiB).
    static let bucketFloats = 1 << 20
    private var bucket: [Float] = []
    private var stateBuffer: [Float] = []
    /// Seconds spent in the collectives of the step (gradients, states, term values), for the
    /// metrics log and `losskit bench`.
    private(set) var communicationSeconds = 0.0

    init(communicator: Communicator, synchronisedBatchNorm: Bool) {
        self.communicator = communicator
        self.synchronisedBatchNorm = synchronisedBatchNorm
    }

    /// Refuses a batch that N ranks cannot share equally, before any step: each rank takes the
    /// same number of labelled and of unlabelled rows, or the averaged means would weigh ranks
    /// unequally.
    static func checkSplit(rows: Int, labelledRows: Int, ranks: Int) throws {
        guard ranks > 1 else { return }
        let unlabelled = rows - labelledRows
        guard labelledRows % ranks == 0, unlabelled % ranks == 0 else {
            throw TrainingError(message: "a data-parallel run of \(ranks) ranks shares each step's \(labelledRows) labelled and \(unlabelled) unlabelled rows "
                            + "equally between the ranks: both must divide by \(ranks) (--batch-size, --labelled-per-batch)")
        }
        guard rows / ranks >= 2 else {
            throw TrainingError(message: "\(ranks) ranks would take \(rows / ranks) row\(rows / ranks == 1 ? "" : "s") each of a batch of \(rows): "
                            + "batch-norm needs at least 2 per rank (raise --batch-size)")
        }
    }

    /// The positions in a batch of `rows` rows, whose first `labelled` rows are the labelled
    /// ones, that this rank computes: its slice of the labelled rows, then of the unlabelled.
    func positions(rows: Int, labelled: Int) -> [Int] {
        let l = labelled / size, u = (rows - labelled) / size
        return Array((rank * l)..<((rank + 1) * l)) + Array((labelled + rank * u)..<(labelled + (rank + 1) * u))
    }

    /// Rows `positions` of `t` [B, ...] as a tensor of their own.
    static func rows(_ t: Tensor, _ positions: [Int]) -> Tensor {
        let width = t.count / max(t.shape[0], 1)
        let out = Tensor(uninitialized: [positions.count] + t.shape.dropFirst())
        for (k, p) in positions.enumerated() {
            (out.data + k * width).update(from: t.data + p * width, count: width)
        }
        return out
    }

    /// The generator of this rank's draws in one step, seeded from the run's seed, the step and
    /// the rank, so that the run's own generator makes the same augmentation draws as in one
    /// process (and stays the same on every rank), and a resumed run draws as before.
    func stepGenerator(seed: UInt64, step: Int) -> RandomGenerator {
        var h = seed ^ 0x5EED_DA7A_9A4A_11E1
        for word in [UInt64(step), UInt64(rank)] {
            h = (h ^ word) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
        }
        return RandomGenerator(seed: h)
    }

    /// The sum across ranks that a synchronised batch-norm calls; a failed collective ends the
    /// job (the op cannot throw, and the other ranks would wait in it).
    var batchStatisticsSum: ((UnsafeMutablePointer<Double>, Int) -> Void)? {
        guard synchronisedBatchNorm else { return nil }
        let c = communicator
        return { p, n in
            do { try c.allReduceSum(p, count: n) } catch {
                FileHandle.standardError.write(Data("losskit rank \(c.rank): synchronised batch-norm failed: \(error)\n".utf8))
                c.abort(code: 1)
            }
        }
    }

    /// Each value's mean over the ranks. A NaN on any rank makes the mean NaN on every rank, so a
    /// non-finite term stops every rank at the same step with the same message.
    func means(_ values: [Double]) throws -> [Double] {
        try timed { try communicator.sum(values).map { $0 / Double(size) } }
    }

    /// Every parameter's gradient summed across ranks and divided by N, in buckets of
    /// `bucketFloats` (a parameter larger than a bucket is reduced in place, alone).
    func averageGradients(_ parameters: [Parameter]) throws {
        try timed {
            if bucket.count < DataParallel.bucketFloats { bucket = [Float](repeating: 0, count: DataParallel.bucketFloats) }
            let scale = 1 / Float(size)
            var pending: [Parameter] = [], filled = 0
            func flush() throws {
                guard filled > 0 else { return }
                try bucket.withUnsafeMutableBufferPointer { b in
                    try communicator.allReduceSum(b.baseAddress!, count: filled)
                    var offset = 0
                    for p in pending {
                        let g = p.grad.data
                        for i in 0..<p.grad.count { g[i] = b[offset + i] * scale }
                        offset += p.grad.count
                    }
                }
                pending.removeAll(keepingCapacity: true)
                filled = 0
            }
            for p in parameters {
                let n = p.grad.count
                if n > DataParallel.bucketFloats {
                    try communicator.allReduceSum(p.grad.data, count: n)
                    for i in 0..<n { p.grad.data[i] *= scale }
                    continue
                }
                if filled + n > DataParallel.bucketFloats { try flush() }
                bucket.withUnsafeMutableBufferPointer { b in (b.baseAddress! + filled).update(from: p.grad.data, count: n) }
                pending.append(p)
                filled += n
            }
            try flush()
        }
    }

    /// The states' values averaged across ranks: the encoder's batch-norm running statistics,
    /// which each rank moves toward its own rows' statistics unless batch-norm is synchronised.
    func averageStates(_ states: [StateTensor]) throws {
        guard !synchronisedBatchNorm, !states.isEmpty else { return }
        try timed {
            // one call for all of them, through a buffer kept between steps
            let total = states.reduce(0) { $0 + $1.value.count }
            if stateBuffer.count < total { stateBuffer = [Float](repeating: 0, count: total) }
            try stateBuffer.withUnsafeMutableBufferPointer { b in
                var offset = 0
                for s in states {
                    (b.baseAddress! + offset).update(from: s.value.data, count: s.value.count)
                    offset += s.value.count
                }
                try communicator.allReduceSum(b.baseAddress!, count: total)
                offset = 0
                let scale = 1 / Float(size)
                for s in states {
                    for i in 0..<s.value.count { s.value.data[i] = b[offset + i] * scale }
                    offset += s.value.count
                }
            }
        }
    }

    /// Compares every parameter and state across ranks by a digest of its bits, and throws
    /// naming the first that differs and the ranks that disagree: a plugin whose state follows
    /// the batch and does not keep the ranks' copies alike (losskit.h, "Data-parallel runs"), or
    /// a reduction that did not reach every rank. Returns the digest of all of them, the same on
    /// every rank.
    @discardableResult
    func checkAgreement(parameters: [Parameter], states: [StateTensor]) throws -> UInt64 {
        let tensors = parameters.map { ($0.name, $0.value) } + states.map { ($0.name, $0.value) }
        let mine = tensors.map { DataParallel.digest($0.1) }
        let all = try communicator.gather(mine, zero: UInt64(0))
        for (t, name) in tensors.map(\.0).enumerated() {
            let digests = (0..<size).map { all[$0 * tensors.count + t] }
            if let other = digests.firstIndex(where: { $0 != digests[0] }) {
                throw TrainingError(message: "'\(name)' differs between rank 0 and rank \(other) of \(size): the ranks no longer train one model "
                                + "(a plugin's state that follows the batch must be kept alike on every rank: losskit.h, \"Data-parallel runs\")")
            }
        }
        return mine.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ $1) &* 0x100_0000_01B3 }
    }

    /// FNV-1a over a tensor's bits.
    static func digest(_ t: Tensor) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        let words = UnsafeRawPointer(t.data).assumingMemoryBound(to: UInt32.self)
        for i in 0..<t.count {
            h = (h ^ UInt64(words[i])) &* 0x100_0000_01B3
        }
        return h
    }

    private func timed<T>(_ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { communicationSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 }
        return try body()
    }

    /// The communication time since the last call, and zero after.
    func takeCommunicationSeconds() -> Double {
        defer { communicationSeconds = 0 }
        return communicationSeconds
    }
}
