import Foundation
import LossKitHost
import LossKitPlugins
import LossKitRun
import LossKitTraining
import XCTest

/// A run folder has one writer at a time, is never a folder of something else, and is left
/// whole by an interrupted writer.
final class RunClaimTests: XCTestCase {
    private var data = ""
    private var out = ""
    private let loader = PluginLoader()

    override func setUpWithError() throws {
        data = try SyntheticData.makeFolder(train: 64, test: 16)
        out = SyntheticData.runFolder()
        loader.load(searchPath: [try BuiltPlugins.folder(["ConvNet"])])
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: data)
        try? FileManager.default.removeItem(atPath: out)
    }

    private func trainer(_ folder: String, steps: Int = 3, resume: Bool = false) throws -> Trainer {
        try Trainer(config: SyntheticData.config(data: data, steps: steps), runDirectory: folder, loader: loader, resume: resume, log: { _ in })
    }

    private func message(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            return "(no error)"
        } catch {
            return "\(error)"
        }
    }

    func testASecondWriterIsRefusedNamingTheFirstUntilItEnds() throws {
        var first: Trainer? = try trainer(out)
        XCTAssertNotNil(first)
        let refused = message { try self.trainer(self.out) }
        XCTAssertTrue(refused.hasPrefix("\(out) is being written by another losskit process (pid \(getpid()), since "), refused)
        XCTAssertTrue(refused.hasSuffix("): wait for it to end, or choose another --out"), refused)
        // through the executable, as a second terminal would
        let (status, cli) = PluginFixtures.run(BuiltPlugins.buildDirectory + "/losskit",
                                               ["train", "--data", "idx:" + data, "--encoder", "convnet-s(width=0.25)", "--labels-per-class", "2",
                                                "--batch-size", "8", "--steps", "1", "--threads", "1", "--out", out])
        XCTAssertEqual(status, 1, cli)
        XCTAssertTrue(cli.contains("is being written by another losskit process (pid \(getpid())"), cli)
        first = nil
        XCTAssertNoThrow(try trainer(out), "the claim ends with its writer")
    }

    func testAFolderThatIsNotARunIsRefusedAndLeftAsItWas() throws {
        let folder = try scratchFolder()
        try "my notes".write(toFile: folder + "/notes.txt", atomically: true, encoding: .utf8)
        try "{\"not\": \"ours\"}".write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        XCTAssertEqual(message { try self.trainer(folder) },
                       "--out \(folder) is not a LossKit run folder (it holds config.json, notes.txt and no LossKit config.json): choose a new or empty folder")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).sorted(), ["config.json", "notes.txt"])
        XCTAssertEqual(try String(contentsOfFile: folder + "/config.json", encoding: .utf8), "{\"not\": \"ours\"}")
        XCTAssertTrue(message { try self.trainer("/") }.hasPrefix("--out / is not a LossKit run folder"))
        XCTAssertEqual(message { try self.trainer(folder + "/notes.txt") }, "--out \(folder)/notes.txt is a file, not a folder")
        let empty = try scratchFolder()
        XCTAssertNoThrow(try trainer(empty), "an empty folder becomes a run")
    }

    func testAFolderThatCannotBeCreatedSaysWhyInPlainWords() throws {
        let file = try scratchFolder() + "/plain"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        let text = message { try self.trainer(file + "/run") }
        XCTAssertTrue(text.hasPrefix("cannot create run folder \(file)/run: "), text)
        XCTAssertFalse(text.contains("NSCocoaErrorDomain") || text.contains("Error Domain"), text)
    }

    func testTemporaryFilesOfAnInterruptedCheckpointWriteAreRemoved() throws {
        try trainer(out).train()
        let stale = out + "/.checkpoint.safetensors.tmp-99999-12345"
        try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: stale))
        _ = try trainer(out, resume: true)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/checkpoint.safetensors"))
    }

    /// Killed during its final evaluation, a finished run's log lacks that line; resuming it
    /// trains nothing and writes the line.
    func testResumingARunKilledDuringItsFinalEvaluationCompletesIt() throws {
        try trainer(out).train()
        let metrics = out + "/metrics.jsonl"
        let lines = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n")
        XCTAssertTrue(lines.last?.contains("wall_seconds") ?? false)
        try (lines.dropLast().joined(separator: "\n") + "\n").write(toFile: metrics, atomically: true, encoding: .utf8)
        let resumed = try trainer(out, resume: true)
        XCTAssertNotNil(try resumed.train())
        let after = try MetricsLog.read(metrics)
        XCTAssertEqual(after.count, lines.count)
        XCTAssertNotNil(after.last?["wall_seconds"])
        XCTAssertNotNil((after.last?["eval"] as? [String: Any])?["test_accuracy"])
        // and resuming once more adds nothing
        _ = try trainer(out, resume: true).train()
        XCTAssertEqual(try MetricsLog.read(metrics).count, lines.count)
    }

    /// A fresh folder, removed after the test.
    private func scratchFolder() throws -> String {
        let folder = try PluginFixtures.makeFolder()
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        return folder
    }
}
