import Foundation
import LossKitHost
import XCTest

/// The report's "methods over seeds" table: which runs are one method, and each against `ce`.
final class MethodComparisonTests: XCTestCase {
    private func config(_ loss: String, seed: Int, _ extra: [String: Any] = [:]) -> [String: Any] {
        ["loss": loss, "seed": seed, "steps": 4700, "learning_rate": 0.05, "threads": 1, "log_every": 50].merging(extra) { $1 }
    }

    func testRunsDifferingOnlyInSeedAreOneMethodComparedWithCeSeedBySeed() throws {
        let c = MethodComparison(runs: [
            (config("ce + 1*aet", seed: 0), 0.75), (config("ce + 1*aet", seed: 1, ["threads": 2, "log_every": 10]), 0.77),
            (config("ce + 1*aet", seed: 2), 0.76),
            (config("ce", seed: 0), 0.70), (config("ce", seed: 1), 0.72), (config("ce", seed: 2), 0.68),
            (config("ce + 0.3*sc", seed: 0), 0.69), (config("ce + 0.3*sc", seed: 1), 0.73),
            (config("ce + 0.3*sc", seed: 0, ["learning_rate": 0.015]), 0.71),
            (config("sc", seed: 0), nil),   // no head accuracy: left out
        ])
        XCTAssertEqual(c.methods.map(\.label), ["ce + 1*aet", "ce", "ce + 0.3*sc (learning_rate 0.05)", "ce + 0.3*sc (learning_rate 0.015)"],
                       "threads and logging do not make another method; a learning rate does, and the label says which")
        XCTAssertEqual(c.baseline, 1, "ce alone is the baseline wherever it is in the list")
        let aet = c.methods[0], ce = c.methods[1], sc = c.methods[2]
        XCTAssertEqual(aet.accuracies, [0: 0.75, 1: 0.77, 2: 0.76])
        XCTAssertEqual(ce.mean, 0.70, accuracy: 1e-12)
        XCTAssertEqual(ce.range, 0.04, accuracy: 1e-12)
        let d = c.differences(aet)
        XCTAssertEqual(d.map(\.seed), [0, 1, 2])
        for (got, want) in zip(d.map(\.difference), [0.05, 0.05, 0.08]) { XCTAssertEqual(got, want, accuracy: 1e-12) }
        XCTAssertEqual(c.beyondSpread(aet), true, "+6 points on the mean against ce's range of 4")
        XCTAssertEqual(c.beyondSpread(sc), false, "+0 points")
        XCTAssertNil(c.beyondSpread(c.methods[3]), "one seed: no spread to compare with")
        XCTAssertEqual(c.differences(c.methods[3]).map(\.seed), [0])
    }

    func testWithoutCeTheFirstMethodIsTheBaseline() {
        let c = MethodComparison(runs: [(config("ce + 0.5*swwae", seed: 0), 0.7), (config("ce + 1*aet", seed: 0), 0.8)])
        XCTAssertEqual(c.baseline, 0)
        XCTAssertEqual(c.differences(c.methods[1]).first?.difference ?? 0, 0.1, accuracy: 1e-12)
        XCTAssertNil(MethodComparison(runs: [(config("nce", seed: 0), nil)]).baseline, "nothing to compare")
    }
}
