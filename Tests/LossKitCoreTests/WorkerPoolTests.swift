import Foundation
@testable import LossKitKernelSupport
import XCTest

/// The engine's worker threads (`Sources/LossKitKernelSupport/WorkerPool.swift`): every share of a loop runs once with
/// its own index, the shares really run at once, sleeping workers wake, a second caller while
/// the pool is busy still gets its loop run, and with more shares than threads each runs on one
/// thread index at a time and a slow thread leaves the shares it has not started to the others.
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

    func testMoreSharesThanThreadsRunOnceEachOnAThreadIndexNoRunningShareHolds() {
        let pool = WorkerPool(spinMicroseconds: 50)
        let lock = NSLock()
        for round in 0..<200 {
            let threads = 2 + round % 2, shares = threads + 1 + round % 7
            var seen: [Int] = [], busy = [Bool](repeating: false, count: threads), clashes = 0, outside = 0
            pool.run(shares: shares, threads: threads) { share, thread in
                lock.lock()
                seen.append(share)
                if thread < 0 || thread >= threads { outside += 1 } else if busy[thread] { clashes += 1 } else { busy[thread] = true }
                lock.unlock()
                if (share + round) % 3 == 0 { usleep(UInt32(round % 5 * 30)) }  // uneven shares
                lock.lock(); if thread >= 0 && thread < threads { busy[thread] = false }; lock.unlock()
            }
            XCTAssertEqual(seen.sorted(), Array(0..<shares), "round \(round)")
            XCTAssertEqual(outside, 0, "round \(round): a thread index outside 0..<\(threads)")
            XCTAssertEqual(clashes, 0, "round \(round): two shares at once on one thread index")
            if round % 50 == 0 { usleep(1000) }
        }
    }

    func testASlowThreadLeavesTheSharesItHasNotStartedToTheOthers() {
        // thread 1 takes 20 ms a share, thread 0 (the caller) 1 ms: dealt out four each, the loop
        // would take 80 ms; claimed as the threads come free, thread 1 runs one or two
        let pool = WorkerPool(spinMicroseconds: 200)
        let lock = NSLock()
        var byThread = [0, 0], seen: [Int] = []
        let start = Date()
        pool.run(shares: 8, threads: 2) { share, thread in
            usleep(thread == 1 ? 20_000 : 1_000)
            lock.lock(); byThread[thread] += 1; seen.append(share); lock.unlock()
        }
        XCTAssertEqual(seen.sorted(), Array(0..<8))
        XCTAssertLessThanOrEqual(byThread[1], 2, "the slow thread ran \(byThread[1]) of 8 shares")
        XCTAssertLessThan(Date().timeIntervalSince(start), 0.07)
    }

    func testParallelSharesRunsInlineInShareOrderOnOneThread() {
        let saved = Threads.count
        defer { Threads.set(saved) }
        Threads.set(1)
        var order: [Int] = [], threads: Set<Int> = []
        parallelShares(5) { share, thread in order.append(share); threads.insert(thread) }
        XCTAssertEqual(order, [0, 1, 2, 3, 4])
        XCTAssertEqual(threads, [0])
        XCTAssertEqual(parallelSharesThreads(5), 1)
        Threads.set(2)
        XCTAssertEqual(parallelSharesThreads(5), 2)
        XCTAssertEqual(parallelSharesThreads(1), 1)
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
        var counts = [0, 0], clashes = 0
        DispatchQueue.concurrentPerform(iterations: 2) { caller in
            for _ in 0..<200 {
                pool.run(3) { _ in lock.lock(); counts[caller] += 1; lock.unlock() }
                // more shares than threads, on Dispatch's threads when the other caller holds the pool
                var busy = [false, false]
                pool.run(shares: 5, threads: 2) { _, thread in
                    lock.lock(); if busy[thread] { clashes += 1 }; busy[thread] = true; counts[caller] += 1; lock.unlock()
                    lock.lock(); busy[thread] = false; lock.unlock()
                }
            }
        }
        XCTAssertEqual(counts, [1600, 1600])
        XCTAssertEqual(clashes, 0)
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
