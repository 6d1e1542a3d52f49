/// One value recorded on a `Graph`: its forward result, its gradient once backward reaches it,
/// and the rule that pushes that gradient to its inputs.
///
/// An op is written as a forward computation plus a `backward` closure side by side (see any
/// file in `Ops/`). The closure reads `self.grad` and adds into the inputs' gradients with
/// `input.accumulateGrad`; inputs that do not require a gradient are skipped.
public final class Node {
    public let value: Tensor
    /// Allocated the first time a gradient reaches this node (zeroed, or fully written by an op
    /// that asked for `gradBufferForWriting`).
    public internal(set) var grad: Tensor?
    /// False for constants, detached values and frozen parameter reads: backward stops here.
    public let requiresGrad: Bool
    /// Short op name, for profiles and error messages ("conv2d", "relu", ...).
    public let op: String
    /// Position on the tape; the tape order is a topological order.
    public let index: Int
    var backward: ((Node) -> Void)?
    /// For max-pool outputs: the flat index (within its H×W plane of the input) that each output
    /// element came from. Max-unpool reads them; encoders hand them on as the `pool*` taps.
    public internal(set) var switches: [Int32]?
    /// For max-pool outputs: the input's spatial size, so unpooling knows the size to restore.
    public internal(set) var switchesInputSize: (height: Int, width: Int)?
    /// For convolution outputs in training mode, [B, C, 2]: Σ and Σ² of each (image, channel)
    /// plane, as `Vectorized.sumAndSquares` returns them, taken while the convolution's output was
    /// still in cache. A batch-norm that follows reads its statistics from them instead of from
    /// another pass over the activation (`batchNorm`).
    public internal(set) var planeMoments: Tensor?
    /// The op with its operand and result shapes, set only while a graph's profiler times ops by
    /// shape (`OpProfiler.byShape`).
    public internal(set) var profileLabel: String?

    init(value: Tensor, requiresGrad: Bool, op: String, index: Int) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.op = op
        self.index = index
    }

    public var shape: [Int] { value.shape }

    /// The gradient buffer, created zeroed on first use.
    public func gradBuffer() -> Tensor {
        if let g = grad { return g }
        let g = Tensor(zeros: value.shape)
        grad = g
        return g
    }

    /// The gradient buffer for an op that writes its whole contribution in one pass: when no
    /// gradient has reached this node yet, the buffer comes back uninitialised with `accumulate`
    /// false, and the op must store every element instead of adding (this skips a zero-fill and
    /// a read of the zeros per tensor: a few per cent of a convolutional training step).
    public func gradBufferForWriting() -> (data: UnsafeMutablePointer<Float>, accumulate: Bool) {
        if let g = grad { return (g.data, true) }
        let g = Tensor(uninitialized: value.shape)
        grad = g
        return (g.data, false)
    }

    /// Adds `count` floats from `source` into this node's gradient, if it wants one.
    @inline(__always)
    public func accumulateGrad(_ body: (UnsafeMutablePointer<Float>) -> Void) {
        guard requiresGrad else { return }
        body(gradBuffer().data)
    }
}
