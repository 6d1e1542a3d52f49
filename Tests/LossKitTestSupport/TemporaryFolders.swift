import Foundation
import XCTest

/// Temporary folders for tests, one way for every test target: each gets a unique name under
/// the system's temporary directory and is removed when the test bundle finishes (not when the
/// test that made it finishes: fixtures made once and kept in a static are shared by the tests
/// after it).
public enum TemporaryFolders {
    /// A fresh, empty folder `<tmp>/<prefix>-<uuid>`.
    public static func make(_ prefix: String) throws -> String {
        let path = self.path(prefix)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A fresh path `<tmp>/<prefix>-<uuid><suffix>` that nothing holds yet (for a run folder the
    /// code under test creates, or a file it writes); removed like `make`'s folders.
    public static func path(_ prefix: String, suffix: String = "") -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)\(suffix)").path
        Sweeper.shared.add(path)
        return path
    }
}

/// Removes every registered path once the bundle's tests have run.
private final class Sweeper: NSObject, XCTestObservation, @unchecked Sendable {
    static let shared: Sweeper = {
        let sweeper = Sweeper()
        XCTestObservationCenter.shared.addTestObserver(sweeper)
        return sweeper
    }()

    private let lock = NSLock()
    private var paths: [String] = []

    func add(_ path: String) { lock.withLock { paths.append(path) } }

    func testBundleDidFinish(_ testBundle: Bundle) {
        for path in lock.withLock({ paths }) { try? FileManager.default.removeItem(atPath: path) }
    }
}
