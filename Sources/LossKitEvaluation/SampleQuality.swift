import Foundation
import LossKitCore
import LossKitPlugins

/// Scores of generated images by a classifier trained on the same data set: the Inception
/// Score's formula (Salimans et al. 2016) and the Fréchet distance (Heusel et al. 2017) on that
/// classifier rather than on Inception-v3, which knows nothing of Fashion-MNIST.
public enum SampleQuality {
    /// exp(E_x KL(p(y|x) ‖ p(y))), p(y) the mean of the rows' class distributions: 1 for samples
    /// the classifier cannot tell apart, up to K for confident samples spread evenly over K classes.
    /// `logits` [N, K].
    public static func inceptionScore(logits: Tensor) throws -> Double {
        guard logits.shape.count == 2, logits.shape[0] > 0, logits.shape[1] > 0 else {
            throw EvaluationError("inception score needs [samples, classes] logits; got \(logits.shape)")
        }
        let (n, k) = (logits.shape[0], logits.shape[1])
        var p = [Double](repeating: 0, count: n * k), marginal = [Double](repeating: 0, count: k)
        for i in 0..<n {
            let row = (0..<k).map { Double(logits.data[i * k + $0]) }
            let m = row.max()!, sum = row.reduce(0.0) { $0 + exp($1 - m) }
            for c in 0..<k { p[i * k + c] = exp(row[c] - m) / sum; marginal[c] += p[i * k + c] / Double(n) }
        }
        var kl = 0.0
        for i in 0..<n { for c in 0..<k where p[i * k + c] > 0 { kl += p[i * k + c] * log(p[i * k + c] / marginal[c]) } }
        return exp(kl / Double(n))
    }

    /// ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^½) between the rows of a [N₁, D] and b [N₂, D], the
    /// Gaussians' means and covariances (unbiased); Tr (Σ₁Σ₂)^½ = Σ √λ of Σ₁^½ Σ₂ Σ₁^½.
    public static func frechetDistance(_ a: Tensor, _ b: Tensor) throws -> Double {
        guard a.shape.count == 2, b.shape.count == 2, a.shape[1] == b.shape[1], a.shape[0] > 1, b.shape[0] > 1 else {
            throw EvaluationError("Fréchet distance needs two [samples, features] matrices of one width, 2 rows or more; got \(a.shape) and \(b.shape)")
        }
        let (m1, s1) = moments(a), (m2, s2) = moments(b)
        let d = m1.count
        let root1 = SymmetricEigen(s1, size: d).function { $0.squareRoot() }
        let product = multiply(multiply(root1, s2, d), root1, d)
        let traceRoot = SymmetricEigen(product, size: d).values.reduce(0.0) { $0 + max($1, 0).squareRoot() }
        let meanTerm = zip(m1, m2).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        let traces = (0..<d).reduce(0.0) { $0 + s1[$1 * d + $1] + s2[$1 * d + $1] }
        return max(0, meanTerm + traces - 2 * traceRoot)
    }

    private static func moments(_ x: Tensor) -> (mean: [Double], covariance: [Double]) {
        let (n, d) = (x.shape[0], x.shape[1])
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for k in 0..<d { mean[k] += Double(x.data[i * d + k]) / Double(n) } }
        var cov = [Double](repeating: 0, count: d * d)
        for i in 0..<n {
            let row = (0..<d).map { Double(x.data[i * d + $0]) - mean[$0] }
            for r in 0..<d where row[r] != 0 { for c in r..<d { cov[r * d + c] += row[r] * row[c] } }
        }
        for r in 0..<d { for c in r..<d { cov[r * d + c] /= Double(n - 1); cov[c * d + r] = cov[r * d + c] } }
        return (mean, cov)
    }

    private static func multiply(_ a: [Double], _ b: [Double], _ d: Int) -> [Double] {
        var out = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for k in 0..<d where a[i * d + k] != 0 { let v = a[i * d + k]; for j in 0..<d { out[i * d + j] += v * b[k * d + j] } } }
        return out
    }
}

/// The eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations (double precision;
/// for the feature covariances of the Fréchet distance, D ≤ a few hundred).
struct SymmetricEigen {
    let values: [Double]
    /// Columns are the eigenvectors, row-major d×d.
    let vectors: [Double]
    let size: Int

    init(_ matrix: [Double], size d: Int) {
        var a = matrix, v = [Double](repeating: 0, count: d * d)
        for i in 0..<d { v[i * d + i] = 1 }
        for _ in 0..<100 {
            var off = 0.0
            for p in 0..<d { for q in (p + 1)..<d { off += a[p * d + q] * a[p * d + q] } }
            if off < 1e-22 { break }
            for p in 0..<d {
                for q in (p + 1)..<d where abs(a[p * d + q]) > 1e-300 {
                    let theta = (a[q * d + q] - a[p * d + p]) / (2 * a[p * d + q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<d {
                        let (akp, akq) = (a[k * d + p], a[k * d + q])
                        a[k * d + p] = c * akp - s * akq
                        a[k * d + q] = s * akp + c * akq
                    }
                    for k in 0..<d {
                        let (apk, aqk) = (a[p * d + k], a[q * d + k])
                        a[p * d + k] = c * apk - s * aqk
                        a[q * d + k] = s * apk + c * aqk
                    }
                    for k in 0..<d {
                        let (vkp, vkq) = (v[k * d + p], v[k * d + q])
                        v[k * d + p] = c * vkp - s * vkq
                        v[k * d + q] = s * vkp + c * vkq
                    }
                }
            }
        }
        values = (0..<d).map { a[$0 * d + $0] }
        vectors = v
        size = d
    }

    /// V f(Λ) Vᵀ, f applied to the eigenvalues clamped at 0 (a covariance's round-off negatives).
    func function(_ f: (Double) -> Double) -> [Double] {
        let d = size
        let fv = values.map { f(max($0, 0)) }
        var out = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in 0..<d { var s = 0.0; for k in 0..<d { s += vectors[i * d + k] * fv[k] * vectors[j * d + k] }; out[i * d + j] = s } }
        return out
    }
}
