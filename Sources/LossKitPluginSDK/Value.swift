@_exported import CLossKitABI
import CLossKitABI

/// A node on the host's graph, with the host's ops as methods and operators, so a Swift plugin
/// reads like the math of METHODS.md:
///
///     let d = ((a - b).square().sum(axes: [1]) + 1e-8).sqrt()   // Euclidean distance per row
///
/// A failed op yields a value whose node is nil; later ops pass it on and the host reports the
/// first error (losskit.h's sticky error), so plugin code needs no error checks between ops.
public struct Value {
    public let graph: GraphBuilder
    public let node: OpaquePointer?

    var api: lk_host_api { graph.api.pointee }
    var g: OpaquePointer { graph.handle }

    public var shape: [Int] {
        guard let node else { return [] }
        var s = api.shape(node)
        return withUnsafeBytes(of: &s.dims) { raw in
            (0..<Int(s.rank)).map { Int(raw.load(fromByteOffset: $0 * 8, as: Int64.self)) }
        }
    }

    /// The forward values (valid during the step); empty after an error.
    public var values: UnsafeBufferPointer<Float> {
        guard let node, let p = api.data(node) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: p, count: shape.reduce(1, *))
    }

    public var scalar: Float { values.first ?? .nan }

    func wrap(_ n: OpaquePointer?) -> Value { Value(graph: graph, node: n) }

    // Point-wise
    public func relu() -> Value { wrap(api.relu(g, node)) }
    public func leakyRelu(_ slope: Float = 0.2) -> Value { wrap(api.leaky_relu(g, node, slope)) }
    public func tanh() -> Value { wrap(api.tanh(g, node)) }
    public func sigmoid() -> Value { wrap(api.sigmoid(g, node)) }
    public func softplus() -> Value { wrap(api.softplus(g, node)) }
    public func exp() -> Value { wrap(api.exp(g, node)) }
    public func log() -> Value { wrap(api.log(g, node)) }
    public func sqrt() -> Value { wrap(api.sqrt(g, node)) }
    public func square() -> Value { wrap(api.square(g, node)) }
    public func detached() -> Value { wrap(api.detach(g, node)) }

    // Rows of [N, K]
    public func logSoftmax() -> Value { wrap(api.log_softmax(g, node)) }
    public func logSumExp() -> Value { wrap(api.logsumexp(g, node)) }
    public func l2Normalized() -> Value { wrap(api.l2_normalize(g, node)) }

    // Reductions (all axes when `axes` is nil)
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Value { reduce(api.sum, axes, keepDims) }
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Value { reduce(api.mean, axes, keepDims) }

    private func reduce(
        _ f: (@convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<Int32>?, Int32, Int32) -> OpaquePointer?)?,
        _ axes: [Int]?, _ keep: Bool
    ) -> Value {
        guard let axes else { return wrap(f!(g, node, nil, 0, keep ? 1 : 0)) }
        let a = axes.map { Int32($0) }
        return wrap(a.withUnsafeBufferPointer { f!(g, node, $0.baseAddress, Int32(a.count), keep ? 1 : 0) })
    }

    // Structure
    public func reshaped(_ dims: [Int]) -> Value {
        let d = dims.map { Int64($0) }
        return wrap(d.withUnsafeBufferPointer { api.reshape(g, node, $0.baseAddress, Int32(d.count)) })
    }
    public func slice(axis: Int, _ range: Range<Int>) -> Value {
        wrap(api.slice(g, node, Int32(axis), Int64(range.lowerBound), Int64(range.upperBound)))
    }
    public func permuted(_ order: [Int]) -> Value {
        let o = order.map { Int32($0) }
        return wrap(o.withUnsafeBufferPointer { api.permute(g, node, $0.baseAddress, Int32(o.count)) })
    }
    public var transposed: Value { permuted([1, 0]) }
    public func gatherRows(_ indices: [Int]) -> Value {
        let ix = indices.map { Int64($0) }
        return wrap(ix.withUnsafeBufferPointer { api.gather_rows(g, node, $0.baseAddress, Int64(ix.count)) })
    }
    public func scatterRows(_ indices: [Int], rows: Int) -> Value {
        let ix = indices.map { Int64($0) }
        return wrap(ix.withUnsafeBufferPointer { api.scatter_rows(g, node, $0.baseAddress, Int64(ix.count), Int64(rows)) })
    }

    // Layers
    public func linear(_ w: Value, _ b: Value? = nil) -> Value { wrap(api.linear(g, node, w.node, b?.node)) }
    public func matmul(_ other: Value, transposeSelf: Bool = false, transposeOther: Bool = false) -> Value {
        wrap(api.matmul(g, node, other.node, transposeSelf ? 1 : 0, transposeOther ? 1 : 0))
    }
    public func batchedMatmul(_ other: Value, transposeSelf: Bool = false, transposeOther: Bool = false) -> Value {
        wrap(api.batched_matmul(g, node, other.node, transposeSelf ? 1 : 0, transposeOther ? 1 : 0))
    }
    public func conv2d(_ w: Value, _ b: Value? = nil, stride: Int = 1, padding: Int = 0) -> Value {
        wrap(api.conv2d(g, node, w.node, b?.node, Int32(stride), Int32(padding)))
    }
    public func maxPool(_ k: Int, stride: Int? = nil) -> Value { wrap(api.max_pool(g, node, Int32(k), Int32(stride ?? k))) }
    /// Places self (shaped like `pooled`) at `pooled`'s max-pool switches.
    public func maxUnpool(switchesOf pooled: Value) -> Value { wrap(api.max_unpool(g, node, pooled.node)) }
    public func avgPool(_ k: Int, stride: Int? = nil) -> Value { wrap(api.avg_pool(g, node, Int32(k), Int32(stride ?? k))) }
    public func globalAvgPool() -> Value { wrap(api.global_avg_pool(g, node)) }
    public func upsample(_ factor: Int) -> Value { wrap(api.upsample_nearest(g, node, Int32(factor))) }
    public func batchNorm(_ gamma: Value, _ beta: Value, running: (mean: State, variance: State)?, momentum: Float = 0.1, eps: Float = 1e-5) -> Value {
        wrap(api.batch_norm(g, node, gamma.node, beta.node, running?.mean.handle, running?.variance.handle, momentum, eps))
    }
    public func dropout(_ p: Float) -> Value { wrap(api.dropout(g, node, p)) }
    public func affineWarp(_ theta: [Float], fill: Float) -> Value {
        wrap(theta.withUnsafeBufferPointer { api.affine_warp(g, node, $0.baseAddress, fill) })
    }
    public func crossEntropy(labels: [Int32], mask: [UInt8]? = nil) -> Value {
        wrap(labels.withUnsafeBufferPointer { l in
            if let mask { return mask.withUnsafeBufferPointer { api.cross_entropy(g, node, l.baseAddress, $0.baseAddress) } }
            return api.cross_entropy(g, node, l.baseAddress, nil)
        })
    }
}

// Arithmetic with NumPy broadcasting; scalars on either side.
public func + (a: Value, b: Value) -> Value { a.wrap(a.api.add(a.g, a.node, b.node)) }
public func - (a: Value, b: Value) -> Value { a.wrap(a.api.sub(a.g, a.node, b.node)) }
public func * (a: Value, b: Value) -> Value { a.wrap(a.api.mul(a.g, a.node, b.node)) }
public func / (a: Value, b: Value) -> Value { a.wrap(a.api.div(a.g, a.node, b.node)) }
public func * (a: Value, s: Float) -> Value { a.wrap(a.api.scale(a.g, a.node, s)) }
public func * (s: Float, a: Value) -> Value { a * s }
public func / (a: Value, s: Float) -> Value { a * (1 / s) }
public func + (a: Value, c: Float) -> Value { a.wrap(a.api.add_scalar(a.g, a.node, c)) }
public func + (c: Float, a: Value) -> Value { a + c }
public func - (a: Value, c: Float) -> Value { a + (-c) }
public func - (c: Float, a: Value) -> Value { (-a) + c }
public prefix func - (a: Value) -> Value { a * -1 }

/// Concatenates values along `axis`.
public func concat(_ values: [Value], axis: Int) -> Value {
    let g = values[0].graph
    let nodes = values.map(\.node)
    return Value(graph: g, node: nodes.withUnsafeBufferPointer { g.api.pointee.concat(g.handle, $0.baseAddress, Int32(nodes.count), Int32(axis)) })
}
