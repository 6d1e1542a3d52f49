import Foundation
import LossKitCore
import LossKitPlugins

/// t-SNE (van der Maaten & Hinton, 2008), exact: all N² affinities, for the report's map of a
/// sample of test features (N up to a few thousand). The settings are the paper's and
/// scikit-learn's defaults — perplexity 30, early exaggeration 12 for the first 250 of 1000
/// iterations, momentum 0.5 then 0.8, the delta-bar-delta gains — and the learning rate N/12
/// (at least 50), as Belkina et al. (2019) recommend. Deterministic: the initial map is drawn
/// from `seed`.
public struct TSNE {
    public var perplexity = 30.0
    public var iterations = 1000
    public var exaggeration = 12.0
    public var exaggerationIterations = 250
    public var seed: UInt64 = 0

    public init() {}

    /// The 2-D map of the rows of x [N, D], as N (x, y) pairs flattened, and the final
    /// Kullback–Leibler divergence KL(P ‖ Q) of the map.
    public func embed(_ x: Tensor) throws -> (map: [Double], divergence: Double) {
        guard x.shape.count == 2, x.shape[0] >= 2 else {
            throw EvaluationError("t-SNE needs a [points, features] matrix of at least 2 points; got \(x.shape)")
        }
        let (n, d) = (x.shape[0], x.shape[1])
        guard perplexity > 0, Double(n - 1) > perplexity else {
            throw EvaluationError("t-SNE: the perplexity (\(perplexity)) must be below the number of points less one (\(n - 1))")
        }
        let p = affinities(x, n: n, d: d)
        var start = [Float](repeating: 0, count: 2 * n)
        RandomGenerator(seed: seed).fillNormal(&start, 2 * n)
        var y = start.map { 1e-4 * Double($0) }
        var velocity = [Double](repeating: 0, count: 2 * n), gains = [Double](repeating: 1, count: 2 * n)
        let rate = max(Double(n) / exaggeration, 50)
        var q = [Double](repeating: 0, count: n * n), grad = [Double](repeating: 0, count: 2 * n)
        var divergence = 0.0
        for iteration in 0..<iterations {
            let boost = iteration < exaggerationIterations ? exaggeration : 1
            let momentum = iteration < exaggerationIterations ? 0.5 : 0.8
            // Student-t numerators and their sum
            var z = 0.0
            for i in 0..<n {
                for j in (i + 1)..<n {
                    let dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1]
                    let v = 1 / (1 + dx * dx + dy * dy)
                    q[i * n + j] = v
                    q[j * n + i] = v
                    z += 2 * v
                }
            }
            // ∂KL/∂y_i = 4 Σ_j (p_ij − q_ij) (1 + |y_i − y_j|²)⁻¹ (y_i − y_j)
            for i in 0..<n {
                var gx = 0.0, gy = 0.0
                for j in 0..<n where j != i {
                    let v = q[i * n + j], f = (boost * p[i * n + j] - v / z) * v
                    gx += f * (y[2 * i] - y[2 * j])
                    gy += f * (y[2 * i + 1] - y[2 * j + 1])
                }
                grad[2 * i] = 4 * gx
                grad[2 * i + 1] = 4 * gy
            }
            for k in 0..<(2 * n) {
                gains[k] = (grad[k] > 0) != (velocity[k] > 0) ? gains[k] + 0.2 : max(gains[k] * 0.8, 0.01)
                velocity[k] = momentum * velocity[k] - rate * gains[k] * grad[k]
                y[k] += velocity[k]
            }
            // recentre
            for axis in 0..<2 {
                let mean = stride(from: axis, to: 2 * n, by: 2).reduce(0.0) { $0 + y[$1] } / Double(n)
                for k in stride(from: axis, to: 2 * n, by: 2) { y[k] -= mean }
            }
            if iteration == iterations - 1 {
                divergence = 0
                for i in 0..<n { for j in 0..<n where j != i && p[i * n + j] > 0 { divergence += p[i * n + j] * log(p[i * n + j] / (q[i * n + j] / z)) } }
            }
        }
        return (y, divergence)
    }

    /// The symmetric joint affinities p_ij = (p_j|i + p_i|j) / 2N, each conditional Gaussian's
    /// precision found by bisection so that its perplexity is `perplexity`.
    private func affinities(_ x: Tensor, n: Int, d: Int) -> [Double] {
        var distance = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in (i + 1)..<n {
                var s = 0.0
                for k in 0..<d { let t = Double(x.data[i * d + k] - x.data[j * d + k]); s += t * t }
                distance[i * n + j] = s
                distance[j * n + i] = s
            }
        }
        let target = log(perplexity)
        var conditional = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            var (beta, low, high) = (1.0, 0.0, Double.infinity)
            let row = (0..<n).filter { $0 != i }
            let nearest = row.map { distance[i * n + $0] }.min() ?? 0
            for _ in 0..<64 {
                // shifted by the nearest distance so exp() cannot underflow to an all-zero row
                let w = row.map { exp(-(distance[i * n + $0] - nearest) * beta) }
                let sum = w.reduce(0, +)
                let entropy = log(sum) + beta * zip(row, w).reduce(0.0) { $0 + (distance[i * n + $1.0] - nearest) * $1.1 } / sum
                for (j, wj) in zip(row, w) { conditional[i * n + j] = wj / sum }
                if abs(entropy - target) < 1e-5 { break }
                if entropy > target { low = beta; beta = high.isFinite ? (beta + high) / 2 : beta * 2 } else { high = beta; beta = (beta + low) / 2 }
            }
        }
        var p = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n where j != i { p[i * n + j] = max((conditional[i * n + j] + conditional[j * n + i]) / Double(2 * n), 1e-12) } }
        return p
    }
}
