import Foundation
import LossKitCore
import LossKitFormats
@testable import LossKitHost
import LossKitRun
import LossKitTestSupport
import XCTest

final class ReportTests: XCTestCase {
    func testAKnownGridRoundTripsThroughLibpng() throws {
        // two 2×2 gray images, values 0...1 → 0...255, one-pixel gaps of 64
        let grid = ImageGrid(values: [0, 1, 0.5, 1, 1, 0, 0, 0.25], count: 2, channels: 1, height: 2, width: 2, low: 0, high: 1, columns: 2)
        XCTAssertEqual(grid.width, 7)
        XCTAssertEqual(grid.height, 4)
        let path = TemporaryFolders.path("grid", suffix: ".png")
        try grid.write(to: path)
        let png = try PNGFile.readRGBA(path: path)
        XCTAssertEqual(png.width, 7)
        XCTAssertEqual(png.height, 4)
        func gray(_ x: Int, _ y: Int) -> UInt8 { png.pixels[(y * 7 + x) * 4] }
        XCTAssertEqual([gray(1, 1), gray(2, 1), gray(1, 2), gray(2, 2)], [0, 255, 128, 255])
        XCTAssertEqual([gray(4, 1), gray(5, 1), gray(4, 2), gray(5, 2)], [255, 0, 0, 64])
        XCTAssertEqual(gray(0, 0), 64, "gap")
        XCTAssertThrowsError(try PNGFile.readRGBA(path: "/nonexistent.png"))
    }

    func testAReportOfAShortRunReferencesFilesThatExistAndDrawsOnePathPerTerm() throws {
        let h = try MethodHarness(plugins: ["SWWAE", "NCE"], data: try SyntheticData.makeFolder(train: 64, test: 32))
        var config = h.config(loss: "ce + 0.5*swwae + 0.1*nce(negatives=16)[warmup=2]", steps: 3)
        config.checkpointEvery = 3
        config.knnEvery = 1
        let (a, _) = try h.train(config)
        config.loss = "ce"
        config.knnEvery = 0
        let (b, _) = try h.train(config)
        try FileManager.default.removeItem(atPath: RunFolder(b.runDirectory).machine)  // as a run from before the record
        let out = TemporaryFolders.path("report")
        let index = try ReportBuilder().build(runs: [a.runDirectory, b.runDirectory], out: out, loader: h.loader)
        let page = try String(contentsOfFile: index, encoding: .utf8)
        let sources = page.components(separatedBy: "src=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        XCTAssertGreaterThan(sources.count, 5)
        for s in sources { XCTAssertTrue(FileManager.default.fileExists(atPath: "\(out)/\(s)"), "the page references \(s), which is missing") }
        XCTAssertFalse(page.contains("<script"), "a static page")
        XCTAssertTrue(page.contains("<h2>Methods over seeds</h2>") && page.contains("the baseline is <code>ce</code>"),
                      "two methods: the table that sets them side by side, ce as the baseline")
        for png in sources where png.hasSuffix(".png") { XCTAssertGreaterThan(try PNGFile.readRGBA(path: "\(out)/\(png)").width, 0) }
        XCTAssertTrue(sources.contains { $0.hasSuffix("swwae--reconstructions_with_switches.png") },
                      "the SWWAE plugin's grid is shown, its name \"reconstructions (with switches)\" made a plain file name: \(sources)")
        XCTAssertTrue(page.contains("swwae: reconstructions with switches</figcaption>"), "and its caption read back from it")
        XCTAssertTrue(sources.contains { $0.contains("inputs--augmentation") })
        let terms = try String(contentsOfFile: out + "/terms.svg", encoding: .utf8)
        XCTAssertEqual(terms.components(separatedBy: "<path ").count - 1, 4, "ce, swwae, nce of run a and ce of run b")
        XCTAssertTrue(page.contains("head accuracy"))
        let weights = try String(contentsOfFile: out + "/weights.svg", encoding: .utf8)
        XCTAssertEqual(weights.components(separatedBy: "<path ").count - 1, 3, "run a's schedule: its three terms' weights; run b has none")
        XCTAssertTrue(sources.contains("knn.svg"), "kNN measured during run a is drawn: \(sources)")
        let knn = try String(contentsOfFile: out + "/knn.svg", encoding: .utf8)
        XCTAssertEqual(knn.components(separatedBy: "<path ").count - 1, 1, "one curve: run b measured no kNN")
        let path = RunMachine.read(folder: a.runDirectory)!.segments[0]
        XCTAssertTrue(page.contains("<th>computed on</th><td>from step 0: \(path.cpuModel), OpenBLAS \(path.blasCore) "), "each run's CPU path")
        XCTAssertTrue(page.contains("<th>computed on</th><td>not recorded (a run written before machine.json was kept)</td>"), "and where it is not known")
        let maps = sources.filter { $0.hasPrefix("pca-") }
        XCTAssertEqual(maps.count, 2, "one feature map per run")
        XCTAssertTrue(try String(contentsOfFile: "\(out)/\(maps[0])", encoding: .utf8).contains("PCA of test features"))
    }

    /// With several seeds of a method, the curves are one per method: the mean over its runs.
    func testSeedsOfOneMethodAreOneCurveAndOneRowOfTheTable() throws {
        let h = try MethodHarness(plugins: ["NCE"], data: try SyntheticData.makeFolder(train: 64, test: 32))
        var config = h.config(loss: "ce", steps: 4)
        config.checkpointEvery = 4
        let (a, aLines) = try h.train(config)
        config.seed = 2
        config.threads = 2
        let (b, bLines) = try h.train(config)
        config.loss = "ce + 0.1*nce(negatives=16)"
        let (c, _) = try h.train(config)
        let out = TemporaryFolders.path("report")
        let page = try String(contentsOfFile: try ReportBuilder().build(runs: [a.runDirectory, b.runDirectory, c.runDirectory], out: out, loader: h.loader),
                              encoding: .utf8)
        let loss = try String(contentsOfFile: out + "/loss.svg", encoding: .utf8)
        XCTAssertEqual(loss.components(separatedBy: "<path ").count - 1, 2, "one curve for ce's two seeds, one for ce + nce")
        XCTAssertTrue(loss.contains("mean over each method"))
        // the ce curve's last point is the mean of the two runs' last losses
        let last = [aLines, bLines].map { $0.last!["loss"] as! Double }
        XCTAssertNotEqual(last[0], last[1], "two seeds, two losses")
        XCTAssertEqual(page.components(separatedBy: "<tr><td><code>").count - 1, 2, "two methods in the table")
        XCTAssertTrue(page.contains("<td>—</td><td>—</td><td>—</td></tr>"), "ce, the baseline, compared with nothing")
        let files = try FileManager.default.contentsOfDirectory(atPath: out)
        XCTAssertEqual(files.filter { $0.hasPrefix("pca-") }.count, 2, "a feature map for each method's first run, not for each run")
        XCTAssertEqual(files.filter { $0.hasSuffix("inputs--augmentation.png") }.count, 2, "and its images")
        let mean = (last[0] + last[1]) / 2
        let source = ReportBuilder.CurveSource(name: "ce", lines: [aLines, bLines])
        XCTAssertEqual(source.points { $0["loss"] as? Double }.last?.y ?? 0, mean, accuracy: 1e-12)
    }

    /// The page reads each run's plugins.json: a run of another plugin version is another row.
    func testARunOfAnotherPluginVersionIsAnotherRowUnlessMerged() throws {
        let h = try MethodHarness(plugins: [], data: try SyntheticData.makeFolder(train: 64, test: 32))
        var config = h.config(loss: "ce", steps: 2)
        config.checkpointEvery = 2
        let (a, _) = try h.train(config)
        config.seed = 1
        let (b, _) = try h.train(config)
        // b as if trained with a later build of the encoder
        var record = try XCTUnwrap(RunPlugins.read(folder: b.runDirectory))
        let encoder = try XCTUnwrap(record.plugins.firstIndex { $0.name == "convnet-s" })
        record.plugins[encoder].version = "9.0.0"
        try record.write(folder: b.runDirectory)
        func page(merging: Bool) throws -> String {
            var builder = ReportBuilder()
            builder.evaluate = false
            builder.mergePluginVersions = merging ? .plugins(["convnet-s"]) : .none
            return try String(contentsOfFile: builder.build(runs: [a.runDirectory, b.runDirectory], out: TemporaryFolders.path("report"), loader: nil), encoding: .utf8)
        }
        let split = try page(merging: false)
        XCTAssertEqual(split.components(separatedBy: "<tr><td><code>").count - 1, 2, "two methods")
        XCTAssertTrue(split.contains("<code>ce (plugin convnet-s 9.0.0)</code>"), "told by the version that differs")
        let merged = try page(merging: true)
        XCTAssertEqual(merged.components(separatedBy: "<tr><td><code>").count - 1, 1, "one method over two seeds")
    }

    func testARunWithoutAnyTrainingOfItsHeadReportsNoHeadAccuracy() throws {
        let h = try MethodHarness(plugins: ["NCE"], data: try SyntheticData.makeFolder(train: 64, test: 32))
        var config = h.config(loss: "nce(negatives=16)", steps: 2)
        config.labelledPerBatch = 0
        config.evalEvery = 1
        XCTAssertFalse(config.trainsTheHead)
        let (run, _) = try h.train(config)
        let evals = try MetricsLog.read(run.runDirectory + "/metrics.jsonl").compactMap { $0["eval"] as? [String: Double] }
        XCTAssertFalse(evals.isEmpty)
        XCTAssertTrue(evals.allSatisfy { $0["test_accuracy"] == nil }, "a chance-level figure is not logged: \(evals)")
        let out = TemporaryFolders.path("report")
        let page = try String(contentsOfFile: try ReportBuilder().build(runs: [run.runDirectory], out: out, loader: h.loader), encoding: .utf8)
        XCTAssertTrue(page.contains("head not trained"))
        XCTAssertFalse(page.contains("head accuracy <b>"))
        XCTAssertFalse(page.contains("true \\ predicted"), "no confusion matrix of random weights")
        // the head trains with a ce term and labelled rows, also when all labels are used
        config.loss = "0.5*ce[until=1] + nce(negatives=16)"
        XCTAssertFalse(config.trainsTheHead, "still no labelled rows")
        config.labelsPerClass = nil
        XCTAssertTrue(config.trainsTheHead, "every row labelled")
        config.loss = "0*ce + nce"
        XCTAssertFalse(config.trainsTheHead)
    }
}
