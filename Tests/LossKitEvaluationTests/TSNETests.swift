import LossKitCore
import LossKitEvaluation
import XCTest

/// t-SNE keeps neighbourhoods: separated clusters in 8-D stay separated in its 2-D map, and the
/// map is the same for the same seed.
final class TSNETests: XCTestCase {
    /// Three Gaussian clusters of 40 points, centres 6 apart, unit spread.
    private func clusters() -> (Tensor, [Int]) {
        let (n, d) = (120, 8)
        let x = Tensor(uninitialized: [n, d])
        RandomGenerator(seed: 2).fillNormal(x.data, n * d)
        let labels = (0..<n).map { $0 % 3 }
        for i in 0..<n { x.data[i * d + labels[i]] += 6 }
        return (x, labels)
    }

    /// The share of points whose 5 nearest neighbours in the map mostly share their label.
    private func neighbourAgreement(_ map: [Double], _ labels: [Int]) -> Double {
        let n = labels.count
        var agree = 0
        func distance(_ a: Int, _ b: Int) -> Double { hypot(map[2 * a] - map[2 * b], map[2 * a + 1] - map[2 * b + 1]) }
        for i in 0..<n {
            let others: [Int] = (0..<n).filter { $0 != i }
            let nearest = others.sorted { distance($0, i) < distance($1, i) }.prefix(5)
            if nearest.filter({ labels[$0] == labels[i] }).count >= 3 { agree += 1 }
        }
        return Double(agree) / Double(n)
    }

    func testSeparatedClustersStaySeparatedAndTheMapIsReproducible() throws {
        let (x, labels) = clusters()
        var tsne = TSNE()
        tsne.perplexity = 10
        tsne.iterations = 300
        tsne.exaggerationIterations = 100
        let a = try tsne.embed(x), b = try tsne.embed(x)
        XCTAssertEqual(a.map, b.map)
        XCTAssertTrue(a.map.allSatisfy(\.isFinite))
        XCTAssertGreaterThanOrEqual(neighbourAgreement(a.map, labels), 0.98)
        // clusters are far apart relative to their size: between-centre distance over within-cluster spread
        func centre(_ c: Int) -> (Double, Double) {
            let idx = labels.indices.filter { labels[$0] == c }
            return (idx.reduce(0.0) { $0 + a.map[2 * $1] } / Double(idx.count), idx.reduce(0.0) { $0 + a.map[2 * $1 + 1] } / Double(idx.count))
        }
        let centres = (0..<3).map(centre)
        let spread = labels.indices.map { hypot(a.map[2 * $0] - centres[labels[$0]].0, a.map[2 * $0 + 1] - centres[labels[$0]].1) }.reduce(0, +) / Double(labels.count)
        XCTAssertGreaterThan(hypot(centres[0].0 - centres[1].0, centres[0].1 - centres[1].1), 3 * spread)
        XCTAssertLessThan(a.divergence, 1.0, "KL(P‖Q) of a well-fitted map of three clusters")
    }

    func testAPerplexityAboveThePointCountIsRefused() {
        XCTAssertThrowsError(try TSNE().embed(Tensor(zeros: [10, 3]))) {
            XCTAssertEqual("\($0)", "t-SNE: the perplexity (30.0) must be below the number of points less one (9)")
        }
    }
}
