import Foundation
import LossKitTestSupport
import XCTest

/// Builds the C fixtures of Tests/LossKitHostTests/Fixtures/plugins with the system's `cc`
/// into a private temporary folder, as a plugin author would build them.
enum PluginFixtures {
    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let headerDirectory = repositoryRoot.appendingPathComponent("Sources/CLossKitABI/include").path
    static let sourceDirectory = repositoryRoot.appendingPathComponent("Tests/LossKitHostTests/Fixtures/plugins").path

    /// A fresh folder with mode 0755 (the loader refuses folders others can write).
    static func makeFolder() throws -> String {
        let dir = TemporaryFolders.path("losskit-plugins")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        return dir
    }

    /// Compiles `source` (a path, or a fixture name without `.c`) into `folder/lib<name>.so`.
    @discardableResult
    /// `header`: the folder of the losskit.h to build against (this host's, unless a test keeps
    /// an older one).
    static func build(_ name: String, into folder: String, source: String? = nil, header: String = headerDirectory) throws -> String {
        let src = source ?? "\(sourceDirectory)/\(name).c"
        let out = "\(folder)/lib\(name).so"
        let (status, output) = run("/usr/bin/env", ["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-I", header, src, "-o", out])
        guard status == 0 else { throw NSError(domain: "cc", code: Int(status), userInfo: [NSLocalizedDescriptionKey: "cc failed for \(src):\n\(output)"]) }
        chmod(out, 0o755)
        return out
    }

    /// `losskit` (this build's, or `executable`) as a user runs it, with LOSSKIT_PLUGIN_PATH
    /// unset so that no plugin folder of the machine's leaks in: its status and output.
    static func losskit(_ args: [String], executable: String = BuiltPlugins.buildDirectory + "/losskit") -> (Int32, String) {
        var env = ProcessInfo.processInfo.environment
        env["LOSSKIT_PLUGIN_PATH"] = nil
        return run(executable, args, environment: env)
    }

    static func run(_ exe: String, _ args: [String], environment: [String: String]? = nil) -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        if let environment { p.environment = environment }
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
