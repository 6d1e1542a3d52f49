/// Ops that move values without arithmetic: reshape (free: a view), slice, concat, permute.
extension Graph {
    /// The same values in another shape; one dimension may be -1 (inferred).
    public func reshape(_ x: Node, _ shape: [Int]) throws -> Node {
        var target = shape
        if let i = shape.firstIndex(of: -1) {
            let known = shape.filter { $0 != -1 }.reduce(1, *)
            guard known > 0, x.value.count % known == 0, shape.filter({ $0 == -1 }).count == 1 else {
                throw ShapeError("reshape: cannot infer -1 in \(shape) from \(shapeText(x.shape))")
            }
            target[i] = x.value.count / known
        }
        let out = try x.value.reshaped(target)
        return record(out, op: "reshape", inputs: [x]) { node in
            let g = node.grad!.data
            let gx = x.gradBuffer().data
            for i in 0..<x.value.count { gx[i] += g[i] }
        }
    }

    /// [N, d1, d2, ...] → [N, d1·d2·...].
    public func flatten(_ x: Node) throws -> Node {
        try reshape(x, [x.shape.first ?? 1, -1])
    }

    /// Elements `start..<end` along `axis`.
    public func slice(_ x: Node, axis: Int, start: Int, end: Int) throws -> Node {
        let a = try normalizeAxis(axis, rank: x.shape.count, op: "slice")
        let dim = x.shape[a]
        guard start >= 0, end <= dim, start < end else {
            throw ShapeError("slice: range \(start)..<\(end) is outside 0..<\(dim) on axis \(axis) of \(shapeText(x.shape))")
        }
        let outer = x.shape[..<a].reduce(1, *), inner = x.shape[(a + 1)...].reduce(1, *)
        var shape = x.shape
        shape[a] = end - start
        let width = (end - start) * inner
        let out = Tensor(uninitialized: shape)
        let px = x.value.data, po = out.data
        for o in 0..<outer {
            (po + o * width).update(from: px + (o * dim + start) * inner, count: width)
        }
        return record(out, op: "slice", inputs: [x]) { node in
            let g = node.grad!.data
            let gx = x.gradBuffer().data
            for o in 0..<outer {
                let dst = gx + (o * dim + start) * inner, src = g + o * width
                for i in 0..<width { dst[i] += src[i] }
            }
        }
    }

    /// Joins nodes along `axis`; all other dimensions must agree.
    public func concat(_ xs: [Node], axis: Int) throws -> Node {
        guard let first = xs.first else { throw ShapeError("concat of no nodes") }
        let a = try normalizeAxis(axis, rank: first.shape.count, op: "concat")
        for x in xs where x.shape.count != first.shape.count
            || x.shape.enumerated().contains(where: { $0.offset != a && $0.element != first.shape[$0.offset] }) {
            throw ShapeError("concat on axis \(axis): \(shapeText(x.shape)) does not match \(shapeText(first.shape)) off that axis")
        }
        let outer = first.shape[..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *)
        let total = xs.reduce(0) { $0 + $1.shape[a] }
        var shape = first.shape
        shape[a] = total
        let out = Tensor(uninitialized: shape)
        var offsets: [Int] = []
        var off = 0
        for x in xs {
            offsets.append(off)
            let w = x.shape[a] * inner
            for o in 0..<outer {
                (out.data + (o * total + off) * inner).update(from: x.value.data + o * w, count: w)
            }
            off += x.shape[a]
        }
        return record(out, op: "concat", inputs: xs) { node in
            let g = node.grad!.data
            for (x, off) in zip(xs, offsets) where x.requiresGrad {
                let w = x.shape[a] * inner
                let gx = x.gradBuffer().data
                for o in 0..<outer {
                    let src = g + (o * total + off) * inner, dst = gx + o * w
                    for i in 0..<w { dst[i] += src[i] }
                }
            }
        }
    }

    /// Reorders dimensions: output dimension i is input dimension `order[i]`.
    public func permute(_ x: Node, _ order: [Int]) throws -> Node {
        let rank = x.shape.count
        guard order.count == rank, Set(order) == Set(0..<rank) else {
            throw ShapeError("permute: \(order) is not a permutation of the \(rank) axes of \(shapeText(x.shape))")
        }
        let outShape = order.map { x.shape[$0] }
        var inStrides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { inStrides[d] = inStrides[d + 1] * x.shape[d + 1] }
        let strides = order.map { inStrides[$0] }  // input stride of each output dimension
        let n = x.value.count
        var map = [Int](repeating: 0, count: n)   // output flat index → input flat index
        var idx = [Int](repeating: 0, count: rank)
        var src = 0
        for o in 0..<n {
            map[o] = src
            var d = rank - 1
            while d >= 0 {
                idx[d] += 1
                src += strides[d]
                if idx[d] < outShape[d] { break }
                src -= strides[d] * outShape[d]
                idx[d] = 0
                d -= 1
            }
        }
        let out = Tensor(uninitialized: outShape)
        let px = x.value.data, po = out.data
        for o in 0..<n { po[o] = px[map[o]] }
        return record(out, op: "permute", inputs: [x]) { node in
            let g = node.grad!.data
            let gx = x.gradBuffer().data
            for o in 0..<n { gx[map[o]] += g[o] }
        }
    }

    /// The transpose of a 2-D node.
    public func transpose(_ x: Node) throws -> Node {
        guard x.shape.count == 2 else { throw ShapeError("transpose needs a 2-D node; got \(shapeText(x.shape))") }
        return try permute(x, [1, 0])
    }
}
