import Foundation
import LossKitEvaluation
import LossKitHost
import XCTest

/// `losskit invert`: the invertibility study on a trained run, its files, and the report's section.
final class InvertCommandTests: XCTestCase {
    private var folders: [String] = []

    override func tearDown() { folders.forEach { try? FileManager.default.removeItem(atPath: $0) } }

    private func run(_ args: [String]) -> (Int32, String) { PluginFixtures.losskit(args) }

    private func trainedRun() throws -> (run: String, plugins: String) {
        _ = try BuiltPlugins.executable()
        let plugins = try BuiltPlugins.folder(["ConvNet", "SWWAE"]), data = try SyntheticData.makeFolder(train: 40, test: 12)
        let runFolder = SyntheticData.runFolder()
        folders += [plugins, data, runFolder]
        let (status, out) = run(["train", "--plugin-path", plugins, "--only-plugin-path", "--data", "idx:" + data, "--encoder", "convnet-s(width=0.25)",
                                 "--labels-per-class", "2", "--batch-size", "8", "--steps", "3", "--threads", "1", "--out", runFolder])
        XCTAssertEqual(status, 0, out)
        return (runFolder, plugins)
    }

    func testItTrainsADecoderPerLayerAndUnpoolingAndTheReportShowsThem() throws {
        let (runFolder, plugins) = try trainedRun()
        var (status, out) = run(["invert", runFolder, "--plugin-path", plugins, "--only-plugin-path", "--from", "pool1,features",
                                 "--unpool", "known,fixed", "--steps", "4", "--batch-size", "8", "--test-images", "8", "--threads", "1"])
        XCTAssertEqual(status, 0, out)
        let record = try XCTUnwrap(InversionRecord.read(folder: runFolder))
        XCTAssertEqual(record.rows.map { "\($0.layer)/\($0.unpool)" }, ["pool1/known", "pool1/fixed", "features/known", "features/fixed"])
        XCTAssertTrue(record.rows.allSatisfy { $0.testError.isFinite && $0.trainError.isFinite && $0.steps == 4 }, "\(record.rows)")
        for row in record.rows {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(runFolder)/inversion/\(InversionRecord.imageName(row))"), InversionRecord.imageName(row))
        }
        let report = SyntheticData.runFolder()
        folders.append(report)
        (status, out) = run(["report", runFolder, "--out", report, "--no-eval", "--plugin-path", plugins, "--only-plugin-path"])
        XCTAssertEqual(status, 0, out)
        let html = try String(contentsOfFile: report + "/index.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<h2>Invertibility</h2>"), html)
        XCTAssertTrue(html.contains("from pool1, fixed switches"), html)
    }

    func testALayerTheEncoderLacksIsNamedWithTheTapsItHas() throws {
        let (runFolder, plugins) = try trainedRun()
        let (status, out) = run(["invert", runFolder, "--plugin-path", plugins, "--only-plugin-path", "--from", "pool9", "--steps", "2"])
        XCTAssertEqual(status, 1, out)
        XCTAssertTrue(out.contains("the run's encoder has no tap 'pool9' (taps: "), out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: runFolder + "/inversion"), "nothing written")
    }
}
