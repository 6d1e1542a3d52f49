import Foundation
import LossKitCore

/// Principal component analysis of `[N, D]` features, for 2-D maps of an embedding.
///
/// With column means `μ` and centred rows `X̄ = X - 1μᵀ`, the covariance is
/// `C = X̄ᵀ X̄ / (N - 1)` (`[D, D]`, one `sgemm`). Its top `c` eigenvectors `v_1 … v_c`
/// (eigenvalues `λ_1 ≥ … ≥ λ_c`) are found by block power (subspace) iteration with
/// Rayleigh–Ritz: `Q ← orth(C Q)` on `p = min(D, c + 8)` columns, a Jacobi eigen-solve of the
/// small `Qᵀ C Q` each round, until every wanted residual `‖C v_i - λ_i v_i‖ ≤ 1e-5 · λ_1`
/// (at most 500 rounds; the start is a fixed pseudo-random block, so results are repeatable).
/// Each `v_i` has its sign chosen so that its largest-magnitude component is positive.
///
///     projected = X̄ V                      ([N, c], V = [v_1 … v_c])
///     explainedVariance[i] = λ_i / trace(C)  (fraction of the total variance, 0 if trace(C) = 0)
///
///     let (xy, ratio) = try PCA.project(features)     // xy: [N, 2]
public enum PCA {
    public static func project(_ x: Tensor, components: Int = 2) throws -> (projected: Tensor, explainedVariance: [Float]) {
        let what = "PCA"
        let (n, d) = try EvaluationChecks.matrix(x, "features", what)
        guard n >= 2 else { throw EvaluationError("PCA: needs at least 2 rows to estimate a covariance, got \(n)") }
        guard components >= 1 else { throw EvaluationError("PCA: components must be at least 1, got \(components)") }
        guard components <= d else {
            throw EvaluationError("PCA: components = \(components) exceeds the \(d) feature columns")
        }
        try EvaluationChecks.finite(x, "features", what)

        // Centre (means in double precision).
        var mean = [Double](repeating: 0, count: d)
        for r in 0..<n { let row = x.data + r * d; for j in 0..<d { mean[j] += Double(row[j]) } }
        for j in 0..<d { mean[j] /= Double(n) }
        let centred = Tensor(uninitialized: [n, d])
        let meanF = mean.map { Float($0) }
        meanF.withUnsafeBufferPointer { mu in
            let src = x.data, dst = centred.data
            parallelFor(n, minChunk: 256) { r0, r1 in
                for r in r0..<r1 { for j in 0..<d { dst[r * d + j] = src[r * d + j] - mu[j] } }
            }
        }
        // C = X̄ᵀ X̄ / (N - 1)
        let cov = Tensor(uninitialized: [d, d])
        sgemm(transA: true, m: d, n: d, k: n, alpha: 1 / Float(n - 1), a: centred.data, b: centred.data, c: cov.data)
        var trace: Double = 0
        for j in 0..<d { trace += Double(cov.data[j * d + j]) }

        let (vectors, values) = topEigenvectors(cov, dimension: d, wanted: components)

        // projected = X̄ V, V stored [D, c]
        let v = Tensor(uninitialized: [d, components])
        for i in 0..<components { for j in 0..<d { v.data[j * components + i] = Float(vectors[i][j]) } }
        let projected = Tensor(uninitialized: [n, components])
        sgemm(m: n, n: components, k: d, a: centred.data, b: v.data, c: projected.data)
        let explained = values.map { trace > 0 ? Float(max($0, 0) / trace) : 0 }
        return (projected, explained)
    }

    /// The `wanted` leading eigenpairs of the symmetric `[d, d]` matrix `c`, eigenvalues descending,
    /// vectors unit length with their largest-magnitude component positive.
    static func topEigenvectors(_ c: Tensor, dimension d: Int, wanted: Int) -> (vectors: [[Double]], values: [Double]) {
        let p = min(d, wanted + 8)
        let q = Tensor(uninitialized: [d, p])     // column i is the i-th basis vector
        let z = Tensor(uninitialized: [d, p])     // C Q
        RandomGenerator(seed: 0x5043_4120).fillNormal(q.data, d * p)
        orthonormaliseColumns(q.data, rows: d, columns: p)
        var values = [Double](repeating: 0, count: p)
        var basis = [[Double]](repeating: [Double](repeating: 0, count: d), count: p)
        let maxRounds = 500
        for round in 0..<maxRounds {
            sgemm(m: d, n: p, k: d, a: c.data, b: q.data, c: z.data)
            // Rayleigh–Ritz: T = Qᵀ C Q (p×p), T = U Λ Uᵀ, Ritz vectors Q U with C Q U = Z U.
            var t = [Double](repeating: 0, count: p * p)
            for a in 0..<p {
                for b in a..<p {
                    var s: Double = 0
                    for j in 0..<d { s += Double(q.data[j * p + a]) * Double(z.data[j * p + b]) }
                    t[a * p + b] = s
                }
            }
            for a in 0..<p { for b in 0..<a { t[a * p + b] = t[b * p + a] } }   // symmetrise (upper → lower)
            let (lambda, u) = jacobiEigen(t, size: p)
            values = lambda
            // Ritz vectors and their images in double precision.
            var converged = true
            let scale = max(abs(lambda[0]), Double.leastNormalMagnitude)
            var images = [[Double]](repeating: [Double](repeating: 0, count: d), count: p)
            for i in 0..<p {
                var vec = [Double](repeating: 0, count: d)
                var img = [Double](repeating: 0, count: d)
                for j in 0..<d {
                    var sv: Double = 0, si: Double = 0
                    for a in 0..<p {
                        let ua = u[a * p + i]
                        sv += Double(q.data[j * p + a]) * ua
                        si += Double(z.data[j * p + a]) * ua
                    }
                    vec[j] = sv; img[j] = si
                }
                if i < wanted {
                    var r: Double = 0
                    for j in 0..<d { let e = img[j] - lambda[i] * vec[j]; r += e * e }
                    if r.squareRoot() > 1e-5 * scale { converged = false }
                }
                basis[i] = vec
                images[i] = img
            }
            if converged || round == maxRounds - 1 || lambda[0] == 0 { break }
            // Next block: orth(C Q U).
            for i in 0..<p { for j in 0..<d { q.data[j * p + i] = Float(images[i][j]) } }
            orthonormaliseColumns(q.data, rows: d, columns: p)
        }
        var vectors = Array(basis.prefix(wanted))
        for i in 0..<wanted {
            var norm: Double = 0
            for value in vectors[i] { norm += value * value }
            norm = norm.squareRoot()
            var big = 0
            for j in 1..<max(d, 1) where abs(vectors[i][j]) > abs(vectors[i][big]) { big = j }
            let s = (vectors[i][big] < 0 ? -1 : 1) / (norm > 0 ? norm : 1)
            vectors[i] = vectors[i].map { $0 * s }
        }
        return (vectors, Array(values.prefix(wanted)))
    }
}

/// Modified Gram–Schmidt (twice, for stability) on the columns of row-major `[rows, columns]`,
/// `columns ≤ rows`. A column that vanishes is replaced by the first unit vector `e_k` that is not
/// in the span so far, so the result is always an orthonormal basis.
func orthonormaliseColumns(_ q: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
    var col = [[Double]](repeating: [], count: columns)
    for i in 0..<columns { col[i] = (0..<rows).map { Double(q[$0 * columns + i]) } }
    var nextUnit = 0
    for i in 0..<columns {
        var v = col[i]
        var attempt = 0
        while true {
            let before = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for _ in 0..<2 {
                for j in 0..<i {
                    var dot: Double = 0
                    for r in 0..<rows { dot += col[j][r] * v[r] }
                    for r in 0..<rows { v[r] -= dot * col[j][r] }
                }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 1e-10 * max(before, 1e-30) && norm > 0 {
                for r in 0..<rows { v[r] /= norm }
                break
            }
            // Degenerate: try the next standard basis vector.
            attempt += 1
            precondition(nextUnit < rows && attempt <= rows + 1, "orthonormaliseColumns: columns > rows")
            v = [Double](repeating: 0, count: rows)
            v[nextUnit] = 1
            nextUnit += 1
        }
        col[i] = v
    }
    for i in 0..<columns { for r in 0..<rows { q[r * columns + i] = Float(col[i][r]) } }
}

/// Eigen-decomposition of a symmetric `size × size` matrix by cyclic Jacobi rotations.
/// Returns eigenvalues in descending order and the matching eigenvectors as the columns of the
/// row-major `u` (`u[a * size + i]` is component `a` of vector `i`).
func jacobiEigen(_ matrix: [Double], size n: Int) -> (values: [Double], vectors: [Double]) {
    var a = matrix
    var v = [Double](repeating: 0, count: n * n)
    for i in 0..<n { v[i * n + i] = 1 }
    var total: Double = 0
    for x in a { total += x * x }
    for _ in 0..<100 {
        var off: Double = 0
        for i in 0..<n { for j in 0..<n where i != j { off += a[i * n + j] * a[i * n + j] } }
        if off <= 1e-30 * total || off == 0 { break }
        for pIdx in 0..<n {
            for qIdx in (pIdx + 1)..<max(n, pIdx + 1) {
                let apq = a[pIdx * n + qIdx]
                if apq == 0 { continue }
                let app = a[pIdx * n + pIdx], aqq = a[qIdx * n + qIdx]
                let theta = (aqq - app) / (2 * apq)
                let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for k in 0..<n {   // A ← A J (columns p, q)
                    let akp = a[k * n + pIdx], akq = a[k * n + qIdx]
                    a[k * n + pIdx] = c * akp - s * akq
                    a[k * n + qIdx] = s * akp + c * akq
                }
                for k in 0..<n {   // A ← Jᵀ A (rows p, q)
                    let apk = a[pIdx * n + k], aqk = a[qIdx * n + k]
                    a[pIdx * n + k] = c * apk - s * aqk
                    a[qIdx * n + k] = s * apk + c * aqk
                }
                for k in 0..<n {   // V ← V J
                    let vkp = v[k * n + pIdx], vkq = v[k * n + qIdx]
                    v[k * n + pIdx] = c * vkp - s * vkq
                    v[k * n + qIdx] = s * vkp + c * vkq
                }
            }
        }
    }
    let order = (0..<n).sorted { a[$0 * n + $0] > a[$1 * n + $1] || (a[$0 * n + $0] == a[$1 * n + $1] && $0 < $1) }
    var vectors = [Double](repeating: 0, count: n * n)
    for (newIdx, old) in order.enumerated() { for k in 0..<n { vectors[k * n + newIdx] = v[k * n + old] } }
    return (order.map { a[$0 * n + $0] }, vectors)
}
