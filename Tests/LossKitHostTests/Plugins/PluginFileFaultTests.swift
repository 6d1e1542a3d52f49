import Foundation
import LossKitHost
import LossKitPlugins
import XCTest

/// Files in a plugin folder that `dlopen` would crash or block on are refused from their headers,
/// with a reason, and the good plugins beside them still load. Each case would kill or hang this
/// test process if it reached `dlopen`, so a pass also shows that it did not.
final class PluginFileFaultTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = try PluginFixtures.makeFolder()
        try PluginFixtures.build("two_plugins", into: folder)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func loadFolder() -> PluginLoader {
        let loader = PluginLoader()
        loader.load(searchPath: [folder])
        XCTAssertEqual(loader.plugins.map(\.name).sorted(), ["alpha", "beta"], "the good library still loads")
        return loader
    }

    private func reason(_ loader: PluginLoader, _ file: String) -> String {
        loader.rejected.first { $0.path.hasSuffix("/" + file) }?.reason ?? "(not refused)"
    }

    /// A real plugin (the NCE objective, a Swift library of several MB) cut at its header, inside
    /// its program headers, inside a segment, and one byte short of its section table.
    func testTruncatedCopiesOfARealPluginAreRefused() throws {
        let real = try Data(contentsOf: URL(fileURLWithPath: BuiltPlugins.buildDirectory + "/libLossKitNCE.so"))
        let cuts: [(String, Int, String)] = [
            ("libcut_header.so", 40, "truncated ELF header (40 of 64 bytes)"),
            ("libcut_phdrs.so", 100, "truncated or corrupt: its program headers"),
            ("libcut_segment.so", real.count / 3, "truncated: the file is \(real.count / 3) bytes, its "),
            ("libcut_tail.so", real.count - 1, "truncated: the file is \(real.count - 1) bytes, its section table ends at byte \(real.count)"),
        ]
        for (name, size, _) in cuts { try real.prefix(size).write(to: URL(fileURLWithPath: folder + "/" + name)) }
        let loader = loadFolder()
        for (name, _, message) in cuts {
            XCTAssertTrue(reason(loader, name).hasPrefix(message), "\(name): \(reason(loader, name))")
        }
    }

    func testAFolderNamedLikeALibraryIsRefused() throws {
        try FileManager.default.createDirectory(atPath: folder + "/libdir.so", withIntermediateDirectories: false)
        XCTAssertEqual(reason(loadFolder(), "libdir.so"), "a folder, not a shared library")
    }

    func testAFIFONamedLikeALibraryIsRefusedWithoutBlocking() throws {
        XCTAssertEqual(mkfifo(folder + "/libfifo.so", 0o600), 0)
        XCTAssertEqual(reason(loadFolder(), "libfifo.so"), "not a regular file (a device, FIFO or socket), not a shared library")
    }

    func testAnELFFileThatIsNotASharedLibraryIsRefused() throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/libtwo_plugins.so"))
        bytes[16] = 1  // ET_REL: an object file
        try bytes.write(to: URL(fileURLWithPath: folder + "/libobject.so"))
        bytes[5] = 2   // big-endian
        try bytes.write(to: URL(fileURLWithPath: folder + "/libbig.so"))
        let loader = loadFolder()
        XCTAssertEqual(reason(loader, "libobject.so"), "ELF type 1, not a shared library")
        XCTAssertEqual(reason(loader, "libbig.so"), "a big-endian ELF library; this host is little-endian")
    }

    /// Through the executable, as a user meets it: every command loads the plugin path first.
    func testTheCommandLineListsPluginsBesideABrokenOne() throws {
        let losskit = BuiltPlugins.buildDirectory + "/losskit"
        let real = try Data(contentsOf: URL(fileURLWithPath: BuiltPlugins.buildDirectory + "/libLossKitNCE.so"))
        try real.prefix(real.count / 2).write(to: URL(fileURLWithPath: folder + "/libhalf.so"))
        try FileManager.default.createDirectory(atPath: folder + "/libdir.so", withIntermediateDirectories: false)
        let (status, out) = PluginFixtures.run(losskit, ["plugins", "--plugin-path", folder, "--only-plugin-path"])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.contains("alpha") && out.contains("beta"), out)
        XCTAssertTrue(out.contains("\(folder)/libhalf.so\n    truncated: the file is \(real.count / 2) bytes"), out)
        XCTAssertTrue(out.contains("\(folder)/libdir.so\n    a folder, not a shared library"), out)
    }
}
