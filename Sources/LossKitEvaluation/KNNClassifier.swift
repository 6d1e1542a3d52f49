import Foundation
import LossKitCore

/// What `KNNClassifier.evaluate` returns: test accuracy, one predicted class per test row, and the
/// confusion matrix of (test label, prediction).
public struct KNNResult {
    public let accuracy: Double
    public let predictions: [Int32]
    public let confusion: ConfusionMatrix
}

/// Weighted k-nearest-neighbour classification on cosine similarity (Wu et al., 2018,
/// "Unsupervised Feature Learning via Non-Parametric Instance Discrimination", §3.5).
///
/// Rows are L2-normalised, `f̂ = f / ‖f‖` (a zero row stays zero), so the similarity of test row
/// `i` and training row `j` is `s_ij = f̂_i · f̂_j ∈ [-1, 1]`. The `k` training rows of largest
/// similarity `N_k(i)` each vote for their class with weight `exp(s_ij / τ)`:
///
///     score_i(c) = Σ_{j ∈ N_k(i), y_j = c} exp(s_ij / τ)        prediction_i = argmax_c score_i(c)
///
/// Defaults are the paper's `k = 200`, `τ = 0.07`. Ties are broken deterministically: among equal
/// similarities the lower training index is a nearer neighbour, among equal scores the lower class
/// wins. (Weights are computed as `exp((s - s_max) / τ)`, the same votes divided by a common factor,
/// so small `τ` cannot overflow.)
///
/// Cost: one `sgemm` of `[chunk, D] × [D, N]` per chunk of 256 test rows into a `[chunk, N]`
/// similarity buffer, then per row a size-`k` min-heap selection, O(N + k log k · hits), in parallel
/// over rows with `parallelFor` (`Threads.count` workers). Inputs are not modified.
///
///     let r = try KNNClassifier.evaluate(train: trainFeatures, trainLabels: yTrain,
///                                        test: testFeatures, testLabels: yTest, classes: 10)
///     print(r.accuracy)
public enum KNNClassifier {
    /// Test rows per similarity `sgemm` (the buffer holds `chunkRows × N` floats).
    public static let chunkRows = 256

    public static func evaluate(
        train: Tensor, trainLabels: [Int32], test: Tensor, testLabels: [Int32],
        classes: Int, k: Int = 200, tau: Float = 0.07
    ) throws -> KNNResult {
        let what = "kNN"
        let (n, d) = try EvaluationChecks.matrix(train, "train", what)
        let (m, dTest) = try EvaluationChecks.matrix(test, "test", what)
        guard d == dTest else {
            throw EvaluationError("kNN: train has \(d) feature columns but test has \(dTest) (feature dimensions must match)")
        }
        try EvaluationChecks.classes(classes, what)
        guard k >= 1 else { throw EvaluationError("kNN: k must be at least 1, got \(k)") }
        guard k <= n else { throw EvaluationError("kNN: k = \(k) exceeds the \(n) training rows") }
        guard tau > 0, tau.isFinite else { throw EvaluationError("kNN: tau must be a positive finite number, got \(tau)") }
        try EvaluationChecks.labels(trainLabels, "trainLabels", rows: n, rowsName: "train", classes: classes, what)
        try EvaluationChecks.labels(testLabels, "testLabels", rows: m, rowsName: "test", classes: classes, what)
        try EvaluationChecks.finite(train, "train", what)
        try EvaluationChecks.finite(test, "test", what)

        let trainUnit = l2NormalizedRows(train.data, rows: n, columns: d)
        let testUnit = l2NormalizedRows(test.data, rows: m, columns: d)
        let chunk = min(chunkRows, m)
        let similarity = Tensor(uninitialized: [chunk, n])
        var predictions = [Int32](repeating: 0, count: m)

        trainLabels.withUnsafeBufferPointer { labels in
            predictions.withUnsafeMutableBufferPointer { out in
                var start = 0
                while start < m {
                    let rows = min(chunk, m - start)
                    // similarity[r, j] = testUnit[start + r] · trainUnit[j]
                    sgemm(transB: true, m: rows, n: n, k: d,
                          a: testUnit.data + start * d, b: trainUnit.data, c: similarity.data)
                    let base = start
                    parallelFor(rows) { r0, r1 in
                        let selector = TopKVoter(k: k, classes: classes)
                        defer { selector.deallocate() }
                        for r in r0..<r1 {
                            out[base + r] = selector.predict(
                                similarities: similarity.data + r * n, count: n,
                                labels: labels.baseAddress!, invTau: 1 / Double(tau))
                        }
                    }
                    start += rows
                }
            }
        }
        let confusion = ConfusionMatrix(truth: testLabels, predicted: predictions, classes: classes)
        return KNNResult(accuracy: confusion.accuracy, predictions: predictions, confusion: confusion)
    }
}

/// A copy of `[rows, columns]` with every row divided by its L2 norm (zero rows stay zero).
func l2NormalizedRows(_ x: UnsafePointer<Float>, rows: Int, columns: Int) -> Tensor {
    let out = Tensor(uninitialized: [rows, columns])
    let y = out.data
    parallelFor(rows, minChunk: 64) { r0, r1 in
        for r in r0..<r1 {
            let src = x + r * columns, dst = y + r * columns
            var sq: Double = 0
            for c in 0..<columns { let v = Double(src[c]); sq += v * v }
            let scale: Float = sq > 0 ? Float(1 / sq.squareRoot()) : 0
            for c in 0..<columns { dst[c] = src[c] * scale }
        }
    }
    return out
}

/// Per-worker scratch for one row's top-k selection and vote: a binary min-heap of the `k` best
/// (similarity, index) pairs seen so far whose root is the worst of them ("worse" = lower
/// similarity, or equal similarity and higher index), plus one vote accumulator per class.
struct TopKVoter {
    let k: Int
    let classes: Int
    let sims: UnsafeMutablePointer<Float>
    let idx: UnsafeMutablePointer<Int>
    let votes: UnsafeMutablePointer<Double>

    init(k: Int, classes: Int) {
        self.k = k
        self.classes = classes
        sims = .allocate(capacity: k)
        idx = .allocate(capacity: k)
        votes = .allocate(capacity: classes)
    }

    func deallocate() {
        sims.deallocate()
        idx.deallocate()
        votes.deallocate()
    }

    /// `a` is a worse neighbour than `b`.
    @inline(__always)
    private func worse(_ sa: Float, _ ia: Int, _ sb: Float, _ ib: Int) -> Bool {
        sa < sb || (sa == sb && ia > ib)
    }

    @inline(__always)
    private func siftDown(from start: Int) {
        var i = start
        let s = sims[i], j0 = idx[i]
        while true {
            let left = 2 * i + 1
            if left >= k { break }
            var child = left
            let right = left + 1
            if right < k && worse(sims[right], idx[right], sims[left], idx[left]) { child = right }
            if worse(sims[child], idx[child], s, j0) {
                sims[i] = sims[child]; idx[i] = idx[child]
                i = child
            } else { break }
        }
        sims[i] = s; idx[i] = j0
    }

    /// The weighted-vote class for one row of `count` similarities (`count >= k`).
    func predict(similarities row: UnsafePointer<Float>, count: Int, labels: UnsafePointer<Int32>, invTau: Double) -> Int32 {
        // Heap of the first k entries (heapify bottom-up).
        for j in 0..<k { sims[j] = row[j]; idx[j] = j }
        var i = k / 2 - 1
        while i >= 0 { siftDown(from: i); i -= 1 }
        // Later entries have higher indices, so they enter only with a strictly larger similarity.
        var rootSim = sims[0]
        var j = k
        while j < count {
            let s = row[j]
            if s > rootSim {
                sims[0] = s; idx[0] = j
                siftDown(from: 0)
                rootSim = sims[0]
            }
            j += 1
        }
        // Vote. Summation follows the heap order, which is a function of the row alone.
        var maxSim = sims[0]
        for t in 1..<max(k, 1) where sims[t] > maxSim { maxSim = sims[t] }
        votes.update(repeating: 0, count: classes)
        for t in 0..<k {
            votes[Int(labels[idx[t]])] += exp(Double(sims[t] - maxSim) * invTau)
        }
        var best = 0
        for c in 1..<max(classes, 1) where votes[c] > votes[best] { best = c }
        return Int32(best)
    }
}
