import COpenBLAS
import Foundation

/// The one thread-count setting: it governs OpenBLAS and the engine's own parallel loops, so
/// that "same seed and same thread count" is the whole recipe for a bit-identical run.
public enum Threads {
    nonisolated(unsafe) private static var current = 1

    public static var count: Int { current }

    /// Shares per thread of the engine's parallel loops (`parallelFor`, the Winograd
    /// convolution's batch): a thread slowed by another process on its core leaves the shares it
    /// has not started to the others. Measured on the 2-core machine with a busy loop pinned to
    /// one core: with one share a thread the step ran at the slow thread's pace (`ce` at two
    /// threads 457-563 images/s, about half its rate without the busy loop), with four 574-692
    /// (docs/BENCHMARKS.md). `parallelFor`'s results do not depend on it; the Winograd weight
    /// gradient's last bits do (its partial sums are per share).
    nonisolated(unsafe) public static var sharesPerThread = 4

    /// The thread counts a run, an evaluation or a benchmark accepts.
    public static let allowed = 1...256

    /// How long the engine's idle workers spin after a parallel loop before they sleep
    /// (`LOSSKIT_SPIN_US` as `WorkerPool` read it).
    public static var workerSpinMicroseconds: Double { WorkerPool.shared.spinMicroseconds }

    /// Sets the thread count for OpenBLAS and for `parallelFor`.
    public static func set(_ n: Int) {
        current = max(1, n)
        shortenBLASSpinning
        openblas_set_num_threads(Int32(current))
    }

    /// OpenBLAS's idle worker threads spin (sched_yield) for 2^28 cycles after each call before they
    /// sleep. Between the many small GEMMs of a training step that spinning takes the cores the
    /// engine's own parallel loops need: at two threads on two cores, `perf` put a fifth of the
    /// step's CPU time in the scheduler, and OPENBLAS_THREAD_TIMEOUT=4 (2^4 cycles, the minimum)
    /// made the `ce` step 8-38 % faster (docs/BENCHMARKS.md). The library reads that variable
    /// when it loads, before any of our code runs, so it is set here (unless the user set it)
    /// and the thread server restarted to apply it. Done once.
    private static let shortenBLASSpinning: Void = {
        setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0)
        openblas_read_env()
        _ = blas_thread_shutdown_()
        _ = blas_thread_init()
    }()

    /// Whether the calling thread is running a `parallelWorkers` body.
    static var isWorker: Bool { pthread_getspecific(workerKey) != nil }

    /// Marks the threads running `parallelWorkers`' bodies (set while they run, nil elsewhere).
    static let workerKey: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "no thread-specific key left for the engine's workers")
        return key
    }()
}

/// Runs `body(chunkStart, chunkEnd)` over `0..<n` split into contiguous chunks of at least
/// `minChunk` (where n allows), up to `Threads.sharesPerThread` a thread, taken by whichever
/// thread is free (`parallelShares`). Each index goes to exactly one chunk whatever the timing, so
/// results that are written per index are deterministic. Called from inside another
/// `parallelFor`'s worker it runs inline: the cores are already busy, and nesting would only add
/// threads that fight over them.
@inline(__always)
public func parallelFor(_ n: Int, minChunk: Int = 1, _ body: (Int, Int) -> Void) {
    let pieces = max(1, n / max(minChunk, 1))
    let chunks = Threads.isWorker || Threads.count == 1 ? 1 : min(Threads.count * Threads.sharesPerThread, pieces)
    parallelShares(chunks) { w, _ in
        let start = n * w / chunks
        let end = n * (w + 1) / chunks
        if start < end { body(start, end) }
    }
}

/// Runs `body(worker)` for each worker in `0..<workers` at once, one thread each, on the engine's
/// own threads and the caller's (`WorkerPool`), or inline, one after the other, when `workers` is
/// 1 or the caller is itself a worker. `losskit bench --loops-only` times it; the engine's loops
/// use `parallelShares`, which lets a free thread take a slow one's work.
public func parallelWorkers(_ workers: Int, _ body: (Int) -> Void) {
    if workers <= 1 || Threads.isWorker {
        for w in 0..<max(workers, 0) { body(w) }
        return
    }
    WorkerPool.shared.run(workers, body)
}

/// Runs `body(share, thread)` for each share in `0..<shares` on up to `Threads.count` threads,
/// each thread taking the next unclaimed share when it is free: with more shares than threads, a
/// thread slowed by another process on its core (or by its own share's cache misses) leaves more
/// of the shares to the others instead of holding all of them up. Share s always runs the same
/// `body(s, _)`, so results kept per share and combined in share order do not depend on the
/// timing; `thread` (0..<min(shares, Threads.count)) indexes per-thread scratch, never in use by
/// two shares at once. Inline, in share order on thread 0, for one thread or inside a worker.
public func parallelShares(_ shares: Int, _ body: (_ share: Int, _ thread: Int) -> Void) {
    let threads = parallelSharesThreads(shares)
    if threads <= 1 {
        for s in 0..<max(shares, 0) { body(s, 0) }
        return
    }
    WorkerPool.shared.run(shares: shares, threads: threads, body)
}

/// The threads `parallelShares(shares, _)` would use here: for sizing per-thread scratch.
public func parallelSharesThreads(_ shares: Int) -> Int {
    Threads.isWorker ? 1 : max(1, min(Threads.count, shares))
}

/// Runs `body` with OpenBLAS limited to one thread, restoring `Threads.count` afterwards: for
/// loops whose own workers each call GEMMs (OpenBLAS's single-threaded calls are safe from several
/// threads at once; its thread server is not entered). Small GEMMs gain most: waking OpenBLAS's
/// threads for each of them costs more than the work it splits.
public func withSingleThreadedBLAS<R>(_ body: () throws -> R) rethrows -> R {
    guard Threads.count > 1 else { return try body() }
    openblas_set_num_threads(1)
    defer { openblas_set_num_threads(Int32(Threads.count)) }
    return try body()
}
