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
        // 2 threads × Threads.sharesPerThread (4) chunks of 10 indices
        XCTAssertEqual(outer.sorted { $0.0 < $1.0 }.map { [$0.0, $0.1] },
                       [[0, 1], [1, 2], [2, 3], [3, 5], [5, 6], [6, 7], [7, 8], [8, 10]])
        XCTAssertEqual(inner.map { [$0.0, $0.1] }, Array(repeating: [0, 6], count: 8), "each share ran the inner loop whole")
        var after: [(Int, Int)] = []
        parallelFor(6) { a, b in lock.lock(); after.append((a, b)); lock.unlock() }
        XCTAssertEqual(after.count, 6, "outside any worker the loop is split again")
    }

    /// `parallelFor` gives every index to exactly one contiguous chunk, at most
    /// `Threads.sharesPerThread` chunks a thread and none shorter than `minChunk` where n allows;
    /// one thread runs it whole.
    func testParallelForCoversEachIndexOnceInChunksOfAtLeastMinChunk() {
        let previous = (Threads.count, Threads.sharesPerThread)
        defer { Threads.set(previous.0); Threads.sharesPerThread = previous.1 }
        let lock = NSLock()
        for (threads, perThread) in [(1, 4), (2, 4), (3, 4), (2, 1), (2, 16)] {
            Threads.set(threads)
            Threads.sharesPerThread = perThread
            for (n, minChunk) in [(0, 1), (1, 1), (7, 1), (100, 1), (100, 30), (1000, 7), (5000, 4096)] {
                var chunks: [(Int, Int)] = []
                parallelFor(n, minChunk: minChunk) { lo, hi in lock.lock(); chunks.append((lo, hi)); lock.unlock() }
                chunks.sort { $0.0 < $1.0 }
                let label = "n \(n), minChunk \(minChunk), \(threads) threads, \(perThread) a thread"
                XCTAssertEqual(chunks.map { $0.0 }, chunks.isEmpty ? [] : [0] + chunks.dropLast().map { $0.1 }, label)  // contiguous, from 0
                XCTAssertTrue(chunks.allSatisfy { $0.0 < $0.1 }, label)
                XCTAssertEqual(chunks.last?.1 ?? 0, n, label)
                XCTAssertLessThanOrEqual(chunks.count, threads == 1 ? 1 : threads * perThread, label)
                if chunks.count > 1 { XCTAssertGreaterThanOrEqual(chunks.map { $0.1 - $0.0 }.min()!, minChunk, label) }
            }
        }
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
