import COpenBLAS
import Foundation
import LossKitCore
import XCTest

/// `Threads.set` shortens OpenBLAS's idle spinning by restarting its thread server with
/// OPENBLAS_THREAD_TIMEOUT (docs/BENCHMARKS.md); the library must have taken the setting, and
/// multi-threaded GEMMs must still be right after the restart.
final class ThreadsTests: XCTestCase {
    func testOpenBLASTakesTheShortIdleTimeoutAndStillMultipliesCorrectly() {
        let previous = Threads.count
        defer { Threads.set(previous) }
        Threads.set(2)
        let setting = ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"].flatMap(UInt32.init)
        XCTAssertNotNil(setting, "Threads.set leaves the variable set (to 4 unless the user chose)")
        XCTAssertEqual(openblas_thread_timeout(), setting, "the library re-read it")

        let (m, n, k) = (70, 301, 53)
        let a = Tensor(uninitialized: [m, k]), b = Tensor(uninitialized: [k, n]), c = Tensor(uninitialized: [m, n])
        let random = RandomGenerator(seed: 7)
        random.fillNormal(a.data, a.count)
        random.fillNormal(b.data, b.count)
        for _ in 0..<3 {  // several calls: the restarted server's workers sleep and wake between them
            sgemm(m: m, n: n, k: k, a: a.data, b: b.data, c: c.data)
            usleep(2_000)
        }
        for i in Swift.stride(from: 0, to: m, by: 7) {
            for j in Swift.stride(from: 0, to: n, by: 11) {
                var expected: Float = 0
                for p in 0..<k { expected += a.data[i * k + p] * b.data[p * n + j] }
                XCTAssertEqual(c.data[i * n + j], expected, accuracy: 1e-3 * max(1, abs(expected)))
            }
        }
    }

    /// A `parallelFor` inside another's worker runs inline on that worker (nesting would put more
    /// threads than cores to work), while the outer loop really is split.
    func testNestedParallelForRunsInlineOnItsWorker() {
        let previous = Threads.count
        defer { Threads.set(previous) }
        Threads.set(2)
        let lock = NSLock()
        var outer: [(Int, Int)] = [], inner: [(Int, Int)] = []
        parallelFor(10) { lo, hi in
            lock.lock(); outer.append((lo, hi)); lock.unlock()
            parallelFor(6) { a, b in lock.lock(); inner.append((a, b)); lock.unlock() }
        }
        XCTAssertEqual(outer.sorted { $0.0 < $1.0 }.map { [$0.0, $0.1] }, [[0, 5], [5, 10]])
        XCTAssertEqual(inner.map { [$0.0, $0.1] }, [[0, 6], [0, 6]], "each worker ran the inner loop whole")
        var after: [(Int, Int)] = []
        parallelFor(6) { a, b in lock.lock(); after.append((a, b)); lock.unlock() }
        XCTAssertEqual(after.count, 2, "outside any worker the loop is split again")
    }

    /// Workers that call GEMMs themselves run OpenBLAS on one thread, and the thread count comes back.
    func testSingleThreadedBLASSectionRestoresTheThreadCount() {
        let previous = Threads.count
        defer { Threads.set(previous) }
        Threads.set(2)
        let inside = withSingleThreadedBLAS { openblas_get_num_threads() }
        XCTAssertEqual(inside, 1)
        XCTAssertEqual(openblas_get_num_threads(), 2)
    }
}
