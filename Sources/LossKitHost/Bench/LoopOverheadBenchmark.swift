import Dispatch
import Foundation
import LossKitCore

/// What starting a parallel loop costs (issue 12): a loop of `Threads.count` shares of fixed busy
/// work, after a stretch of serial work, timed end to end; the overhead is that time minus one
/// share's. The engine's `parallelWorkers` (its own spinning worker threads) against
/// `DispatchQueue.concurrentPerform` (a dispatch thread woken per loop), which the engine used
/// before. A training step runs about 50 (`ce`) to 100 (`ce + swwae`) such loops.
public enum LoopOverheadBenchmark {
    public struct Row {
        /// "engine" or "dispatch".
        public let path: String
        public let shareMicroseconds: Double
        public let gapMicroseconds: Double
        /// Median and 90th percentile of (loop time − share time), µs.
        public let medianOverheadMicroseconds: Double
        public let p90OverheadMicroseconds: Double
    }

    /// Busy-waits `microseconds` (the work of a share, or the serial code between loops).
    private static func busy(_ microseconds: Double) {
        let end = DispatchTime.now().uptimeNanoseconds + UInt64(microseconds * 1000)
        while DispatchTime.now().uptimeNanoseconds < end {}
    }

    /// Every path × share × gap, `loops` loops each, at `Threads.count` shares per loop.
    public static func run(loops: Int = 1000, shares: [Double] = [50, 500], gaps: [Double] = [0, 100, 2000]) throws -> [Row] {
        try BenchmarkError.requirePositive(loops, "loops")
        let workers = Threads.count
        guard workers >= 2 else { throw BenchmarkError("the loop benchmark needs --threads 2 or more (one thread runs loops inline)") }
        let paths: [(String, (Double) -> Void)] = [
            ("engine", { share in parallelWorkers(workers) { _ in busy(share) } }),
            ("dispatch", { share in DispatchQueue.concurrentPerform(iterations: workers) { _ in busy(share) } }),
        ]
        var rows: [Row] = []
        for share in shares {
            for gap in gaps {
                for (name, loop) in paths {
                    var overheads: [Double] = []
                    overheads.reserveCapacity(loops)
                    for _ in 0..<loops {
                        busy(gap)
                        let start = DispatchTime.now().uptimeNanoseconds
                        loop(share)
                        overheads.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000 - share)
                    }
                    overheads.sort()
                    rows.append(Row(path: name, shareMicroseconds: share, gapMicroseconds: gap,
                                    medianOverheadMicroseconds: overheads[loops / 2],
                                    p90OverheadMicroseconds: overheads[loops * 9 / 10]))
                }
            }
        }
        return rows
    }
}
