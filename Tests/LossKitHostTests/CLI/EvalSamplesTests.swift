import Foundation
import LossKitEvaluation
import LossKitHost
import XCTest

/// `losskit eval samples`: a GAN run's generator sampled again from its checkpoint and scored by
/// another run's classifier.
final class EvalSamplesTests: XCTestCase {
    private var folders: [String] = []

    override func tearDown() { folders.forEach { try? FileManager.default.removeItem(atPath: $0) } }

    private func run(_ args: [String]) -> (Int32, String) { PluginFixtures.losskit(args) }

    private func train(_ loss: String, data: String, plugins: String) -> String {
        let out = SyntheticData.runFolder()
        folders.append(out)
        let (status, text) = run(["train", "--plugin-path", plugins, "--only-plugin-path", "--data", "idx:" + data, "--encoder", "convnet-s(width=0.25)",
                                  "--loss", loss, "--labels-per-class", "2", "--batch-size", "8", "--steps", "3", "--threads", "1", "--out", out])
        XCTAssertEqual(status, 0, text)
        return out
    }

    func testItScoresTheSamplesWritesThemAndTheReportShowsThem() throws {
        _ = try BuiltPlugins.executable()
        let plugins = try BuiltPlugins.folder(["ConvNet", "GAN"]), data = try SyntheticData.makeFolder(train: 40, test: 24)
        folders += [plugins, data]
        let gan = train("ce + 0.5*gan(mode=dcgan, width=4, latent=8, minibatch_kernels=3)", data: data, plugins: plugins)
        let classifier = train("ce", data: data, plugins: plugins)
        var (status, out) = run(["eval", "samples", gan, "--classifier", classifier, "--count", "20", "--plugin-path", plugins, "--only-plugin-path"])
        XCTAssertEqual(status, 0, out)
        let scores = try XCTUnwrap(SampleScores.read(folder: gan))
        XCTAssertEqual(scores.count, 20)
        XCTAssertTrue(scores.inceptionScore >= 1 && scores.inceptionScore <= 4, "\(scores)")   // 4 classes
        XCTAssertTrue(scores.realInceptionScore >= 1 && scores.frechetDistance >= 0 && scores.frechetDistance.isFinite, "\(scores)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(gan)/samples/grid.png"))
        XCTAssertTrue(out.contains("20 samples (step 3): inception score"), out)
        let report = SyntheticData.runFolder()
        folders.append(report)
        (status, out) = run(["report", gan, "--out", report, "--no-eval"])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(try String(contentsOfFile: report + "/index.html", encoding: .utf8).contains("<h2>Samples</h2>"))
    }

    func testARunWithoutAGanTermIsRefusedByName() throws {
        _ = try BuiltPlugins.executable()
        let plugins = try BuiltPlugins.folder(["ConvNet", "GAN"]), data = try SyntheticData.makeFolder(train: 40, test: 8)
        folders += [plugins, data]
        let classifier = train("ce", data: data, plugins: plugins)
        let (status, out) = run(["eval", "samples", classifier, "--classifier", classifier, "--count", "4", "--plugin-path", plugins, "--only-plugin-path"])
        XCTAssertEqual(status, 1, out)
        XCTAssertTrue(out.contains("was trained with no gan term (loss 'ce'): its samples need exactly one"), out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: classifier + "/samples"))
    }

    func testAClassifierOfAnotherDataSetIsRefused() throws {
        _ = try BuiltPlugins.executable()
        let plugins = try BuiltPlugins.folder(["ConvNet", "GAN"])
        let data = try SyntheticData.makeFolder(train: 40, test: 8), other = try SyntheticData.makeFolder(train: 40, test: 8, seed: 9)
        folders += [plugins, data, other]
        let gan = train("ce + 0.5*gan(mode=dcgan, width=4, latent=8)", data: data, plugins: plugins)
        let classifier = train("ce", data: other, plugins: plugins)
        let (status, out) = run(["eval", "samples", gan, "--classifier", classifier, "--count", "4", "--plugin-path", plugins, "--only-plugin-path"])
        XCTAssertEqual(status, 1, out)
        XCTAssertTrue(out.contains("the classifier was trained on idx:\(other), the GAN on idx:\(data): they must share the data set"), out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: gan + "/samples"))
    }
}
