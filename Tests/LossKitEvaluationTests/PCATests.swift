import LossKitCore
import LossKitEvaluation
import LossKitTestSupport
import XCTest

final class PCATests: XCTestCase {
    /// Columns of a row-major [n, d] tensor, in double precision, centred.
    private func centredColumns(_ t: Tensor) -> [[Double]] {
        let n = t.shape[0], d = t.shape[1]
        return (0..<d).map { j in
            let col = (0..<n).map { Double(t.data[$0 * d + j]) }
            let mean = col.reduce(0, +) / Double(n)
            return col.map { $0 - mean }
        }
    }

    private func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    func testRecoversTheStretchedDirectionAndOrdersVariance() throws {
        let n = 2000, d = 10
        let x = TestData.normal([n, d], seed: 31)
        let t = TestData.normal([n, 1], seed: 32)
        var u = TestData.normal([d], seed: 33).array.map(Double.init)
        let norm = dot(u, u).squareRoot()
        u = u.map { $0 / norm }
        for r in 0..<n { for j in 0..<d { x.data[r * d + j] += Float(10 * Double(t.data[r]) * u[j]) + 5 } }

        let (p, explained) = try PCA.project(x, components: 3)
        XCTAssertEqual(p.shape, [n, 3])
        // The first component v1 is proportional to X̄ᵀ p1.
        let columns = centredColumns(x)
        let p1 = (0..<n).map { Double(p.data[$0 * 3]) }
        var v1 = columns.map { dot($0, p1) }
        let vNorm = dot(v1, v1).squareRoot()
        v1 = v1.map { $0 / vNorm }
        XCTAssertGreaterThan(abs(dot(v1, u)), 0.99)
        // Deterministic sign: v1's largest-magnitude component is positive.
        XCTAssertGreaterThan(v1.max { abs($0) < abs($1) }!, 0)

        // λ1 ≈ 100 + 1, the other nine ≈ 1: ratio ≈ 101 / 110.
        XCTAssertEqual(Double(explained[0]), 101.0 / 110.0, accuracy: 0.03)
        XCTAssertGreaterThanOrEqual(explained[0], explained[1])
        XCTAssertGreaterThanOrEqual(explained[1], explained[2])
        XCTAssertGreaterThan(explained[2], 0)
        XCTAssertLessThanOrEqual(explained.reduce(0, +), 1 + 1e-5)

        // The projected columns carry exactly the explained variance and are uncorrelated.
        let total = columns.reduce(0) { $0 + dot($1, $1) }
        let pc = centredColumns(p)
        for i in 0..<3 { XCTAssertEqual(dot(pc[i], pc[i]) / total, Double(explained[i]), accuracy: 1e-4) }
        XCTAssertLessThan(abs(dot(pc[0], pc[1])) / (dot(pc[0], pc[0]) * dot(pc[1], pc[1])).squareRoot(), 1e-3)
        XCTAssertLessThan(abs(dot(pc[1], pc[2])) / (dot(pc[1], pc[1]) * dot(pc[2], pc[2])).squareRoot(), 1e-3)
    }

    /// Axis-aligned data with standard deviations 2, 1, 3 on axes 0, 1, 2: the components are
    /// +e2, +e0, +e1 (sign rule) with variance fractions 9/14, 4/14, 1/14.
    func testAxisAlignedVarianceGivesOrderedAxesWithPositiveSign() throws {
        let n = 5000
        let z = TestData.normal([n, 3], seed: 41)
        let scales: [Float] = [2, 1, 3]
        let x = Tensor(uninitialized: [n, 3])
        for r in 0..<n { for j in 0..<3 { x.data[r * 3 + j] = z.data[r * 3 + j] * scales[j] - 7 } }
        let (p, explained) = try PCA.project(x, components: 3)
        let xc = centredColumns(x), pc = centredColumns(p)
        func correlation(_ a: [Double], _ b: [Double]) -> Double { dot(a, b) / (dot(a, a) * dot(b, b)).squareRoot() }
        XCTAssertGreaterThan(correlation(pc[0], xc[2]), 0.99)
        XCTAssertGreaterThan(correlation(pc[1], xc[0]), 0.99)
        XCTAssertGreaterThan(correlation(pc[2], xc[1]), 0.99)
        XCTAssertEqual(explained[0], 9.0 / 14.0, accuracy: 0.03)
        XCTAssertEqual(explained[1], 4.0 / 14.0, accuracy: 0.03)
        XCTAssertEqual(explained[2], 1.0 / 14.0, accuracy: 0.01)
        XCTAssertEqual(explained.reduce(0, +), 1, accuracy: 1e-4)
    }

    func testThreeSeparatedClustersStaySeparatedIn2D() throws {
        let d = TestData.clusters(classes: 3, dims: 50, train: 300, test: 1, centreStd: 1, seed: 51)
        let (p, explained) = try PCA.project(d.train)
        XCTAssertEqual(p.shape, [300, 2])
        XCTAssertEqual(explained.count, 2)
        var centroids = [[Double]](repeating: [0, 0], count: 3)
        for r in 0..<300 { for a in 0..<2 { centroids[Int(d.trainLabels[r])][a] += Double(p.data[r * 2 + a]) / 100 } }
        var correct = 0
        for r in 0..<300 {
            let point = [Double(p.data[r * 2]), Double(p.data[r * 2 + 1])]
            let nearest = (0..<3).min { a, b in
                let da = zip(point, centroids[a]).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                let db = zip(point, centroids[b]).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                return da < db
            }!
            if nearest == Int(d.trainLabels[r]) { correct += 1 }
        }
        XCTAssertEqual(correct, 300)
    }

    func testRepeatedCallsGiveIdenticalResults() throws {
        let x = TestData.normal([500, 30], seed: 61)
        let a = try PCA.project(x), b = try PCA.project(x)
        XCTAssertEqual(a.projected.array, b.projected.array)
        XCTAssertEqual(a.explainedVariance, b.explainedVariance)
    }

    func testErrorsNameTheProblem() {
        assertThrows(EvaluationError.self, "PCA: components = 4 exceeds the 3 feature columns") {
            try PCA.project(Tensor(zeros: [10, 3]), components: 4)
        }
        assertThrows(EvaluationError.self, "PCA: components must be at least 1, got 0") {
            try PCA.project(Tensor(zeros: [10, 3]), components: 0)
        }
        assertThrows(EvaluationError.self, "PCA: needs at least 2 rows to estimate a covariance, got 1") {
            try PCA.project(Tensor(zeros: [1, 3]))
        }
        assertThrows(EvaluationError.self, "PCA: features must be a [rows, features] matrix, got shape [2×3×4]") {
            try PCA.project(Tensor(zeros: [2, 3, 4]))
        }
    }

    func testConstantDataProjectsToZeroWithZeroExplainedVariance() throws {
        let (p, explained) = try PCA.project(Tensor(shape: [5, 4], repeating: 2))
        XCTAssertEqual(p.array, [Float](repeating: 0, count: 10))
        XCTAssertEqual(explained, [0, 0])
    }
}
