import Foundation
import Synchronization

/// The engine's own worker threads behind `parallelShares` and `parallelWorkers`: kept alive between parallel loops,
/// and spinning for a short while after each loop before they sleep.
///
/// Why not `DispatchQueue.concurrentPerform`: it wakes a sleeping dispatch thread for every loop,
/// and on this project's 2-core virtual machines that added 55-95 µs to a loop of two shares
/// (`losskit bench --loops-only`, docs/BENCHMARKS.md). A `ce + swwae` step runs about a hundred
/// loops. A worker still spinning when the next loop is posted starts it within a microsecond.
///
/// A loop's shares are claimed, one at a time, from a single word that also carries the loop's
/// number: whichever thread is free takes the next share (the caller too, so a worker that wakes
/// late costs nothing once the caller has done its own), and a thread that lags behind can never
/// claim a share of a loop it did not see posted. Share w always runs `body(w, thread)`, whoever
/// runs it, so results stay independent of the timing. A loop may have more shares than threads
/// (`parallelShares`): a thread that finishes early, or runs on a core another process shares,
/// then takes more of them.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// How long an idle worker spins before it sleeps (`LOSSKIT_SPIN_US`, default 200). The gaps
    /// between a step's loops are mostly shorter; between steps and in serial code it sleeps.
    let spinMicroseconds: Double

    /// The posted loop: its number (bits 24...), the threads it uses (bits 16..<24), its share
    /// count (bits 8..<16) and the next unclaimed share (bits 0..<8). The count travels in the
    /// word, so a thread that compares the next share with it reads both from one loop.
    private let loop = Atomic<UInt64>(0)
    /// Loop numbers wrap within their 40 bits.
    private static let numberMask: UInt64 = (1 << 40) - 1
    /// Shares of the current loop finished.
    private let finished = Atomic<Int>(0)
    /// Workers asleep (or about to be) on `wake`.
    private let sleepers = Atomic<Int>(0)
    // allocated, not stored properties: pthread objects must not move, and `&property` promises no fixed address
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// The current loop's body (share, thread): set before the loop is posted, read only by a
    /// thread holding a claim.
    nonisolated(unsafe) private var body: ((Int, Int) -> Void)?
    /// Background threads started.
    private var started = 0
    /// Held by the thread whose loop the pool is running.
    private let owner = NSLock()

    init(spinMicroseconds: Double = ProcessInfo.processInfo.environment["LOSSKIT_SPIN_US"].flatMap(Double.init) ?? 200) {
        // a typo in LOSSKIT_SPIN_US (nan, inf, a huge number) must not trap when converted to nanoseconds
        self.spinMicroseconds = spinMicroseconds.isFinite ? min(max(spinMicroseconds, 0), 1e6) : 200
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
    }

    /// Runs `body(w)` for each w in 0..<workers, one share per thread (`run(shares:threads:_:)`).
    func run(_ workers: Int, _ body: (Int) -> Void) {
        run(shares: workers, threads: workers) { share, _ in body(share) }
    }

    /// Runs `body(share, thread)` for each share in 0..<shares on `threads` threads (the pool's
    /// and the calling one, thread 0; `threads` ≤ `shares`), and returns when all have. Each
    /// thread index runs on one thread at a time, so per-thread scratch indexed by it is never
    /// shared. A thread that asks while the pool is busy gets Dispatch's threads.
    func run(shares: Int, threads: Int, _ body: (_ share: Int, _ thread: Int) -> Void) {
        guard shares <= 255, owner.try() else {
            let next = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: threads) { thread in
                WorkerPool.asWorker {
                    while case let share = next.add(1, ordering: .relaxed).oldValue, share < shares { body(share, thread) }
                }
            }
            return
        }
        defer { owner.unlock() }
        let number = ((loop.load(ordering: .relaxed) >> 24) &+ 1) & WorkerPool.numberMask
        startThreads(threads - 1)
        withoutActuallyEscaping(body) { body in
            self.body = body
            finished.store(0, ordering: .relaxed)
            // sequentially consistent with the sleepers' count: either a worker on its way to sleep
            // sees this loop, or this thread sees the worker and wakes it
            loop.store(number << 24 | UInt64(threads) << 16 | UInt64(shares) << 8, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(mutex)
            }
            WorkerPool.asWorker { runShares(of: number, thread: 0) }
            // the rest were claimed by threads still running them; yield now and then in case one
            // of them was descheduled and waits for this core
            var polls = 0
            while finished.load(ordering: .acquiring) < shares {
                polls += 1
                if polls & 1023 == 0 { sched_yield() }
            }
            self.body = nil
        }
    }

    /// Claims and runs shares of loop `number` as `thread` until none is left (or that loop is over).
    private func runShares(of number: UInt64, thread: Int) {
        var word = loop.load(ordering: .acquiring)
        while word >> 24 == number, word & 0xff < (word >> 8) & 0xff {
            let (claimed, now) = loop.compareExchange(expected: word, desired: word + 1, ordering: .acquiringAndReleasing)
            if claimed {
                body!(Int(word & 0xff), thread)
                finished.add(1, ordering: .releasing)
                word = loop.load(ordering: .acquiring)
            } else {
                word = now
            }
        }
    }

    /// Runs `work` marked as a worker (loops nested in it run inline), restoring what the thread had.
    fileprivate static func asWorker(_ work: () -> Void) {
        let outer = pthread_getspecific(Threads.workerKey)
        pthread_setspecific(Threads.workerKey, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(Threads.workerKey, outer) }
        work()
    }

    private func startThreads(_ count: Int) {
        while started < count {
            started += 1
            // the loop about to be posted is the first it serves, however late the thread starts
            let seen = loop.load(ordering: .relaxed) >> 24, index = started
            // the thread keeps its pool alive: it never exits (the shared pool lives as long as the process)
            let thread = Thread { self.serve(thread: index, after: seen) }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Thread `index` (1...) serves loops on more than `index` threads; after a smaller loop (the
    /// thread count was lowered) it sleeps at once instead of spinning beside the threads in use.
    /// Threads beyond the cores (`--threads` above the core count) never spin: a spinning thread
    /// there would take a core from one with work.
    private func serve(thread index: Int, after first: UInt64) {
        pthread_setspecific(Threads.workerKey, UnsafeRawPointer(bitPattern: 1))
        let maySpin = index < ProcessInfo.processInfo.activeProcessorCount
        var seen = first, needed = true
        while true {
            let word = waitForLoop(after: seen, spinning: needed && maySpin)
            seen = word >> 24
            needed = index < Int((word >> 16) & 0xff)
            if needed { runShares(of: seen, thread: index) }
        }
    }

    /// The word of the first loop posted after loop `seen`: spins for `spinMicroseconds` (when
    /// `spinning`), then sleeps.
    private func waitForLoop(after seen: UInt64, spinning: Bool) -> UInt64 {
        let deadline = DispatchTime.now().uptimeNanoseconds + (spinning ? UInt64(spinMicroseconds * 1000) : 0)
        var spins = 0
        while true {
            let word = loop.load(ordering: .acquiring)
            if word >> 24 != seen { return word }
            spins += 1
            if spins & 255 == 0 {
                if DispatchTime.now().uptimeNanoseconds > deadline { break }
                // an OpenBLAS thread woken for a multi-threaded GEMM between two loops gets the core
                sched_yield()
            }
        }
        pthread_mutex_lock(mutex)
        sleepers.add(1, ordering: .sequentiallyConsistent)
        var word = loop.load(ordering: .sequentiallyConsistent)
        while word >> 24 == seen {
            pthread_cond_wait(wake, mutex)
            word = loop.load(ordering: .sequentiallyConsistent)
        }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(mutex)
        return word
    }
}
