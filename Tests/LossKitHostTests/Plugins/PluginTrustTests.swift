import Foundation
import LossKitHost
import LossKitPlugins
import XCTest

/// Trust is judged on the resolved path and every folder above it: a library others could
/// write, replace, or add beside is refused with the fix, however it is reached.
final class PluginTrustTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws { root = try PluginFixtures.makeFolder() }

    override func tearDown() { try? FileManager.default.removeItem(atPath: root) }

    private func folder(_ name: String, mode: mode_t = 0o755) throws -> String {
        let path = root + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, mode)
        return path
    }

    private func load(_ entry: String) -> PluginLoader {
        let loader = PluginLoader()
        loader.load(searchPath: [entry])
        return loader
    }

    func testASymlinkToALibraryInAWorldWritableFolderIsRefused() throws {
        let open = try folder("open", mode: 0o777)
        let target = try PluginFixtures.build("two_plugins", into: open)
        chmod(open, 0o777)
        let safe = try folder("safe")
        XCTAssertEqual(symlink(target, safe + "/liblink.so"), 0)
        let loader = load(safe)
        XCTAssertTrue(loader.plugins.isEmpty)
        XCTAssertEqual(loader.rejected.first?.reason,
                       "plugin file sits under an unsafe folder: \(open) is writable by everyone (mode 777): refused; fix with `chmod go-w \(open)` (\(safe)/liblink.so resolves to \(target))")
    }

    func testASafeFolderUnderAWorldWritableParentIsRefused() throws {
        let parent = try folder("parent")
        let safe = try folder("parent/safe")
        try PluginFixtures.build("two_plugins", into: safe)
        chmod(parent, 0o777)
        let loader = load(safe)
        XCTAssertTrue(loader.plugins.isEmpty)
        XCTAssertEqual(loader.rejected.first?.reason,
                       "plugin folder sits under an unsafe folder: \(parent) is writable by everyone (mode 777): refused; fix with `chmod go-w \(parent)`")
    }

    func testAStickyWorldWritablePluginFolderIsRefused() throws {
        let sticky = try folder("sticky")
        try PluginFixtures.build("two_plugins", into: sticky)
        chmod(sticky, 0o1777)
        let loader = load(sticky)
        XCTAssertTrue(loader.plugins.isEmpty)
        XCTAssertEqual(loader.rejected.first?.reason,
                       "plugin folder is writable by everyone (mode 1777, sticky bit or not): refused; fix with `chmod go-w \(sticky)`")
        // named as a file, the same library is refused for the folder it sits in
        let file = load(sticky + "/libtwo_plugins.so")
        XCTAssertTrue(file.plugins.isEmpty)
        XCTAssertTrue(file.rejected.first?.reason.hasPrefix("plugin file sits under an unsafe folder: \(sticky) is writable by everyone") ?? false,
                      "\(file.rejected)")
    }

    /// A sticky parent (as /tmp, where these tests' folders live) protects a folder that is ours:
    /// others cannot rename or remove it.
    func testAStickyParentAboveOurOwnFolderIsFine() throws {
        let parent = try folder("stickyparent")
        let safe = try folder("stickyparent/safe")
        try PluginFixtures.build("two_plugins", into: safe)
        chmod(parent, 0o1777)
        let loader = load(safe)
        XCTAssertEqual(loader.plugins.map(\.name).sorted(), ["alpha", "beta"], "\(loader.rejected)")
    }

    func testALibraryOrFolderOwnedByAnotherUserIsRefused() throws {
        guard geteuid() == 0 else { throw XCTSkip("giving a file to another user needs root") }
        let theirs = try folder("theirs")
        let path = try PluginFixtures.build("two_plugins", into: theirs)
        XCTAssertEqual(chown(path, 65534, 65534), 0)
        let loader = load(theirs)
        XCTAssertEqual(loader.rejected.first?.reason,
                       "plugin file is owned by another user (uid 65534): refused; only root's or your own files and folders are trusted")
        XCTAssertEqual(chown(path, 0, 0), 0)
        XCTAssertEqual(chown(theirs, 65534, 65534), 0)
        let folderLoader = load(theirs)
        XCTAssertTrue(folderLoader.plugins.isEmpty)
        XCTAssertEqual(folderLoader.rejected.first?.reason,
                       "plugin folder is owned by another user (uid 65534): refused; only root's or your own files and folders are trusted")
    }
}
