import Foundation
import LossKitPluginSDK

/// Minibatch discrimination (Salimans et al. 2016, §3.2): lets the discriminator compare the
/// samples of a batch with each other, so a generator that collapses to one mode is easy to
/// spot. A tensor T maps each feature f_i ∈ R^A to M_i ∈ R^{B×C}; for each kernel b,
///
///     c_b(i, j) = exp(−‖M_i,b − M_j,b‖₁),   o_b(x_i) = Σ_j c_b(i, j)   (j over the same batch)
///
/// and o(x_i) ∈ R^B joins what the discriminator decides from: a collapsed batch of n copies
/// gives o_b = n, a varied one o_b ≈ 1.
struct MinibatchDiscrimination {
    let tensor: Param
    let kernels: Int, dimensions: Int

    init(context: Context, features: Int, kernels: Int, dimensions: Int) throws {
        tensor = try context.param("discriminator.minibatch.T", [kernels * dimensions, features], .normal(std: 0.05))
        self.kernels = kernels
        self.dimensions = dimensions
    }

    /// o(x) [N, B] for the rows of f [N, A], within that batch; `frozen` reads T as a constant
    /// (the generator's update through a frozen discriminator).
    func features(_ g: GraphBuilder, _ f: Value, frozen: Bool = false) -> Value {
        let n = f.shape[0]
        let m = f.linear(frozen ? g.frozen(tensor) : g(tensor)).reshaped([n, 1, kernels, dimensions])
        let difference = m - m.reshaped([1, n, kernels, dimensions])            // [N, N, B, C]
        let l1 = (difference.relu() + (-difference).relu()).sum(axes: [3])      // |·| as relu(x) + relu(−x)
        return (-l1).exp().sum(axes: [1])                                       // [N, B]
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
