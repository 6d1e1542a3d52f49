import Foundation
import LossKitPluginSDK

/// Minibatch discrimination (Salimans et al. 2016, §3.2): lets the discriminator compare the
/// samples of a batch with each other, so a generator that collapses to one mode is easy to
/// spot. A tensor T maps each feature f_i ∈ R^A to M_i ∈ R^{B×C}; for each kernel b,
///
///     c_b(i, j) = exp(−s_b ‖M_i,b − M_j,b‖₁),   o_b(x_i) = 1/(n−1) Σ_{j≠i} c_b(i, j)
///
/// (j over the same batch of n) and o(x_i) ∈ [0, 1]^B joins what the discriminator decides from:
/// a collapsed batch of n copies gives o_b = 1, a varied one o_b near 0.
///
/// Two choices keep o on the scale of the features it sits beside. The paper's code leaves out
/// j = i and sums over the others; we also divide by n − 1, so o does not grow with the batch
/// (summed, a batch of 128 gives o up to 127, and the head reading it took steps 127 times too
/// large: the dcgan loss was in the thousands from step 50). And s_b, a per-kernel scale fixed
/// at the first batch (the paper's data-dependent initialisation), puts a real row's nearest
/// other row at L1 distance 2 on average: with T's N(0, 0.05) start alone, an untrained
/// encoder's features all land within a small fraction of each other and every batch looks
/// collapsed. s is a state, so checkpoints keep it; 0 means not yet fitted.
struct MinibatchDiscrimination {
    let tensor: Param
    let scale: State
    let kernels: Int, dimensions: Int

    init(context: Context, features: Int, kernels: Int, dimensions: Int) throws {
        tensor = try context.param("discriminator.minibatch.T", [kernels * dimensions, features], .normal(std: 0.05))
        scale = try context.state("discriminator.minibatch.scale", [kernels])
        self.kernels = kernels
        self.dimensions = dimensions
    }

    /// Fits s from the real rows f [n, A] the first time it is called (every rank calls it at
    /// the same step, and the distances are summed over the ranks, so s is the same everywhere).
    func fitScaleOnce(_ g: GraphBuilder, context: Context, real f: Value) throws {
        guard scale.values[0] == 0 else { return }
        let (n, a) = (f.shape[0], f.shape[1]), width = kernels * dimensions
        let features = f.values, t = g.frozen(tensor).values
        var m = [Float](repeating: 0, count: n * width)
        for i in 0..<n {
            for r in 0..<width {
                var sum: Float = 0
                for k in 0..<a { sum += t[r * a + k] * features[i * a + k] }
                m[i * width + r] = sum
            }
        }
        // per kernel: Σ_i min_{j≠i} ‖M_i,b − M_j,b‖₁, then the number of rows
        var totals = [Float](repeating: 0, count: kernels + 1)
        if n > 1 {
            for b in 0..<kernels {
                for i in 0..<n {
                    var nearest = Float.infinity
                    for j in 0..<n where j != i {
                        var l1: Float = 0
                        for c in 0..<dimensions { l1 += abs(m[i * width + b * dimensions + c] - m[j * width + b * dimensions + c]) }
                        nearest = min(nearest, l1)
                    }
                    totals[b] += nearest
                }
            }
            totals[kernels] = Float(n)
        }
        try context.allReduceSum(&totals)
        guard totals[kernels] > 0 else { return }   // no rank had two rows: fit at a later batch
        for b in 0..<kernels {
            let meanNearest = totals[b] / totals[kernels]
            scale.values[b] = meanNearest > 0 && meanNearest.isFinite ? 2 / meanNearest : 1
        }
    }

    /// o(x) [N, B] for the rows of f [N, A], within that batch; `frozen` reads T as a constant
    /// (the generator's update through a frozen discriminator).
    func features(_ g: GraphBuilder, _ f: Value, frozen: Bool = false) -> Value {
        let n = f.shape[0]
        let s = g.state(scale).reshaped([1, 1, kernels, 1])
        let m = f.linear(frozen ? g.frozen(tensor) : g(tensor)).reshaped([n, 1, kernels, dimensions])
        let difference = (m - m.reshaped([1, n, kernels, dimensions])) * s   // [N, N, B, C]
        let l1 = (difference.relu() + (-difference).relu()).sum(axes: [3])   // |·| as relu(x) + relu(−x)
        // the sum over j takes in j = i, whose term is exactly exp(0) = 1
        return ((-l1).exp().sum(axes: [1]) - 1) * (1 / Float(max(n - 1, 1)))  // [N, B]
    }
}

/// Historical averaging (Salimans et al. 2016, §3.3): each player's cost gains
/// λ‖θ − θ̄‖², θ̄ the mean of its parameters over all past steps. The averages are state
/// tensors (checkpointed); they take each step's values as `loss` saw them, before the step.
struct HistoricalAverage {
    let params: [Param]
    let averages: [State]
    let count: State
    private var pending: [[Float]] = []

    init(context: Context, name: String, params: [(String, Param, [Int])]) throws {
        self.params = params.map(\.1)
        averages = try params.map { try context.state("history.\($0.0)", $0.2) }
        count = try context.state("history.\(name).count", [1])
    }

    /// λ Σ ‖θ − θ̄‖² over the player's parameters; zero before the first step (θ̄ is θ then).
    mutating func penalty(_ g: GraphBuilder, weight: Double) -> Value? {
        pending = params.map { Array(g($0).values) }
        guard count.values[0] > 0 else { return nil }
        var total: Value?
        for (p, average) in zip(params, averages) {
            let term = (g(p) - g.state(average)).square().sum()
            total = total.map { $0 + term } ?? term
        }
        return total.map { Float(weight) * $0 }
    }

    /// θ̄ ← θ̄ + (θ − θ̄)/(t + 1) with the values `penalty` read at this step.
    mutating func record() {
        guard pending.count == averages.count else { return }
        let t = count.values[0]
        for (values, average) in zip(pending, averages) {
            let a = average.values
            for k in 0..<min(a.count, values.count) { a[k] += (values[k] - a[k]) / (t + 1) }
        }
        count.values[0] = t + 1
        pending = []
    }
}

/// Virtual batch normalisation (Salimans et al. 2016, §3.4) for the generator: each sample is
/// normalised with the statistics of a reference batch, drawn once and kept (a state, so
/// checkpointed), together with the sample itself; the reference batch with its own. Over the
/// channels of x [R + n, C, H, W] whose first R rows are the reference batch's activations:
///
///     μ_i = (R·μ_ref + m_i) / (R + 1),  v_i = (R·E_ref[x²] + s_i) / (R + 1) − μ_i²
///
/// m_i and s_i the sample's own spatial means of x and x² (the reference's over its rows and
/// space), then relu(γ (x − μ_i)/√(v_i + ε) + β). Gradients flow through the reference batch's
/// statistics too, as in the paper.
enum VirtualBatchNorm {
    static func normaliseReLU(_ x: Value, gamma: Value, beta: Value, reference r: Int, eps: Float = 1e-5) -> Value {
        let (rows, c) = (x.shape[0], x.shape[1])
        let ref = x.slice(axis: 0, 0..<r), samples = x.slice(axis: 0, r..<rows)
        let refMean = ref.mean(axes: [0, 2, 3], keepDims: true), refSquare = ref.square().mean(axes: [0, 2, 3], keepDims: true)
        let ownMean = samples.mean(axes: [2, 3], keepDims: true), ownSquare = samples.square().mean(axes: [2, 3], keepDims: true)
        let weight = Float(r) / Float(r + 1)
        let mean = refMean * weight + ownMean * (1 - weight)
        let variance = refSquare * weight + ownSquare * (1 - weight) - mean.square()
        let g = gamma.reshaped([1, c, 1, 1]), b = beta.reshaped([1, c, 1, 1])
        let refOut = ((ref - refMean) / (refSquare - refMean.square() + eps).sqrt()) * g + b
        let sampleOut = ((samples - mean) / (variance + eps).sqrt()) * g + b
        return concat([refOut, sampleOut], axis: 0).relu()
    }
}
