import Foundation
@testable import LossKitKernelSupport
import XCTest

/// The engine's worker threads (`Sources/LossKitKernelSupport/WorkerPool.swift`): every share of a loop runs once with
/// its own index, the shares really run at once, sleeping workers wake, and a second caller while
/// the pool is busy still gets its loop run.
final class WorkerPoolTests: XCTestCase {
    /// Share `w` of `workers` waits (up to two seconds) until all shares have started: only true
    /// when they run on different threads at once. Returns whether every share saw the others.
    private func sharesMeet(_ pool: WorkerPool, workers: Int) -> Bool {
        let arrived = ManagedAtomicCounter()
        let met = ManagedAtomicCounter()
        pool.run(workers) { _ in
            arrived.increment()
            let deadline = Date().addingTimeInterval(2)
            while arrived.value < workers, Date() < deadline { sched_yield() }
            if arrived.value == workers { met.increment() }
        }
        return met.value == workers
    }

    func testEveryShareRunsOnceWithItsIndexWhateverTheTiming() {
        let pool = WorkerPool(spinMicroseconds: 50)
        let lock = NSLock()
        for round in 0..<300 {
            let workers = 2 + round % 3
            var seen: [Int] = []
            pool.run(workers) { w in
                if (w + round) % 4 == 0 { usleep(UInt32(round % 7 * 20)) }  // uneven shares
                lock.lock(); seen.append(w); lock.unlock()
            }
            XCTAssertEqual(seen.sorted(), Array(0..<workers), "round \(round)")
            if round % 50 == 0 { usleep(1000) }  // past the spin: the workers sleep and are woken
        }
    }

    func testAFreshPoolsSharesRunAtOnceFromTheFirstLoop() {
        // the first loop is posted while its thread may still be starting: it must serve it
        XCTAssertTrue(sharesMeet(WorkerPool(spinMicroseconds: 200), workers: 2))
    }

    func testSleepingWorkersAreWokenForTheNextLoop() {
        let pool = WorkerPool(spinMicroseconds: 0)
        for _ in 0..<20 {
            usleep(500)
            XCTAssertTrue(sharesMeet(pool, workers: 2))
        }
    }

    func testASecondCallerWhileThePoolIsBusyStillGetsItsLoopRun() {
        let pool = WorkerPool(spinMicroseconds: 200)
        let lock = NSLock()
        var counts = [0, 0]
        DispatchQueue.concurrentPerform(iterations: 2) { caller in
            for _ in 0..<200 {
                pool.run(3) { _ in lock.lock(); counts[caller] += 1; lock.unlock() }
            }
        }
        XCTAssertEqual(counts, [600, 600])
    }

    func testALoopInsideAShareRunsInlineOnItsThread() {
        let pool = WorkerPool(spinMicroseconds: 200)
        let lock = NSLock()
        var inlineShares = 0, marked = 0
        pool.run(2) { _ in
            if Threads.isWorker { lock.lock(); marked += 1; lock.unlock() }
            let outer = pthread_self()
            parallelWorkers(2) { _ in
                if pthread_equal(pthread_self(), outer) != 0 { lock.lock(); inlineShares += 1; lock.unlock() }
            }
        }
        XCTAssertEqual(marked, 2, "both shares run marked as workers")
        XCTAssertEqual(inlineShares, 4, "each share ran both shares of the nested loop on its own thread")
    }

    func testAnUnusableSpinSettingFallsBackInsteadOfTrapping() {
        XCTAssertEqual(WorkerPool(spinMicroseconds: .nan).spinMicroseconds, 200)
        XCTAssertEqual(WorkerPool(spinMicroseconds: .infinity).spinMicroseconds, 200)
        XCTAssertEqual(WorkerPool(spinMicroseconds: -5).spinMicroseconds, 0)
        XCTAssertEqual(WorkerPool(spinMicroseconds: 1e30).spinMicroseconds, 1e6)
    }
}

/// A counter several threads increment.
private final class ManagedAtomicCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
