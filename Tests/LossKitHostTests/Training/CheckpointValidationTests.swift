import Foundation
import LossKitCore
import LossKitEvaluation
import LossKitFormats
import LossKitHost
import LossKitPlugins
import LossKitRun
import LossKitTraining
import XCTest

/// A checkpoint is written only from finite state, and every load checks what it reads: a
/// damaged or diverged checkpoint is refused naming its tensor, never resumed into a hang or a
/// trap, nor evaluated into a silent 10 %.
final class CheckpointValidationTests: XCTestCase {
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

    private var config: TrainingConfig { SyntheticData.config(data: data, steps: 3) }
    private var path: String { out + "/checkpoint.safetensors" }

    private func trainer(_ c: TrainingConfig, resume: Bool) throws -> Trainer {
        try Trainer(config: c, runDirectory: out, loader: loader, resume: resume, log: { _ in })
    }

    /// Replaces one tensor of the written checkpoint.
    private func tamper(_ name: String, dtype: SafeTensorDType = .f32, shape: [Int]? = nil, _ change: (inout [UInt8]) -> Void) throws {
        var file = try SafeTensorsFile.read(path: path)
        let i = try XCTUnwrap(file.entries.firstIndex { $0.name == name }, name)
        var bytes = file.entries[i].bytes
        change(&bytes)
        file.entries[i] = SafeTensorEntry(name: name, dtype: dtype, shape: shape ?? file.entries[i].shape, bytes: bytes)
        try file.write(atomicallyTo: path)
    }

    private func setFloat(_ value: Float, at index: Int) -> (inout [UInt8]) -> Void {
        { bytes in withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.replaceSubrange(4 * index ..< 4 * index + 4, with: $0) } }
    }

    private func assertRefused(_ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try trainer(config, resume: true), file: file, line: line) {
            XCTAssertTrue("\($0)".contains(message), "\($0)", file: file, line: line)
        }
    }

    func testDamagedValuesAreRefusedOnResumeAndOnEvaluationNamingTheTensor() throws {
        try trainer(config, resume: false).train()
        let pristine = try Data(contentsOf: URL(fileURLWithPath: path))
        func restore() throws { try pristine.write(to: URL(fileURLWithPath: path)) }

        try tamper("encoder.bn1.running_var", setFloat(.infinity, at: 2))
        assertRefused("the checkpoint cannot be used: tensor 'encoder.bn1.running_var' holds inf at element 2")
        // evaluation loads the weights alone, and refuses them the same way
        XCTAssertThrowsError(try TrainedRun(path: out, loader: loader)) { XCTAssertTrue("\($0)".contains("'encoder.bn1.running_var' holds inf"), "\($0)") }

        try restore()
        try tamper("encoder.bn1.running_var", setFloat(-0.5, at: 0))
        assertRefused("tensor 'encoder.bn1.running_var' holds the negative variance -0.5 at element 0")

        try restore()
        try tamper("encoder.conv1.weight", setFloat(.nan, at: 5))
        assertRefused("tensor 'encoder.conv1.weight' holds nan at element 5")

        try restore()
        try tamper("trainer.rng", dtype: .i64) { $0 = [UInt8](repeating: 0, count: $0.count) }
        assertRefused("trainer.rng is all zeros")

        try restore()
        let stepCounter = try XCTUnwrap(SafeTensorsFile.read(path: path).entries.first { $0.name.hasPrefix("optimizer.steps.") }?.name)
        try tamper(stepCounter, dtype: .i64, shape: [0]) { $0 = [] }
        assertRefused("checkpoint tensor '\(stepCounter)' must hold one step count")

        try restore()
        XCTAssertEqual(try trainer(config, resume: true).step, 3, "the pristine checkpoint still resumes")
    }

    /// A learning rate that blows the run up: whatever step it stops at, the checkpoint it keeps
    /// is one that loads (before, batch-norm's running variances were already inf in it).
    func testADivergingRunKeepsOnlyACheckpointThatLoads() throws {
        var c = config
        c.learningRate = 1e6
        c.steps = 30
        c.checkpointEvery = 1
        XCTAssertThrowsError(try trainer(c, resume: false).train()) { error in
            XCTAssertTrue("\(error)".contains("keep") || "\(error)".contains("kept"), "the message says what was kept: \(error)")
        }
        guard FileManager.default.fileExists(atPath: path) else { return }   // diverged before the first checkpoint
        XCTAssertNoThrow(try trainer(c, resume: true), "the kept checkpoint passes every load check")
    }
}
