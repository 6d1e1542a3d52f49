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

    /// The host's table, read field by field through the pointer: never copied whole, since an
    /// older host's table is smaller than this SDK's `lk_host_api`.
    var api: UnsafePointer<lk_host_api> { graph.api }
    var g: OpaquePointer { graph.handle }

    public var shape: [Int] {
        guard let node else { return [] }
        var s = api.pointee.shape(node)
        return withUnsafeBytes(of: &s.dims) { raw in
            (0..<Int(s.rank)).map { Int(raw.load(fromByteOffset: $0 * 8, as: Int64.self)) }
        }
    }

    /// The forward values (valid during the step); empty after an error.
    public var values: UnsafeBufferPointer<Float> {
        guard let node, let p = api.pointee.data(node) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: p, count: shape.reduce(1, *))
    }

    public var scalar: Float { values.first ?? .nan }

    func wrap(_ n: OpaquePointer?) -> Value { Value(graph: graph, node: n) }

    // Point-wise
    public func relu() -> Value { wrap(api.pointee.relu(g, node)) }
    public func leakyRelu(_ slope: Float = 0.2) -> Value { wrap(api.pointee.leaky_relu(g, node, slope)) }
    public func tanh() -> Value { wrap(api.pointee.tanh(g, node)) }
    public func sigmoid() -> Value { wrap(api.pointee.sigmoid(g, node)) }
    public func softplus() -> Value { wrap(api.pointee.softplus(g, node)) }
    public func exp() -> Value { wrap(api.pointee.exp(g, node)) }
    public func log() -> Value { wrap(api.pointee.log(g, node)) }
    public func sqrt() -> Value { wrap(api.pointee.sqrt(g, node)) }
    public func square() -> Value { wrap(api.pointee.square(g, node)) }
    public func detached() -> Value { wrap(api.pointee.detach(g, node)) }

    // Rows of [N, K]
    public func logSoftmax() -> Value { wrap(api.pointee.log_softmax(g, node)) }
    public func logSumExp() -> Value { wrap(api.pointee.logsumexp(g, node)) }
    public func l2Normalized() -> Value { wrap(api.pointee.l2_normalize(g, node)) }

    // Reductions (all axes when `axes` is nil)
    public func sum(axes: [Int]? = nil, keepDims: Bool = false) -> Value { reduce(api.pointee.sum, axes, keepDims) }
    public func mean(axes: [Int]? = nil, keepDims: Bool = false) -> Value { reduce(api.pointee.mean, axes, keepDims) }

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
        return wrap(d.withUnsafeBufferPointer { api.pointee.reshape(g, node, $0.baseAddress, Int32(d.count)) })
    }
    public func slice(axis: Int, _ range: Range<Int>) -> Value {
        wrap(api.pointee.slice(g, node, Int32(axis), Int64(range.lowerBound), Int64(range.upperBound)))
    }
    public func permuted(_ order: [Int]) -> Value {
        let o = order.map { Int32($0) }
        return wrap(o.withUnsafeBufferPointer { api.pointee.permute(g, node, $0.baseAddress, Int32(o.count)) })
    }
    public var transposed: Value { permuted([1, 0]) }
    public func gatherRows(_ indices: [Int]) -> Value {
        let ix = indices.map { Int64($0) }
        return wrap(ix.withUnsafeBufferPointer { api.pointee.gather_rows(g, node, $0.baseAddress, Int64(ix.count)) })
    }
    public func scatterRows(_ indices: [Int], rows: Int) -> Value {
        let ix = indices.map { Int64($0) }
        return wrap(ix.withUnsafeBufferPointer { api.pointee.scatter_rows(g, node, $0.baseAddress, Int64(ix.count), Int64(rows)) })
    }

    // Layers
    public func linear(_ w: Value, _ b: Value? = nil) -> Value { wrap(api.pointee.linear(g, node, w.node, b?.node)) }
    public func matmul(_ other: Value, transposeSelf: Bool = false, transposeOther: Bool = false) -> Value {
        wrap(api.pointee.matmul(g, node, other.node, transposeSelf ? 1 : 0, transposeOther ? 1 : 0))
    }
    public func batchedMatmul(_ other: Value, transposeSelf: Bool = false, transposeOther: Bool = false) -> Value {
        wrap(api.pointee.batched_matmul(g, node, other.node, transposeSelf ? 1 : 0, transposeOther ? 1 : 0))
    }
    public func conv2d(_ w: Value, _ b: Value? = nil, stride: Int = 1, padding: Int = 0) -> Value {
        wrap(api.pointee.conv2d(g, node, w.node, b?.node, Int32(stride), Int32(padding)))
    }
    public func maxPool(_ k: Int, stride: Int? = nil) -> Value { wrap(api.pointee.max_pool(g, node, Int32(k), Int32(stride ?? k))) }
    /// Places self (shaped like `pooled`) at `pooled`'s max-pool switches.
    public func maxUnpool(switchesOf pooled: Value) -> Value { wrap(api.pointee.max_unpool(g, node, pooled.node)) }
    public func avgPool(_ k: Int, stride: Int? = nil) -> Value { wrap(api.pointee.avg_pool(g, node, Int32(k), Int32(stride ?? k))) }
    public func globalAvgPool() -> Value { wrap(api.pointee.global_avg_pool(g, node)) }
    public func upsample(_ factor: Int) -> Value { wrap(api.pointee.upsample_nearest(g, node, Int32(factor))) }
    public func batchNorm(_ gamma: Value, _ beta: Value, running: (mean: State, variance: State)?, momentum: Float = 0.1, eps: Float = 1e-5) -> Value {
        wrap(api.pointee.batch_norm(g, node, gamma.node, beta.node, running?.mean.handle, running?.variance.handle, momentum, eps))
    }
    /// max(batchNorm(...), 0) as the host's one fused op where it has it (ABI 1.1), else batchNorm
    /// then relu: the same values and gradients either way, one pass fewer over the activations
    /// each way when fused.
    public func batchNormReLU(_ gamma: Value, _ beta: Value, running: (mean: State, variance: State)?, momentum: Float = 0.1,
                              eps: Float = 1e-5) -> Value {
        guard let fused = graph.hostFunction(\.batch_norm_relu) else {
            return batchNorm(gamma, beta, running: running, momentum: momentum, eps: eps).relu()
        }
        return wrap(fused(g, node, gamma.node, beta.node, running?.mean.handle, running?.variance.handle, momentum, eps))
    }
    public func dropout(_ p: Float) -> Value { wrap(api.pointee.dropout(g, node, p)) }
    /// mean((self - other)²) over every element, self and other of one shape: the host's one op
    /// where it has it (ABI 1.2), else sub, square and mean — the same bits either way.
    public func meanSquaredError(_ other: Value) -> Value {
        guard let fused = graph.hostFunction(\.mean_squared_error) else { return (self - other).square().mean() }
        return wrap(fused(g, node, other.node))
    }
    public func affineWarp(_ theta: [Float], fill: Float) -> Value {
        wrap(theta.withUnsafeBufferPointer { api.pointee.affine_warp(g, node, $0.baseAddress, fill) })
    }
    /// One homography per image (h: B·9, row-major, output → input; see losskit.h). ABI 1.3: on an
    /// older host the graph fails with a message saying so.
    public func homographyWarp(_ h: [Float], fill: Float) -> Value {
        guard let warp = graph.hostFunction(\.homography_warp) else {
            graph.fail("homography_warp needs a host of ABI 1.3 or later")
            return wrap(nil)
        }
        return wrap(h.withUnsafeBufferPointer { warp(g, node, $0.baseAddress, fill) })
    }
    public func crossEntropy(labels: [Int32], mask: [UInt8]? = nil) -> Value {
        wrap(labels.withUnsafeBufferPointer { l in
            if let mask { return mask.withUnsafeBufferPointer { api.pointee.cross_entropy(g, node, l.baseAddress, $0.baseAddress) } }
            return api.pointee.cross_entropy(g, node, l.baseAddress, nil)
        })
    }
}

// Arithmetic with NumPy broadcasting; scalars on either side.
public func + (a: Value, b: Value) -> Value { a.wrap(a.api.pointee.add(a.g, a.node, b.node)) }
public func - (a: Value, b: Value) -> Value { a.wrap(a.api.pointee.sub(a.g, a.node, b.node)) }
public func * (a: Value, b: Value) -> Value { a.wrap(a.api.pointee.mul(a.g, a.node, b.node)) }
public func / (a: Value, b: Value) -> Value { a.wrap(a.api.pointee.div(a.g, a.node, b.node)) }
public func * (a: Value, s: Float) -> Value { a.wrap(a.api.pointee.scale(a.g, a.node, s)) }
public func * (s: Float, a: Value) -> Value { a * s }
public func / (a: Value, s: Float) -> Value { a * (1 / s) }
public func + (a: Value, c: Float) -> Value { a.wrap(a.api.pointee.add_scalar(a.g, a.node, c)) }
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
