import LossKitData
import LossKitTestSupport
import XCTest

final class LabelledSplitTests: XCTestCase {
    /// 3 classes with 10, 7 and 12 images, interleaved irregularly.
    let labels: [Int32] = {
        var labels = [Int32](repeating: 0, count: 10) + [Int32](repeating: 1, count: 7) + [Int32](repeating: 2, count: 12)
        let g = (0 ..< labels.count).map { ($0 * 17) % labels.count }   // 17 is coprime to 29: a permutation
        return g.map { labels[$0] }
    }()

    func testChoosesExactlyPerClassImagesOfEveryClassSortedAndUnique() throws {
        let split = try LabelledSplit.choose(labels: labels, classes: 3, perClass: 5, seed: 42)
        XCTAssertEqual(split.labelledIndices.count, 15)
        XCTAssertEqual(split.labelledIndices, split.labelledIndices.sorted())
        XCTAssertEqual(Set(split.labelledIndices).count, 15)
        for c in 0 ..< 3 {
            XCTAssertEqual(split.labelledIndices.filter { labels[$0] == c }.count, 5, "class \(c)")
        }
        XCTAssertEqual(split.perClass, 5)
        let mask = split.mask(datasetSize: labels.count)
        XCTAssertEqual(mask.indices.filter { mask[$0] }, split.labelledIndices)
    }

    func testSameSeedGivesSameIndicesAndOtherSeedsDiffer() throws {
        let a = try LabelledSplit.choose(labels: labels, classes: 3, perClass: 4, seed: 7)
        let b = try LabelledSplit.choose(labels: labels, classes: 3, perClass: 4, seed: 7)
        XCTAssertEqual(a, b)
        let others = try (8 ..< 13).map { try LabelledSplit.choose(labels: labels, classes: 3, perClass: 4, seed: $0) }
        XCTAssertTrue(others.allSatisfy { $0.labelledIndices != a.labelledIndices })
    }

    /// Pins the algorithm (xoshiro256** + partial Fisher–Yates per class) so that a change that
    /// would give another machine or version other indices for the same seed is noticed.
    func testIndicesForAFixedSeedNeverChange() throws {
        let split = try LabelledSplit.choose(labels: labels, classes: 3, perClass: 2, seed: 2024)
        XCTAssertEqual(split.labelledIndices, GOLDEN)
    }

    func testEveryImageOfAClassCanBeChosen() throws {
        // With one label per class, over many seeds each image of each class gets picked:
        // a sampler that always took the first images would fail.
        var picked = Set<Int>()
        for seed in 0 ..< 400 as Range<UInt64> {
            picked.formUnion(try LabelledSplit.choose(labels: labels, classes: 3, perClass: 1, seed: seed).labelledIndices)
        }
        XCTAssertEqual(picked, Set(labels.indices))
    }

    func testNilPerClassLabelsEveryImageAndZeroLabelsNone() throws {
        XCTAssertEqual(try LabelledSplit.choose(labels: labels, classes: 3, perClass: nil, seed: 1).labelledIndices,
                       Array(labels.indices))
        XCTAssertEqual(try LabelledSplit.choose(labels: labels, classes: 3, perClass: 0, seed: 1).labelledIndices, [])
    }

    func testAClassWithTooFewImagesIsNamed() {
        let message = errorMessage { _ = try LabelledSplit.choose(labels: self.labels, classes: 3, perClass: 8, seed: 1) }
        XCTAssertEqual(message, "class 1 has only 7 images, fewer than --labels-per-class 8")
        // A class with no images at all is short too.
        let empty = errorMessage { _ = try LabelledSplit.choose(labels: self.labels, classes: 4, perClass: 1, seed: 1) }
        XCTAssertEqual(empty, "class 3 has only 0 images, fewer than --labels-per-class 1")
    }

    func testLabelsOutsideTheClassRangeAndNegativeBudgetsAreRejected() {
        XCTAssertTrue(errorMessage { _ = try LabelledSplit.choose(labels: [0, 3], classes: 3, perClass: 1, seed: 1) }
            .contains("label 3 of image 1 is outside 0..<3"))
        XCTAssertTrue(errorMessage { _ = try LabelledSplit.choose(labels: [0, -1], classes: 3, perClass: nil, seed: 1) }
            .contains("label -1 of image 1"))
        XCTAssertTrue(errorMessage { _ = try LabelledSplit.choose(labels: [0], classes: 1, perClass: -2, seed: 1) }
            .contains("-2"))
    }
}

/// Also what an independent Python implementation of xoshiro256** (SplitMix64 seeding, Lemire's
/// bounded draw) and the documented per-class partial Fisher–Yates gives for these labels.
private let GOLDEN: [Int] = [0, 4, 6, 8, 22, 24]
