import LossKitCore
import XCTest

final class RandomGeneratorTests: XCTestCase {
    func testStateRoundTripContinuesTheSameStream() {
        let a = RandomGenerator(seed: 42)
        _ = (0..<10).map { _ in a.next() }
        let b = RandomGenerator(state: a.stateWords)
        XCTAssertEqual((0..<5).map { _ in a.next() }, (0..<5).map { _ in b.next() })
    }

    func testUniformAndNormalMoments() {
        let r = RandomGenerator(seed: 1)
        let n = 100_000
        let t = Tensor(zeros: [n])
        r.fillNormal(t.data, n)
        let mean = t.array.reduce(0, +) / Float(n)
        let variance = t.array.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(n)
        XCTAssertEqual(mean, 0, accuracy: 0.02)
        XCTAssertEqual(variance, 1, accuracy: 0.02)
        let u = (0..<n).map { _ in r.uniform() }
        XCTAssertTrue(u.allSatisfy { $0 >= 0 && $0 < 1 })
        XCTAssertEqual(u.reduce(0, +) / Float(n), 0.5, accuracy: 0.01)
    }

    func testBelowCoversItsRangeEvenly() {
        let r = RandomGenerator(seed: 2)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<70_000 { counts[r.below(7)] += 1 }
        XCTAssertTrue(counts.allSatisfy { abs($0 - 10_000) < 500 }, "\(counts)")
        XCTAssertEqual(Set(r.permutation(50)), Set(0..<50))
    }
}
