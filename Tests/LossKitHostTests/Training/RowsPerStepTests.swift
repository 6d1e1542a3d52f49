import Foundation
import LossKitHost
import LossKitPlugins
import LossKitRun
import LossKitTraining
import XCTest

/// `ce` alone trains on its labelled rows only (protocols P1 and P2's supervised baseline): no
/// unlabelled rows are drawn that no term reads. Any plugin term gets the whole batch.
final class RowsPerStepTests: XCTestCase {
    private var data = ""
    private let loader = PluginLoader()

    override func setUpWithError() throws {
        data = try SyntheticData.makeFolder(train: 64, test: 16)
        loader.load(searchPath: [try BuiltPlugins.folder(["ConvNet", "NCE"])])
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: data) }

    private func rows(_ loss: String, labelled: Int = 8, perClass: Int? = 10) throws -> (Int, [Bool]) {
        var c = SyntheticData.config(data: data, loss: loss, steps: 2)
        c.labelledPerBatch = labelled
        c.labelsPerClass = perClass
        let out = SyntheticData.runFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let trainer = try Trainer(config: c, runDirectory: out, loader: loader, resume: false, log: { _ in })
        let batch = trainer.sampler.next()
        return (trainer.sampler.batchSize, batch.labelled)
    }

    func testCEAloneDrawsOnlyItsLabelledRows() throws {
        let (count, labelled) = try rows("ce")
        XCTAssertEqual(count, 8)
        XCTAssertEqual(labelled, Array(repeating: true, count: 8))
    }

    func testAPluginTermGetsTheWholeBatch() throws {
        let (count, labelled) = try rows("ce + 0.5*nce(negatives=16)")
        XCTAssertEqual(count, 16)
        XCTAssertEqual(labelled.filter { $0 }.count, 8)
        XCTAssertEqual(try rows("nce(negatives=16)", labelled: 0).0, 16, "pretraining without labels")
    }

    func testTooFewLabelledRowsForBatchNormKeepTheBatchAndAllLabelsAreTheBatch() throws {
        XCTAssertEqual(try rows("ce", labelled: 1).0, 16, "batch-norm needs two rows")
        XCTAssertEqual(try rows("ce", perClass: nil).0, 16, "with every label the batch is all labelled")
    }

    /// `ce` is a built-in term like a plugin's, with its own rules: it reads the head's logits and
    /// takes no options; its name is reserved, so no plugin can stand in for it.
    func testTheBuiltInTermsRulesAreItsOwn() throws {
        XCTAssertEqual(LossComposer.builtInTerms.map(\.name), ["ce"])
        XCTAssertTrue(Set(LossComposer.builtInTerms.map(\.name)).isSubset(of: PluginLoader.reservedNames))
        XCTAssertThrowsError(try rows("ce@features")) { XCTAssertEqual("\($0)", "ce reads the 'logits' tap only; '@features' is not supported") }
        XCTAssertThrowsError(try rows("ce(a=1)")) { XCTAssertEqual("\($0)", "ce is built into the host and takes no options") }
        XCTAssertEqual(try rows("ce@logits").0, 8)
    }
}
