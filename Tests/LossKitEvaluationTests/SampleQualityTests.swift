import LossKitCore
import LossKitEvaluation
import XCTest

/// The sample scores on distributions whose answers are known.
final class SampleQualityTests: XCTestCase {
    func testTheInceptionScoreOfOneRepeatedImageIsOneAndOfConfidentEvenSamplesIsK() throws {
        let repeated = Tensor(uninitialized: [50, 4])
        for i in 0..<50 { for c in 0..<4 { repeated.data[i * 4 + c] = [0.3, -1.2, 2.0, 0.1][c] } }
        XCTAssertEqual(try SampleQuality.inceptionScore(logits: repeated), 1, accuracy: 1e-9)
        let even = Tensor(zeros: [40, 4])
        for i in 0..<40 { even.data[i * 4 + i % 4] = 30 }
        XCTAssertEqual(try SampleQuality.inceptionScore(logits: even), 4, accuracy: 1e-6)
        XCTAssertThrowsError(try SampleQuality.inceptionScore(logits: Tensor(zeros: [3])))
    }

    /// Closed forms for any covariance Σ: a translated copy is ‖c‖² away; a copy scaled by 2
    /// about the origin is ‖μ‖² + Tr Σ away ((Σ · 4Σ)^½ = 2Σ).
    func testTheFrechetDistanceOfATranslatedAndOfAScaledCopy() throws {
        let (n, d) = (400, 6)
        let a = Tensor(uninitialized: [n, d])
        RandomGenerator(seed: 5).fillNormal(a.data, n * d)
        for i in 0..<n { for k in 0..<d { a.data[i * d + k] = a.data[i * d + k] * Float(k + 1) * 0.5 + (k == 0 ? a.data[i * d + 1] : 0) + 0.2 } }
        XCTAssertEqual(try SampleQuality.frechetDistance(a, a), 0, accuracy: 1e-8)
        let shift: [Float] = [1, -2, 0.5, 0, 3, -1]
        let translated = Tensor(uninitialized: [n, d]), scaled = Tensor(uninitialized: [n, d])
        for i in 0..<n { for k in 0..<d { translated.data[i * d + k] = a.data[i * d + k] + shift[k]; scaled.data[i * d + k] = 2 * a.data[i * d + k] } }
        XCTAssertEqual(try SampleQuality.frechetDistance(a, translated), shift.reduce(0) { $0 + Double($1 * $1) }, accuracy: 1e-4)
        var mean = [Double](repeating: 0, count: d), trace = 0.0
        for k in 0..<d {
            let column = (0..<n).map { Double(a.data[$0 * d + k]) }
            mean[k] = column.reduce(0, +) / Double(n)
            trace += column.map { ($0 - mean[k]) * ($0 - mean[k]) }.reduce(0, +) / Double(n - 1)
        }
        XCTAssertEqual(try SampleQuality.frechetDistance(a, scaled), mean.reduce(0) { $0 + $1 * $1 } + trace, accuracy: 1e-3)
    }
}
