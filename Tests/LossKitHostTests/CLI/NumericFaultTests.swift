import Foundation
import LossKitTestSupport
import XCTest

/// Numbers that once trapped the process (overflowing step arithmetic, a division by a config
/// file's zero batch, a batch too large to map) end with a message and exit 1, before anything
/// is written to --out.
final class NumericFaultTests: XCTestCase {
    private let losskit = BuiltPlugins.buildDirectory + "/losskit"
    private var data = ""
    private var run = ""

    override func setUpWithError() throws {
        _ = try BuiltPlugins.executable()
        data = try SyntheticData.makeFolder(train: 40, test: 8)
        run = SyntheticData.runFolder()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: data)
        try? FileManager.default.removeItem(atPath: run)
    }

    private func train(_ extra: [String]) -> (Int32, String) {
        PluginFixtures.run(losskit, ["train", "--data", "idx:" + data, "--encoder", "convnet-s(width=0.25)", "--threads", "1",
                                     "--labels-per-class", "2", "--out", run] + extra)
    }

    func testEpochArithmeticThatWouldOverflowIsRefused() {
        for (epochs, message) in [("1e300", "--epochs 1e+300 makes 5e+300 steps of 8 over 40 images; at most 1000000000 are allowed"),
                                  ("inf", "--epochs must be a finite number > 0, got inf"),
                                  ("nan", "--epochs must be a finite number > 0, got nan")] {
            let (status, out) = train(["--epochs", epochs, "--batch-size", "8"])
            XCTAssertEqual(status == 0 ? 0 : 1, 1, "\(epochs): \(out)")
            XCTAssertLessThan(status, 128, "no signal: \(out)")
            XCTAssertTrue(out.contains(message), "\(epochs):\n\(out)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: run), "nothing written to --out")
        }
    }

    func testABatchTooLargeForAnyMachineIsRefusedBeforeAnythingIsWritten() {
        let (status, out) = train(["--batch-size", "100000000", "--steps", "1"])
        XCTAssertEqual(status, 1, out)
        XCTAssertTrue(out.contains("batch size must be in 2...8192"), out)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run), "nothing written to --out")
    }

    /// A config file's `batch_size: 0` with --batch-size on the command line divided by zero.
    func testAConfigFilesZeroBatchUnderACommandLineBatchTrains() throws {
        let config = TemporaryFolders.path("zero-batch", suffix: ".yaml")
        defer { try? FileManager.default.removeItem(atPath: config) }
        try "batch_size: 0\n".write(toFile: config, atomically: true, encoding: .utf8)
        let (status, out) = train(["--config", config, "--batch-size", "8", "--steps", "1"])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.contains("1 steps of 2 labelled rows (no term reads unlabelled ones)"), out)
        let (alone, refused) = train(["--config", config, "--steps", "1"])
        XCTAssertEqual(alone, 1, refused)
        XCTAssertTrue(refused.contains("batch size must be in 2...8192"), refused)
    }
}
