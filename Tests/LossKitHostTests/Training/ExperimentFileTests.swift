import Foundation
import LossKitHost
import LossKitRun
import LossKitTestSupport
import XCTest

/// A settings file is read as the flat list of single values it is: hostile YAML (alias bombs,
/// deep nesting, huge files) is refused before it can cost memory or stack.
final class ExperimentFileTests: XCTestCase {
    private var path = ""

    override func setUp() { path = TemporaryFolders.path("exp", suffix: ".yaml") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: path) }

    private func message(_ text: String) throws -> String {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try ExperimentFile.load(path: path)
            return "(loaded)"
        } catch {
            return "\(error)"
        }
    }

    /// Nine levels of nine aliases each: under 400 bytes that expand to 9^9 (387 million) strings
    /// when built into values. Refused at its first list, by the settings check (its message),
    /// within a moment.
    func testAYAMLAliasBombIsRefusedWithoutExpanding() throws {
        var text = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for (level, previous) in zip("bcdefghi", "abcdefgh") {
            text += "\(level): &\(level) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]\n"
        }
        XCTAssertLessThan(text.utf8.count, 400)
        let start = Date()
        XCTAssertEqual(try message(text), "\(path): unknown setting 'a' (settings: \(TrainingConfig.keys.joined(separator: ", ")))")
        XCTAssertEqual(try message(text.replacingOccurrences(of: "a: &a", with: "loss: &a")),
                       "\(path): setting 'loss' must be a single value, not a list or mapping")
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
    }

    func testDeepNestingIsRefusedBeforeParsing() throws {
        XCTAssertEqual(try message("loss: " + String(repeating: "[", count: 1_000)),
                       "\(path): line 1 nests deeper than 64 levels; a settings file is a flat list of `key: value` lines")
        XCTAssertEqual(try message("steps: 3\nloss:\n" + String(repeating: "- ", count: 100) + "x\n"),
                       "\(path): line 3 nests deeper than 64 levels; a settings file is a flat list of `key: value` lines")
    }

    func testAFileLargerThanASettingsFileCanBeIsRefusedUnread() throws {
        let big = "# " + String(repeating: "x", count: 70_000) + "\nsteps: 3\n"
        XCTAssertEqual(try message(big), "experiment file \(path) is \(big.utf8.count) bytes; a settings file is a few lines (at most 64 KiB)")
    }

    func testAFolderOrFIFOIsNotReadAsASettingsFile() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        XCTAssertThrowsError(try ExperimentFile.load(path: path)) { XCTAssertEqual("\($0)", "experiment file \(path) is not a regular file") }
        try FileManager.default.removeItem(atPath: path)
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        XCTAssertThrowsError(try ExperimentFile.load(path: path)) { XCTAssertEqual("\($0)", "experiment file \(path) is not a regular file") }
    }

    func testAnOrdinaryFileStillLoads() throws {
        try "# a comment\nloss: ce + 0.5*nce\nsteps: 42\n".write(toFile: path, atomically: true, encoding: .utf8)
        let c = try ExperimentFile.load(path: path)
        XCTAssertEqual(c.loss, "ce + 0.5*nce")
        XCTAssertEqual(c.steps, 42)
    }
}
