import Foundation

/// Seconds spent per op kind, forward and backward together, for `losskit bench`; with
/// `byShape`, also per op at each set of operand shapes, forward and backward apart (what
/// PyTorch's profiler calls grouping by input shape): which layers of the encoder, or of a
/// plugin's own network, the time goes to (layers of the same op and shapes share a line).
public final class OpProfiler {
    public private(set) var seconds: [String: Double] = [:]
    /// Floating-point operations of the matrix products (conv and GEMM), forward and backward.
    public private(set) var flops: Double = 0
    /// Whether ops are also timed per shape (`shapes`). Off by default: the label costs a string
    /// per recorded node.
    public let byShape: Bool
    /// Per op and operand shapes, when `byShape`: seconds forward and backward, and calls.
    public private(set) var shapes: [String: ShapeTimes] = [:]

    public struct ShapeTimes {
        /// Seconds; `forward` stays nil for ops whose forward is not timed (reshapes, slices,
        /// gathers: views and copies that are bookkeeping rather than arithmetic).
        public var forward: Double?, backward = 0.0
        /// Nodes recorded under this label.
        public var calls = 0
    }

    /// Seconds spent formatting labels, which `Graph.timed` leaves out of the op's time (a
    /// benchmark's "other" share holds them instead: a few µs per node).
    private(set) var labelSeconds = 0.0

    public init(byShape: Bool = false) { self.byShape = byShape }

    public func addFlops(_ n: Double) { flops += n }

    @inline(__always) func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    public func add(_ op: String, _ dt: Double) { seconds[op, default: 0] += dt }

    /// "conv [128, 32, 28, 28] · [32, 32, 3, 3] → [128, 32, 28, 28]": the op, the shapes of its
    /// operands of rank 2 and more (batch-norm's per-channel γ and β, biases and scalars are left
    /// out: they name no layer), and its result's shape. Layers of the same op and shapes share a
    /// label (their calls add up).
    static func shapeLabel(op: String, inputs: [Node], output: [Int]) -> String {
        let operands = inputs.filter { $0.shape.count >= 2 }.map { "\($0.shape)" }.joined(separator: " · ")
        return operands.isEmpty ? "\(op) → \(output)" : "\(op) \(operands) → \(output)"
    }

    func addShaped(_ label: String, recordedIn dt: Double) {
        shapes[label, default: ShapeTimes()].calls += 1
        labelSeconds += dt
    }

    func addShaped(_ label: String, forward dt: Double) {
        let before = shapes[label]?.forward ?? 0
        shapes[label, default: ShapeTimes()].forward = before + dt
    }

    func addShaped(_ label: String, backward dt: Double) { shapes[label, default: ShapeTimes()].backward += dt }

    public func reset() {
        seconds = [:]
        flops = 0
        shapes = [:]
        labelSeconds = 0
    }
}
