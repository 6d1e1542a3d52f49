/// Sums and means over chosen axes. The reduced result is broadcast back over the input in the
/// backward pass, which is exactly what `Broadcast` walks.
extension Graph {
    /// Sum over `axes` (all axes when nil). Reduced axes are dropped unless `keepDims`.
    public func sum(_ x: Node, axes: [Int]? = nil, keepDims: Bool = false) throws -> Node {
        try reduce(x, axes: axes, keepDims: keepDims, mean: false)
    }

    /// Mean over `axes` (all axes when nil).
    public func mean(_ x: Node, axes: [Int]? = nil, keepDims: Bool = false) throws -> Node {
        try reduce(x, axes: axes, keepDims: keepDims, mean: true)
    }

    private func reduce(_ x: Node, axes: [Int]?, keepDims: Bool, mean: Bool) throws -> Node {
        let rank = x.shape.count
        let chosen = try Set((axes ?? Array(0..<rank)).map { try normalizeAxis($0, rank: rank, op: mean ? "mean" : "sum") })
        var kept = x.shape
        for d in chosen { kept[d] = 1 }
        let reducedCount = chosen.reduce(1) { $0 * x.shape[$1] }
        let scale: Float = mean ? 1 / Float(max(reducedCount, 1)) : 1
        let outShape = keepDims ? kept : x.shape.enumerated().filter { !chosen.contains($0.offset) }.map(\.element)
        let plan = try Broadcast(x.shape, kept, op: "sum")
        return timed("elementwise") {
            let out = Tensor(zeros: outShape)
            let px = x.value.data, po = out.data
            let n = x.value.count
            if out.count == 1 {
                // over everything (a loss's mean)
                po[0] = Float(blockwiseSum(n) { kernels.sum(px + $0, $1 - $0) }) * scale
            } else {
                plan.forEachRow { o, _, ib, n, _, sb in
                    for k in 0..<n { po[ib + k * sb] += px[o + k] }
                }
                if mean { for i in 0..<out.count { po[i] *= scale } }
            }
            return record(out, op: mean ? "mean" : "sum", inputs: [x]) { node in
                let g = node.grad!.data
                if out.count == 1 {
                    let v = g[0] * scale
                    let (gx, accumulate) = x.gradBufferForWriting()
                    parallelFor(n, minChunk: 1 << 15) { lo, hi in
                        if accumulate {
                            for i in lo..<hi { gx[i] += v }
                        } else {
                            (gx + lo).update(repeating: v, count: hi - lo)
                        }
                    }
                    return
                }
                let gx = x.gradBuffer().data
                plan.forEachRow { o, _, ib, n, _, sb in
                    for k in 0..<n { gx[o + k] += g[ib + k * sb] * scale }
                }
            }
        }
    }
}

func normalizeAxis(_ axis: Int, rank: Int, op: String) throws -> Int {
    let a = axis < 0 ? axis + rank : axis
    guard a >= 0, a < rank else { throw ShapeError("\(op): axis \(axis) is out of range for rank \(rank)") }
    return a
}
