/// Matrix products. `matmul(a, b)` is `op(a) · op(b)` for 2-D nodes; `linear` adds a bias row;
/// `batchedMatmul` multiplies matching pairs of a batch of matrices.
extension Graph {
    /// `op(a) · op(b)` where op transposes when asked: a is m×k (or k×m), b is k×n (or n×k).
    /// Gradients: dA = dC · op(b)ᵀ, dB = op(a)ᵀ · dC (transposed back when a or b was).
    public func matmul(_ a: Node, _ b: Node, transposeA: Bool = false, transposeB: Bool = false) throws -> Node {
        guard a.shape.count == 2, b.shape.count == 2 else {
            throw ShapeError("matmul needs 2-D operands; got \(shapeText(a.shape)) and \(shapeText(b.shape))")
        }
        let m = transposeA ? a.shape[1] : a.shape[0]
        let k = transposeA ? a.shape[0] : a.shape[1]
        let kb = transposeB ? b.shape[1] : b.shape[0]
        let n = transposeB ? b.shape[0] : b.shape[1]
        guard k == kb else {
            throw ShapeError("matmul: inner dimensions differ: \(shapeText(a.shape))\(transposeA ? "ᵀ" : "") · \(shapeText(b.shape))\(transposeB ? "ᵀ" : "") (\(k) vs \(kb))")
        }
        return timed("gemm") {
            let prof = profiler  // captured by value: the closure must not retain the graph
            let out = Tensor(uninitialized: [m, n])
            sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, a: a.value.data, b: b.value.data, c: out.data)
            let work = 2 * Double(m) * Double(n) * Double(k)
            profiler?.addFlops(work)
            return record(out, op: "gemm", inputs: [a, b]) { node in
                prof?.addFlops(work * Double((a.requiresGrad ? 1 : 0) + (b.requiresGrad ? 1 : 0)))
                let g = node.grad!.data
                if a.requiresGrad {
                    let ga = a.gradBuffer().data
                    if transposeA {  // a is k×m: dA = op(b) · dCᵀ
                        sgemm(transA: transposeB, transB: true, m: k, n: m, k: n, a: b.value.data, b: g, beta: 1, c: ga)
                    } else {  // a is m×k: dA = dC · op(b)ᵀ
                        sgemm(transA: false, transB: !transposeB, m: m, n: k, k: n, a: g, b: b.value.data, beta: 1, c: ga)
                    }
                }
                if b.requiresGrad {
                    let gb = b.gradBuffer().data
                    if transposeB {  // b is n×k: dB = dCᵀ · op(a)
                        sgemm(transA: true, transB: transposeA, m: n, n: k, k: m, a: g, b: a.value.data, beta: 1, c: gb)
                    } else {  // b is k×n: dB = op(a)ᵀ · dC
                        sgemm(transA: !transposeA, transB: false, m: k, n: n, k: m, a: a.value.data, b: g, beta: 1, c: gb)
                    }
                }
            }
        }
    }

    /// x·Wᵀ + b with x [N, in], W [out, in] (PyTorch's layout), b [out].
    public func linear(_ x: Node, weight: Node, bias: Node?) throws -> Node {
        let y = try matmul(x, weight, transposeB: true)
        guard let bias else { return y }
        return try add(y, bias)
    }

    /// For each i: C_i = op(A_i) · op(B_i), with a [batch, m, k] and b [batch, k, n] (or
    /// transposed per matrix). NCE scores each row's own noise samples this way.
    public func batchedMatmul(_ a: Node, _ b: Node, transposeA: Bool = false, transposeB: Bool = false) throws -> Node {
        guard a.shape.count == 3, b.shape.count == 3, a.shape[0] == b.shape[0] else {
            throw ShapeError("batchedMatmul needs [batch, m, k] and [batch, k, n]; got \(shapeText(a.shape)) and \(shapeText(b.shape))")
        }
        let batch = a.shape[0]
        let m = transposeA ? a.shape[2] : a.shape[1], k = transposeA ? a.shape[1] : a.shape[2]
        let kb = transposeB ? b.shape[2] : b.shape[1], n = transposeB ? b.shape[1] : b.shape[2]
        guard k == kb else {
            throw ShapeError("batchedMatmul: inner dimensions differ (\(k) vs \(kb)) for \(shapeText(a.shape)) and \(shapeText(b.shape))")
        }
        let sa = m * k, sb = k * n, sc = m * n
        return timed("gemm") {
            let prof = profiler  // captured by value: the closure must not retain the graph
            let out = Tensor(uninitialized: [batch, m, n])
            let pa = a.value.data, pb = b.value.data, po = out.data
            parallelFor(batch) { lo, hi in
                for i in lo..<hi {
                    sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, a: pa + i * sa, b: pb + i * sb, c: po + i * sc)
                }
            }
            let work = 2 * Double(batch) * Double(m) * Double(n) * Double(k)
            profiler?.addFlops(work)
            return record(out, op: "gemm", inputs: [a, b]) { node in
                prof?.addFlops(work * Double((a.requiresGrad ? 1 : 0) + (b.requiresGrad ? 1 : 0)))
                let g = node.grad!.data
                if a.requiresGrad {
                    let ga = a.gradBuffer().data
                    for i in 0..<batch {
                        if transposeA {
                            sgemm(transA: transposeB, transB: true, m: k, n: m, k: n, a: pb + i * sb, b: g + i * sc, beta: 1, c: ga + i * sa)
                        } else {
                            sgemm(transA: false, transB: !transposeB, m: m, n: k, k: n, a: g + i * sc, b: pb + i * sb, beta: 1, c: ga + i * sa)
                        }
                    }
                }
                if b.requiresGrad {
                    let gb = b.gradBuffer().data
                    for i in 0..<batch {
                        if transposeB {
                            sgemm(transA: true, transB: transposeA, m: n, n: k, k: m, a: g + i * sc, b: pa + i * sa, beta: 1, c: gb + i * sb)
                        } else {
                            sgemm(transA: !transposeA, transB: false, m: k, n: n, k: m, a: pa + i * sa, b: g + i * sc, beta: 1, c: gb + i * sb)
                        }
                    }
                }
            }
        }
    }
}
