import LossKitData
import LossKitTestSupport
import XCTest

final class BatchSamplerTests: XCTestCase {
    let size = 100
    let labelled = [3, 17, 18, 40, 41, 42, 77, 99]

    func makeSampler(seed: UInt64 = 5, batchSize: Int = 10, labelledPerBatch: Int = 3) throws -> BatchSampler {
        try BatchSampler(datasetSize: size, labelled: labelled, batchSize: batchSize,
                         labelledPerBatch: labelledPerBatch, seed: seed)
    }

    func testEveryBatchHasExactlyTheLabelledRowsFromTheSubsetThenUnlabelledRows() throws {
        let sampler = try makeSampler()
        let subset = Set(labelled)
        for _ in 0 ..< 50 {
            let batch = sampler.next()
            XCTAssertEqual(batch.count, 10)
            XCTAssertEqual(batch.labelled, [true, true, true] + [Bool](repeating: false, count: 7))
            XCTAssertEqual(batch.labelledCount, 3)
            XCTAssertTrue(batch.indices.prefix(3).allSatisfy(subset.contains), "\(batch.indices)")
            XCTAssertTrue(batch.indices.allSatisfy { (0 ..< size).contains($0) })
        }
    }

    func testUnlabelledRowsCoverTheWholeSetOncePerPass() throws {
        let sampler = try makeSampler()
        var draws: [Int] = []
        // ceil(100 / 7) = 15 steps reach every index.
        for _ in 0 ..< 15 { draws += sampler.next().indices.dropFirst(3) }
        XCTAssertEqual(Set(draws), Set(0 ..< size))
        // Without replacement within a pass: the first 100 unlabelled draws are a permutation...
        XCTAssertEqual(draws.prefix(size).sorted(), Array(0 ..< size))
        // ...and the next pass is shuffled anew.
        for _ in 15 ..< 29 { draws += sampler.next().indices.dropFirst(3) }
        XCTAssertEqual(Array(draws[size ..< 2 * size]).sorted(), Array(0 ..< size))
        XCTAssertNotEqual(Array(draws[size ..< 2 * size]), Array(draws[0 ..< size]))
        XCTAssertEqual(sampler.epochOfUnlabelledPool, Double(29 * 7) / Double(size), accuracy: 1e-12)
    }

    func testLabelledRowsWalkTheSubsetOncePerPass() throws {
        let sampler = try makeSampler(batchSize: 5, labelledPerBatch: 4)
        var draws: [Int] = []
        for _ in 0 ..< 8 { draws += sampler.next().indices.prefix(4) }   // 32 draws = 4 passes of 8
        for pass in 0 ..< 4 {
            XCTAssertEqual(draws[pass * 8 ..< pass * 8 + 8].sorted(), labelled, "pass \(pass)")
        }
        XCTAssertEqual(sampler.epochOfLabelledPool, 4, accuracy: 1e-12)
    }

    func testAllLabelledRowsIsPlainSupervisedSampling() throws {
        let sampler = try makeSampler(batchSize: 4, labelledPerBatch: 4)
        var draws: [Int] = []
        for _ in 0 ..< 2 {
            let batch = sampler.next()
            XCTAssertEqual(batch.labelled, [true, true, true, true])
            draws += batch.indices
        }
        XCTAssertEqual(draws.sorted(), labelled)
        XCTAssertEqual(sampler.epochOfUnlabelledPool, 0)
    }

    func testSameSeedDrawsSameBatchesAndOtherSeedsDiffer() throws {
        let a = try makeSampler(seed: 9), b = try makeSampler(seed: 9), c = try makeSampler(seed: 10)
        let batchesA = (0 ..< 20).map { _ in a.next() }
        XCTAssertEqual(batchesA, (0 ..< 20).map { _ in b.next() })
        XCTAssertNotEqual(batchesA, (0 ..< 20).map { _ in c.next() })
    }

    func testRestoredSamplerContinuesExactlyLikeTheUninterruptedOne() throws {
        // Step 8 ends exactly at the end of a labelled pass (24 draws of 8), step 100 at the end
        // of an unlabelled pass (700 draws of 100); saving there must not lose the next shuffle.
        for k in [0, 1, 5, 8, 14, 15, 37, 100] {
            let original = try makeSampler(seed: 123)
            for _ in 0 ..< k { _ = original.next() }
            let saved = original.state
            let restored = try BatchSampler(restoring: saved, datasetSize: size, labelled: labelled,
                                            batchSize: 10, labelledPerBatch: 3)
            XCTAssertEqual(restored.steps, k)
            XCTAssertEqual(restored.epochOfUnlabelledPool, original.epochOfUnlabelledPool)
            XCTAssertEqual((0 ..< 40).map { _ in restored.next() }, (0 ..< 40).map { _ in original.next() }, "k = \(k)")
        }
    }

    func testRestoreOnAnExistingSamplerReplacesItsPosition() throws {
        let original = try makeSampler(seed: 1)
        for _ in 0 ..< 6 { _ = original.next() }
        let other = try makeSampler(seed: 2)
        for _ in 0 ..< 3 { _ = other.next() }
        try other.restore(original.state)
        XCTAssertEqual(other.state, original.state)
        XCTAssertEqual(other.next(), original.next())
    }

    func testRestoreRejectsStateFromAnotherConfigurationOrSplit() throws {
        let saved = try makeSampler().state
        let bigger = errorMessage {
            _ = try BatchSampler(restoring: saved, datasetSize: self.size, labelled: self.labelled, batchSize: 12, labelledPerBatch: 3)
        }
        XCTAssertEqual(bigger, "batch sampler state was saved with batch size 10, but this run has 12")
        var otherSplit = labelled
        otherSplit[0] = 4
        let split = errorMessage {
            _ = try BatchSampler(restoring: saved, datasetSize: self.size, labelled: otherSplit, batchSize: 10, labelledPerBatch: 3)
        }
        XCTAssertTrue(split.contains("different set of labelled images"), split)
        var corrupt = saved
        corrupt[17] = 101   // unlabelled position past the pool
        let sampler = try makeSampler()
        let before = sampler.state
        XCTAssertTrue(errorMessage { try sampler.restore(corrupt) }.contains("unlabelled pool"))
        XCTAssertEqual(sampler.state, before, "a rejected state must leave the sampler as it was")
        XCTAssertTrue(errorMessage { try sampler.restore(Array(saved.dropLast())) }.contains("expected 19 values"))
    }

    func testInvalidConfigurationsAreRejected() {
        XCTAssertTrue(errorMessage { _ = try self.makeSampler(batchSize: 4, labelledPerBatch: 5) }.contains("0...4"))
        XCTAssertTrue(errorMessage { _ = try self.makeSampler(batchSize: 0, labelledPerBatch: 0) }.contains("at least 1"))
        XCTAssertTrue(errorMessage {
            _ = try BatchSampler(datasetSize: 10, labelled: [], batchSize: 4, labelledPerBatch: 1, seed: 1)
        }.contains("no image is labelled"))
        XCTAssertTrue(errorMessage {
            _ = try BatchSampler(datasetSize: 10, labelled: [10], batchSize: 4, labelledPerBatch: 1, seed: 1)
        }.contains("labelled index 10 is outside"))
        XCTAssertTrue(errorMessage {
            _ = try BatchSampler(datasetSize: 10, labelled: [2, 2], batchSize: 4, labelledPerBatch: 1, seed: 1)
        }.contains("listed twice"))
        // Purely unsupervised batches need no labelled images.
        XCTAssertNoThrow(try BatchSampler(datasetSize: 10, labelled: [], batchSize: 4, labelledPerBatch: 0, seed: 1))
    }
}
