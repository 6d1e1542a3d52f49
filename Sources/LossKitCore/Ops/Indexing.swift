/// Row gather and scatter on the first axis: NCE reads its memory bank rows by sample index,
/// and a batch can be split into its labelled and unlabelled rows.
extension Graph {
    /// out[i] = x[indices[i]] for x [N, ...]; gradients add back into the rows they came from
    /// (a row gathered twice receives both gradients).
    public func gatherRows(_ x: Node, _ indices: [Int32]) throws -> Node {
        let rows = x.shape.first ?? 0
        let width = x.value.count / max(rows, 1)
        for (i, r) in indices.enumerated() where r < 0 || Int(r) >= rows {
            throw ShapeError("gatherRows: index \(r) at position \(i) is outside 0..<\(rows)")
        }
        var shape = x.shape
        shape[0] = indices.count
        let out = Tensor(uninitialized: shape)
        let px = x.value.data, po = out.data
        parallelFor(indices.count, minChunk: 64) { lo, hi in
            for i in lo..<hi { (po + i * width).update(from: px + Int(indices[i]) * width, count: width) }
        }
        return record(out, op: "gather", inputs: [x]) { node in
            let g = node.grad!.data
            let gx = x.gradBuffer().data
            for (i, r) in indices.enumerated() {
                let dst = gx + Int(r) * width, src = g + i * width
                for k in 0..<width { dst[k] += src[k] }
            }
        }
    }

    /// out = zeros [rows, ...] with out[indices[i]] += x[i]; the inverse placement of gatherRows.
    public func scatterRows(_ x: Node, _ indices: [Int32], rows: Int) throws -> Node {
        guard let n = x.shape.first, n == indices.count else {
            throw ShapeError("scatterRows: \(indices.count) indices for \(shapeText(x.shape))")
        }
        let width = x.value.count / max(n, 1)
        for (i, r) in indices.enumerated() where r < 0 || Int(r) >= rows {
            throw ShapeError("scatterRows: index \(r) at position \(i) is outside 0..<\(rows)")
        }
        var shape = x.shape
        shape[0] = rows
        let out = Tensor(zeros: shape)
        let px = x.value.data, po = out.data
        for (i, r) in indices.enumerated() {
            let dst = po + Int(r) * width, src = px + i * width
            for k in 0..<width { dst[k] += src[k] }
        }
        return record(out, op: "scatter", inputs: [x]) { node in
            let g = node.grad!.data
            let gx = x.gradBuffer().data
            for (i, r) in indices.enumerated() {
                let dst = gx + i * width, src = g + Int(r) * width
                for k in 0..<width { dst[k] += src[k] }
            }
        }
    }
}
