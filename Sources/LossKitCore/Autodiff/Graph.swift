/// The tape: every op called on a `Graph` appends a `Node`, and `backward(from:)` walks the
/// nodes in reverse creation order (a valid reverse topological order, since an op's inputs
/// always exist before it) calling each node's gradient rule.
///
///     let g = Graph(training: true, random: rng)
///     let w = g.param(weight)              // gradient accumulates into weight.grad
///     let y = try g.relu(g.matmul(x, w))
///     let loss = try g.mean(y)
///     try g.backward(from: loss)
///
/// One graph is one forward/backward pass; make a new graph for the next step.
public final class Graph {
    public private(set) var nodes: [Node] = []
    /// Batch-norm uses batch statistics and dropout is active only when training.
    public let training: Bool
    public let random: RandomGenerator
    /// Per-op-kind seconds, filled only while `profiler` is set (benchmarks).
    public var profiler: OpProfiler?
    /// Synchronised batch-norm across the processes of a data-parallel run: sums `count`
    /// doubles element-wise over every process, in place. When set, each training-mode
    /// batch-norm takes its mean and variance over the rows of every process (its Σ, Σ² and row
    /// count are summed), and backward sums the two per-channel terms of the input gradient the
    /// same way, so N processes of B/N rows compute what one process of B rows computes, up to
    /// the order of float sums. Every process must build the same batch-norms in the same order.
    public var batchStatisticsSum: ((UnsafeMutablePointer<Double>, Int) -> Void)?
    /// When false, `detach` and `frozen` let the gradient through. Finite differences see a
    /// loss as a plain function, so a gradient check of a loss that stops gradients on purpose
    /// (GAN feature matching, prior matching) checks the function as written with this off;
    /// where the gradient stops is shown by the method's own tests.
    public var stopGradients = true

    public init(training: Bool, random: RandomGenerator) {
        self.training = training
        self.random = random
    }

    /// Appends a node. `backward` is kept only when some input requires a gradient. `name` tells
    /// apart, in a by-shape profile, ops that share an op kind (`op`): max- and average pooling,
    /// batch-norm with and without its ReLU.
    @discardableResult
    public func record(_ value: Tensor, op: String, name: String? = nil, inputs: [Node], backward: ((Node) -> Void)? = nil) -> Node {
        let needs = backward != nil && inputs.contains { $0.requiresGrad }
        let node = Node(value: value, requiresGrad: needs, op: op, index: nodes.count)
        if needs { node.backward = backward }
        if let p = profiler, p.byShape {
            // the label's formatting is bookkeeping, not the op's work: `timed` leaves it out
            let t0 = p.now()
            let label = OpProfiler.shapeLabel(op: name ?? op, inputs: inputs, output: value.shape)
            node.profileLabel = label
            p.addShaped(label, recordedIn: p.now() - t0)
        }
        nodes.append(node)
        return node
    }

    /// A value that takes no gradient: data, labels, memory banks.
    public func constant(_ value: Tensor) -> Node {
        record(value, op: "constant", inputs: [])
    }

    /// A leaf that takes a gradient (for gradient checks of raw inputs).
    public func variable(_ value: Tensor) -> Node {
        let node = Node(value: value, requiresGrad: true, op: "variable", index: nodes.count)
        nodes.append(node)
        return node
    }

    /// The parameter's value, with its gradient accumulated into `parameter.grad` by backward.
    public func param(_ parameter: Parameter) -> Node {
        let node = Node(value: parameter.value, requiresGrad: true, op: "param", index: nodes.count)
        node.backward = { n in
            guard let g = n.grad else { return }
            let dst = parameter.grad.data
            let src = g.data
            for i in 0..<g.count { dst[i] += src[i] }
        }
        nodes.append(node)
        return node
    }

    /// The parameter's value read as a constant: gradients reach the other operands of the ops
    /// that use it, never the parameter (the GAN generator's feature-matching loss needs this).
    public func frozen(_ parameter: Parameter) -> Node {
        guard stopGradients else { return param(parameter) }
        return record(parameter.value, op: "frozen", inputs: [])
    }

    /// The same value with the gradient stopped.
    public func detach(_ x: Node) -> Node {
        guard stopGradients else {
            return record(x.value, op: "identity", inputs: [x]) { node in
                let g = node.grad!.data, gx = x.gradBuffer().data
                for i in 0..<x.value.count { gx[i] += g[i] }
            }
        }
        return record(x.value, op: "detach", inputs: [])
    }

    /// Runs the backward pass from a one-element `loss`, seeding its gradient with 1.
    public func backward(from loss: Node) throws {
        guard loss.value.count == 1 else {
            throw ShapeError("backward needs a one-element loss; got \(shapeText(loss.shape))")
        }
        guard loss.requiresGrad else { return }
        loss.gradBuffer().data[0] += 1
        for node in nodes[0...loss.index].reversed() {
            guard let rule = node.backward, node.grad != nil else { continue }
            if let p = profiler {
                let t0 = p.now()
                rule(node)
                let dt = p.now() - t0
                p.add(node.op, dt)
                if let label = node.profileLabel { p.addShaped(label, backward: dt) }
            } else {
                rule(node)
            }
        }
    }

    /// Times `body` under `op` when profiling (a body that throws is timed too), and under the
    /// shapes of the node it returns when the profiler times by shape; the labels' formatting
    /// inside `body` is not counted.
    @inline(__always)
    func timed<T>(_ op: String, _ body: () throws -> T) rethrows -> T {
        guard let p = profiler else { return try body() }
        let t0 = p.now(), bookkeeping = p.labelSeconds
        var result: T?
        defer {
            let dt = p.now() - t0 - (p.labelSeconds - bookkeeping)
            p.add(op, dt)
            if let label = (result as? Node)?.profileLabel { p.addShaped(label, forward: dt) }
        }
        result = try body()
        return result!
    }
}
