import Foundation

/// Seconds spent per op kind, forward and backward together, for `losskit bench`.
public final class OpProfiler {
    public private(set) var seconds: [String: Double] = [:]
    /// Floating-point operations of the matrix products (conv and GEMM), forward and backward.
    public private(set) var flops: Double = 0
    public init() {}

    public func addFlops(_ n: Double) { flops += n }

    @inline(__always) func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    public func add(_ op: String, _ dt: Double) { seconds[op, default: 0] += dt }
    public func reset() {
        seconds = [:]
        flops = 0
    }
}
