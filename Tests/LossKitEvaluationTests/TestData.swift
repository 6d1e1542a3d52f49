import LossKitCore

/// Synthetic data sets shared by the evaluation tests.
enum TestData {
    /// `classes` Gaussian clusters in `dims` dimensions: centres N(0, centreStd²) per coordinate,
    /// points centre + N(0, 1). Rows are interleaved by class (row i has class i % classes).
    /// Train and test draw from the same centres.
    static func clusters(classes: Int, dims: Int, train: Int, test: Int, centreStd: Float, seed: UInt64)
        -> (train: Tensor, trainLabels: [Int32], test: Tensor, testLabels: [Int32]) {
        let rng = RandomGenerator(seed: seed)
        var centres = [Float](repeating: 0, count: classes * dims)
        centres.withUnsafeMutableBufferPointer { rng.fillNormal($0.baseAddress!, classes * dims, std: centreStd) }
        func make(_ n: Int) -> (Tensor, [Int32]) {
            let x = Tensor(uninitialized: [n, dims])
            rng.fillNormal(x.data, n * dims)
            var y = [Int32](repeating: 0, count: n)
            for i in 0..<n {
                let c = i % classes
                y[i] = Int32(c)
                for j in 0..<dims { x.data[i * dims + j] += centres[c * dims + j] }
            }
            return (x, y)
        }
        let (xt, yt) = make(train)
        let (xs, ys) = make(test)
        return (xt, yt, xs, ys)
    }

    static func normal(_ shape: [Int], seed: UInt64) -> Tensor {
        let t = Tensor(uninitialized: shape)
        RandomGenerator(seed: seed).fillNormal(t.data, t.count)
        return t
    }

    static func randomLabels(_ n: Int, classes: Int, seed: UInt64) -> [Int32] {
        let rng = RandomGenerator(seed: seed)
        return (0..<n).map { _ in Int32(rng.below(classes)) }
    }

    /// Points labelled by a random linear teacher `argmax_c (T x)_c`, keeping only those whose top
    /// two teacher scores differ by at least `margin`, so the classes are linearly separable with a
    /// margin.
    static func linearlySeparable(classes: Int, dims: Int, count: Int, margin: Float, seed: UInt64)
        -> (x: Tensor, labels: [Int32]) {
        let rng = RandomGenerator(seed: seed)
        var teacher = [Float](repeating: 0, count: classes * dims)
        teacher.withUnsafeMutableBufferPointer { rng.fillNormal($0.baseAddress!, classes * dims) }
        var rows: [Float] = []
        var labels: [Int32] = []
        var candidate = [Float](repeating: 0, count: dims)
        while labels.count < count {
            candidate.withUnsafeMutableBufferPointer { rng.fillNormal($0.baseAddress!, dims) }
            var scores = [Float](repeating: 0, count: classes)
            for c in 0..<classes { for j in 0..<dims { scores[c] += teacher[c * dims + j] * candidate[j] } }
            let sorted = scores.enumerated().sorted { $0.element > $1.element }
            if sorted[0].element - sorted[1].element >= margin {
                rows += candidate
                labels.append(Int32(sorted[0].offset))
            }
        }
        return (Tensor(shape: [count, dims], values: rows), labels)
    }
}
