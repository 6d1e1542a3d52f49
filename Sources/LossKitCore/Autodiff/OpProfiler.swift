import Foundation

/// Seconds spent per op kind, forward and backward together, for `losskit bench`; with
/// `byShape`, also per op at each set of operand shapes, forward and backward apart (what
/// PyTorch's profiler calls grouping by input shape): which layer of the encoder, or of a
/// plugin's own network, the time goes to.
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
        public var forward = 0.0, backward = 0.0
        /// Forward calls (one per recorded node).
        public var calls = 0
    }

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
    /// out: they name no layer), and its result's shape.
    static func shapeLabel(op: String, inputs: [Node], output: [Int]) -> String {
        let operands = inputs.filter { $0.shape.count >= 2 }.map { "\($0.shape)" }
        return "\(op) \(operands.joined(separator: " · ")) → \(output)"
    }

    func addShaped(_ label: String, forward dt: Double) {
        shapes[label, default: ShapeTimes()].forward += dt
        shapes[label, default: ShapeTimes()].calls += 1
    }

    func addShaped(_ label: String, backward dt: Double) { shapes[label, default: ShapeTimes()].backward += dt }

    public func reset() {
        seconds = [:]
        flops = 0
        shapes = [:]
    }
}
