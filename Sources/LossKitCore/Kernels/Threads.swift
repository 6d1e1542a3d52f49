import COpenBLAS
import Foundation

/// The one thread-count setting: it governs OpenBLAS and the engine's own parallel loops, so
/// that "same seed and same thread count" is the whole recipe for a bit-identical run.
public enum Threads {
    nonisolated(unsafe) private static var current = 1

    public static var count: Int { current }

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
}

/// Runs `body(chunkStart, chunkEnd)` over `0..<n` split into at most `Threads.count` contiguous
/// chunks. Each index goes to exactly one chunk whatever the timing, so results that are written
/// per index are deterministic.
@inline(__always)
public func parallelFor(_ n: Int, minChunk: Int = 1, _ body: (Int, Int) -> Void) {
    let workers = min(Threads.count, max(1, n / max(minChunk, 1)))
    if workers <= 1 || n <= 1 {
        body(0, n)
        return
    }
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        let start = n * w / workers
        let end = n * (w + 1) / workers
        if start < end { body(start, end) }
    }
}
