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
        openblas_set_num_threads(Int32(current))
    }
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
