import Foundation

/// Seconds spent per op kind, forward and backward together, for `losskit bench`.
public final class OpProfiler {
    public private(set) var seconds: [String: Double] = [:]
    public init() {}

    @inline(__always) func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    public func add(_ op: String, _ dt: Double) { seconds[op, default: 0] += dt }
    public func reset() { seconds = [:] }
}
