import Foundation
import LossKitFormats
import LossKitTestSupport
import XCTest

/// A test case with a fresh temporary directory of its own.
class TempDirTestCase: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = try TemporaryFolders.make("formats")
    }

    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = dir + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// Runs Debian's python3 with numpy (a test dependency: scripts/setup.sh installs python3-numpy);
/// the calling test fails when either is missing.
func runPython(_ script: String, _ args: [String] = []) throws -> String {
    func run(_ arguments: [String]) throws -> (Int32, String, String) {
        let process = Process()
        // the system's interpreter, where apt put numpy; another python3 first on PATH may lack it
        let system = "/usr/bin/python3"
        let useSystem = FileManager.default.isExecutableFile(atPath: system)
        process.executableURL = URL(fileURLWithPath: useSystem ? system : "/usr/bin/env")
        process.arguments = (useSystem ? [] : ["python3"]) + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
    guard let probe = try? run(["-c", "import numpy"]), probe.0 == 0 else {
        throw DataError("python3 with numpy is not available: scripts/setup.sh installs python3-numpy, a test dependency")
    }
    let (status, stdout, stderr) = try run(["-c", script] + args)
    guard status == 0 else {
        throw DataError("python3 failed with status \(status): \(stderr)")
    }
    return stdout.trimmingCharacters(in: .whitespacesAndNewlines)
}
