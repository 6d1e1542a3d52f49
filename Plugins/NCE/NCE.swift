import Foundation
import LossKitPluginSDK

/// Non-parametric instance discrimination (Wu, Xiong, Yu & Lin, 2018).
///
/// Every training image is its own class. The global feature is projected to D dimensions and
/// L2-normalised, v = normalise(W f + b); a memory bank M [N, D] holds one slowly updated
/// vector per image, addressed by the batch's sample indices. With P(j|v) = exp(M_j·v/τ)/Z,
/// noise probability 1/N and m noise rows drawn uniformly from the bank, NCE's posterior is
/// h(j, v) = P(j|v) / (P(j|v) + m/N) and
///
///     L = -log h(i, v_i) - Σ_{j ∈ noise} log(1 - h(j, v_i))
///
/// Writing x = M·v/τ - log Z - log(m/N): -log h = softplus(-x) and -log(1 - h) = softplus(x),
/// which is how it is computed (no overflow for any τ). Z is estimated once, from the first
/// batch, as N · mean exp(M_j·v/τ) and then held (it is plugin state: checkpointed).
/// `negatives = 0` uses the exact softmax over the whole bank instead. An optional proximal
/// term λ‖v_i - M_i‖² pulls features toward their bank rows. After each step
/// M_i ← normalise(μ M_i + (1 - μ) v_i).
///
/// `hidden = H > 0` replaces the paper's linear projection by SimCLR's (Chen et al., 2020) head,
/// v = normalise(W₂ relu(BN(W₁ f)) + b₂) with W₁ [H, F] and batch-norm on the batch's statistics:
/// the features the encoder hands to evaluation sit before that head, so what the head learns to
/// throw away for instance discrimination (e.g. which crop) need not be thrown away by them.
///
/// `views = 2` (beyond the paper) adds a second, fresh view of each image as a positive, as the
/// later contrastive methods do (Ye et al. 2019; Chen et al. 2020): the plugin warps the batch
/// (`secondView`: a random zoomed crop of 50–100 % of the area, half of them mirrored), encodes it
/// with the same encoder, and adds the symmetric in-batch term
/// ½[CE(v·v'ᵀ/τ, diagonal) + CE(v'·vᵀ/τ, diagonal)] to the bank term, where the bank's positive
/// is only the image's previous-epoch average. The bank still stores the first view. It costs a
/// second encoder pass per step.
final class NCE: Objective {
    var dimension = 128
    var tau = 0.07
    var negatives = 4096
    var momentum = 0.5
    var proximal = 0.0
    var hidden = 0
    var views = 1

    private var context: Context
    private var tap = "features"
    private var projection: (weight: Param, bias: Param)?
    /// The MLP head's first layer and its batch-norm scale and shift (`hidden` > 0 only).
    private var hiddenLayer: (weight: Param, gamma: Param, beta: Param)?
    private var bank: State?
    private var z: State?
    private var datasetSize = 0
    /// This step's normalised features and their rows, applied to the bank in afterStep.
    private var pending: (indices: [Int], vectors: [Float])?
    private(set) var positiveSimilarity = Double.nan

    required init(context: Context) throws { self.context = context }

    func prepare(context: Context, setup: Setup) throws {
        self.context = context
        tap = setup.tap ?? "features"
        let shape = context.tapShape(tap)
        guard shape.count == 2 else { throw PluginError("nce reads a [B, F] feature tap; '\(tap)' has shape \(shape)") }
        datasetSize = setup.datasetSize
        guard negatives < datasetSize else {
            throw PluginError("negatives (\(negatives)) must be smaller than the data set (\(datasetSize) images); use negatives=0 for the exact softmax")
        }
        var width = shape[1]
        if hidden > 0 {
            let bound = 1 / Float(width).squareRoot()  // nn.Linear's default range
            hiddenLayer = (try context.param("hidden.weight", [hidden, width], .uniform(bound)),
                           try context.param("hidden.bn.weight", [hidden], .constant(1), decay: false),
                           try context.param("hidden.bn.bias", [hidden], .zeros, decay: false))
            width = hidden
        }
        let bound = 1 / Float(width).squareRoot()
        projection = (try context.param("proj.weight", [dimension, width], .uniform(bound)),
                      try context.param("proj.bias", [dimension], .uniform(bound), decay: false))
        let bank = try context.state("bank", [datasetSize, dimension])
        let stdv = 1 / Float(Double(dimension) / 3).squareRoot()
        let initial = context.uniform(datasetSize * dimension, -stdv, stdv)
        initial.withUnsafeBufferPointer { bank.pointer.update(from: $0.baseAddress!, count: initial.count) }
        self.bank = bank
        z = try context.state("z", [1], fill: 0)
    }

    /// v = normalise(head(f)) for a [B, F] feature.
    private func embed(_ g: GraphBuilder, _ features: Value, projection: (weight: Param, bias: Param)) -> Value {
        var f = features
        if let h = hiddenLayer {
            // batch statistics only: the head is used in training, never in evaluation
            f = f.linear(g(h.weight)).batchNormReLU(g(h.gamma), g(h.beta), running: nil)
        }
        return f.linear(g(projection.weight), g(projection.bias)).l2Normalized()
    }

    /// The warp of `views = 2`, one per image (output → input, normalised coordinates): zoom by
    /// s = 1/√a for an area share a ∈ [0.5, 1], a centre that keeps the crop inside the image,
    /// and a mirror image half of the time.
    private func secondView(count: Int) -> [Float] {
        let u = context.uniform(4 * count, 0, 1)
        var theta: [Float] = []
        theta.reserveCapacity(6 * count)
        for i in 0..<count {
            let side = Float((0.5 + 0.5 * Double(u[4 * i])).squareRoot())  // the crop's side, as a share of the image's
            let room = 1 - side
            let cx = (2 * u[4 * i + 1] - 1) * room, cy = (2 * u[4 * i + 2] - 1) * room
            let mirror: Float = u[4 * i + 3] < 0.5 ? -1 : 1
            theta += [mirror * side, 0, cx, 0, side, cy]
        }
        return theta
    }

    func loss(_ g: GraphBuilder, batch: Batch, taps: Taps) throws -> Value {
        guard let projection, let bank, let z else { throw PluginError("nce was not prepared") }
        let v = embed(g, taps[tap], projection: projection)
        let B = batch.size, D = dimension
        let memory = g.state(bank)
        var loss: Value
        if negatives == 0 {
            // exact non-parametric softmax over all N bank rows; the image's own row is its class
            let scores = v.matmul(memory, transposeOther: true) / Float(tau)
            loss = scores.crossEntropy(labels: batch.indices.map { Int32($0) })
        } else {
            let m = negatives
            var rows = [Int](repeating: 0, count: B * (m + 1))
            for i in 0..<B {
                rows[i * (m + 1)] = batch.indices[i]
                for j in 1...m { rows[i * (m + 1) + j] = context.integer(below: datasetSize) }
            }
            let candidates = memory.gatherRows(rows).reshaped([B, m + 1, D])
            let scores = candidates.batchedMatmul(v.reshaped([B, D, 1])).reshaped([B, m + 1]) / Float(tau)
            if z.pointer[0] == 0 {
                // Z ≈ N · mean exp(s/τ), from the first batch, then fixed
                let s = scores.values
                guard !s.isEmpty else { return scores }
                var total = 0.0
                for x in s { total += Foundation.exp(Double(x)) }
                // in a data-parallel run, over every rank's batch: one Z, the one a single
                // process estimates from the whole batch (up to float rounding)
                var sums = [Float(total), Float(s.count)]
                try context.allReduceSum(&sums)
                z.pointer[0] = Float(Double(datasetSize) * (context.worldSize > 1 ? Double(sums[0]) / Double(sums[1]) : total / Double(s.count)))
                context.log(String(format: "normalisation constant Z estimated as %.4g", Double(z.pointer[0])))
            }
            let shift = Float(Foundation.log(Double(z.pointer[0])) + Foundation.log(Double(m) / Double(datasetSize)))
            let x = scores - shift
            let positive = (-x.slice(axis: 1, 0..<1)).softplus()      // -log h(i, v_i)
            let noise = x.slice(axis: 1, 1..<(m + 1)).softplus()      // -log(1 - h(j, v_i))
            loss = (positive.sum(axes: [1]) + noise.sum(axes: [1])).mean()
        }
        let own = memory.gatherRows(batch.indices)
        if proximal > 0 {
            loss = loss + Float(proximal) * (v - own).square().sum(axes: [1]).mean()
        }
        if views == 2 {
            let warped = batch.images.affineWarp(secondView(count: B), fill: batch.pixelMin)
            let other = embed(g, g.encode(warped, frozen: false)[tap], projection: projection)
            let diagonal = (0..<B).map { Int32($0) }
            let forward = (v.matmul(other, transposeOther: true) / Float(tau)).crossEntropy(labels: diagonal)
            let backward = (other.matmul(v, transposeOther: true) / Float(tau)).crossEntropy(labels: diagonal)
            loss = loss + 0.5 * (forward + backward)
        }
        // remember this step's vectors for the bank update after the optimiser step
        let values = Array(v.values)
        pending = (batch.indices, values)
        let ownValues = own.values
        if ownValues.count == values.count {
            var dot = 0.0
            for k in 0..<values.count { dot += Double(values[k] * ownValues[k]) }
            positiveSimilarity = dot / Double(max(B, 1))
        }
        return loss
    }

    func afterStep(context: Context, info: StepInfo) {
        guard let (ownIndices, ownVectors) = pending, let bank else { return }
        pending = nil
        // In a data-parallel run every rank applies every rank's rows, in rank order, so each
        // rank's bank stays the same (the host compares the banks at every checkpoint).
        var indices = ownIndices, vectors = ownVectors
        if context.worldSize > 1 {
            do {
                indices = try context.allGather(ownIndices.map(Int64.init)).map(Int.init)
                vectors = try context.allGather(ownVectors)
            } catch {
                context.log("warning: the bank's rows of the other ranks were not gathered (\(error)); this rank's bank now differs")
            }
        }
        let D = dimension, mu = Float(momentum)
        for (r, i) in indices.enumerated() {
            let row = bank.pointer + i * D
            var norm: Float = 0
            for k in 0..<D {
                row[k] = mu * row[k] + (1 - mu) * vectors[r * D + k]
                norm += row[k] * row[k]
            }
            let inv = 1 / max(norm.squareRoot(), 1e-12)
            for k in 0..<D { row[k] *= inv }
        }
    }

    /// Z, or NaN in the exact mode, which has none (a flat 0 would read as a value).
    var normalisationConstant: Double { negatives == 0 ? .nan : Double(z?.pointer[0] ?? .nan) }
}

private let plugins = makePluginList([
    describe(
        NCE.self, kind: LK_KIND_OBJECTIVE, name: "nce", version: "1.4.0",
        summary: "instance discrimination with a memory bank and NCE (Wu et al. 2018)",
        tapsRead: ["features"], defaultTap: "features",
        options: [
            .int("dim", \.dimension, default: 128, .within(1, 4096), doc: "projection width D of the L2-normalised embedding"),
            .double("tau", \.tau, default: 0.07, .above(0), doc: "temperature τ of exp(M·v/τ)"),
            .int("negatives", \.negatives, default: 4096, .atLeast(0), doc: "noise rows m per image; 0 = exact softmax over the bank"),
            .double("momentum", \.momentum, default: 0.5, .from(0, below: 1), doc: "bank update M_i ← normalise(μ M_i + (1-μ) v_i)"),
            .double("proximal", \.proximal, default: 0, .atLeast(0), doc: "λ of the proximal term λ‖v_i - M_i‖²"),
            .int("hidden", \.hidden, default: 0, .within(0, 8192),
                 doc: "0: linear projection (the paper); H > 0: MLP head linear(H) → batch-norm → ReLU → linear(D) (SimCLR)"),
            .int("views", \.views, default: 1, .within(1, 2),
                 doc: "1: the paper; 2: also a second, warped view of each image as an in-batch positive (a second encoder pass)"),
        ],
        probes: [
            Probe("z", \.normalisationConstant, doc: "the normalisation constant Z (estimated once)"),
            Probe("positive_similarity", \.positiveSimilarity, doc: "mean M_i·v_i of the batch before the bank update"),
        ],
        create: { Runtime.create(NCE.self, $0, $1, $2) }),
])

@_cdecl("losskit_plugin_entry")
public func losskitPluginEntry(_ major: UInt16, _ minor: UInt16) -> UnsafePointer<lk_plugin_list>? {
    servesHost(major, minor) ? plugins : nil
}
