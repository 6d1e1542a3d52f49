import CLossKitABI
import Foundation
import LossKitHost
import LossKitPlugins
import LossKitTestSupport
import XCTest

/// Each way a plugin library can be wrong shows the user its path and reason, and the good
/// plugins beside it still load.
final class PluginLoaderTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = try PluginFixtures.makeFolder()
        try PluginFixtures.build("two_plugins", into: folder)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func load() -> PluginLoader {
        let loader = PluginLoader()
        loader.load(searchPath: [folder])
        return loader
    }

    private func reason(_ loader: PluginLoader, _ file: String) -> String? {
        loader.rejected.first { $0.path.hasSuffix("/" + file) }?.reason
    }

    private func assertGoodPluginsStillLoad(_ loader: PluginLoader, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(loader.plugins.map(\.name).sorted(), ["alpha", "beta"], file: file, line: line)
    }

    func testOneLibraryMayCarrySeveralPlugins() {
        let loader = load()
        assertGoodPluginsStillLoad(loader)
        XCTAssertTrue(loader.rejected.isEmpty, "\(loader.rejected)")
        XCTAssertEqual(loader.plugin(named: "beta")?.kind, .objective)
        XCTAssertEqual(loader.plugin(named: "beta")?.abiVersion, "\(LOSSKIT_ABI_MAJOR).\(LOSSKIT_ABI_MINOR)")
    }

    func testNotAnELFFileIsRejectedWithWhatItStartsWith() throws {
        try "hello, not a library".write(toFile: folder + "/libtext.so", atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: folder + "/libempty.so", contents: Data())
        let loader = load()
        XCTAssertEqual(reason(loader, "libtext.so"), "not an ELF shared library (it starts with 68 65 6c 6c); build plugins with `cc -shared -fPIC` or `swift build`")
        XCTAssertTrue(reason(loader, "libempty.so")?.contains("the file is empty") ?? false)
        assertGoodPluginsStillLoad(loader)
    }

    func testELFOfAnotherArchitectureIsRejectedBeforeDlopen() throws {
        let good = try PluginFixtures.build("null_entry", into: TemporaryFolders.make("losskit-plugin"))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        bytes[18] = 183  // EM_AARCH64
        bytes[19] = 0
        try bytes.write(to: URL(fileURLWithPath: folder + "/libarm.so"))
        let loader = load()
        XCTAssertEqual(reason(loader, "libarm.so"), "built for aarch64; this host is x86_64: rebuild the plugin on this machine")
        assertGoodPluginsStillLoad(loader)
    }

    func testLibraryWithoutEntrySymbolIsRejected() throws {
        try PluginFixtures.build("no_entry", into: folder)
        let loader = load()
        XCTAssertEqual(reason(loader, "libno_entry.so"), "no `losskit_plugin_entry` symbol: not a LossKit plugin (a Swift plugin needs a public @_cdecl entry)")
        assertGoodPluginsStillLoad(loader)
    }

    func testEntryReturningNullIsRejected() throws {
        try PluginFixtures.build("null_entry", into: folder)
        let loader = load()
        XCTAssertEqual(reason(loader, "libnull_entry.so"), "its entry returned no plugin list (the plugin declined host ABI \(LOSSKIT_ABI_MAJOR).\(LOSSKIT_ABI_MINOR))")
        assertGoodPluginsStillLoad(loader)
    }

    func testAnotherABIMajorIsRejected() throws {
        try PluginFixtures.build("wrong_major", into: folder)
        let loader = load()
        XCTAssertEqual(reason(loader, "libwrong_major.so"), "built for ABI 2.0; this host speaks ABI \(LOSSKIT_ABI_MAJOR).\(LOSSKIT_ABI_MINOR): rebuild the plugin against this losskit.h")
        assertGoodPluginsStillLoad(loader)
    }

    func testAPluginOfALaterMinorWithALargerDescriptorIsAccepted() throws {
        try PluginFixtures.build("newer_minor", into: folder)
        let loader = load()
        XCTAssertTrue(loader.rejected.isEmpty, "\(loader.rejected)")
        XCTAssertEqual(loader.plugin(named: "newer")?.abiVersion, "\(LOSSKIT_ABI_MAJOR).\(LOSSKIT_ABI_MINOR + 1)")
        let result = try PluginChecker().check(loader.plugin(named: "newer")!)
        XCTAssertTrue(result.report.passed, result.description)
    }

    func testStructSizeBelowTheMinimumIsRejected() throws {
        try PluginFixtures.build("small_struct", into: folder)
        let loader = load()
        XCTAssertTrue(reason(loader, "libsmall_struct.so")?.hasPrefix("plugin 0: struct_size 16 is smaller than ABI 1.0's lk_plugin") ?? false,
                      "\(loader.rejected)")
        assertGoodPluginsStillLoad(loader)
    }

    func testTheSecondPluginWithATakenNameIsSkipped() throws {
        try PluginFixtures.build("dup_a", into: folder)
        try PluginFixtures.build("dup_b", into: folder)
        let loader = load()
        XCTAssertEqual(loader.plugins.filter { $0.name == "dupe" }.count, 1)
        XCTAssertEqual(loader.plugin(named: "dupe")?.path, folder + "/libdup_a.so")
        XCTAssertEqual(reason(loader, "libdup_b.so"), "plugin name 'dupe' is already taken by \(folder)/libdup_a.so; this one is skipped")
    }

    func testPluginFileWritableByOthersIsRefused() throws {
        let path = try PluginFixtures.build("dup_a", into: folder)
        chmod(path, 0o666)
        let loader = load()
        XCTAssertEqual(reason(loader, "libdup_a.so"), "plugin file is writable by everyone (mode 666): refused; fix with `chmod go-w \(path)`")
        assertGoodPluginsStillLoad(loader)
    }

    func testPluginFolderWritableByOthersIsRefused() throws {
        chmod(folder, 0o775)
        let loader = load()
        XCTAssertEqual(loader.rejected.first?.reason, "plugin folder is writable by its group (mode 775): refused; fix with `chmod go-w \(folder)`")
        XCTAssertTrue(loader.plugins.isEmpty)
    }

    func testSearchPathOrderIsFlagsThenEnvironmentThenBesideTheExecutable() {
        let path = PluginLoader.searchPath(explicit: ["/a:/b"], environment: ["LOSSKIT_PLUGIN_PATH": "/c::/a"], executableDirectory: "/opt/lk")
        XCTAssertEqual(path, ["/a", "/b", "/c", "/opt/lk/losskit-plugins"])
        XCTAssertFalse(PluginLoader.searchPath(explicit: [], environment: [:], executableDirectory: nil).contains("."))
    }
}
