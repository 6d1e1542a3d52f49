/// NumPy-style broadcasting of two shapes: dimensions align from the right, and a dimension of 1
/// (or a missing one) repeats. `forEach` visits every output element with the flat indices of
/// the two operands, running the innermost dimension as a tight strided loop.
struct Broadcast {
    let shape: [Int]
    let stridesA: [Int]
    let stridesB: [Int]

    init(_ a: [Int], _ b: [Int], op: String) throws {
        let rank = max(a.count, b.count)
        let pa = Array(repeating: 1, count: rank - a.count) + a
        let pb = Array(repeating: 1, count: rank - b.count) + b
        var out = [Int](repeating: 1, count: rank)
        for d in 0..<rank {
            if pa[d] == pb[d] || pb[d] == 1 { out[d] = pa[d] }
            else if pa[d] == 1 { out[d] = pb[d] }
            else {
                throw ShapeError("\(op): shapes \(shapeText(a)) and \(shapeText(b)) do not broadcast (dimension \(d) is \(pa[d]) vs \(pb[d]))")
            }
        }
        shape = out
        stridesA = Broadcast.strides(pa, out)
        stridesB = Broadcast.strides(pb, out)
    }

    /// Row-major strides of `s`, with 0 where the dimension is broadcast.
    static func strides(_ s: [Int], _ out: [Int]) -> [Int] {
        var st = [Int](repeating: 0, count: s.count)
        var acc = 1
        for d in stride(from: s.count - 1, through: 0, by: -1) {
            st[d] = (s[d] == 1 && out[d] != 1) ? 0 : acc
            acc *= s[d]
        }
        return st
    }

    /// Calls `body(out, ia, ja, n, sa, sb)` for each run of the innermost dimension: `n` output
    /// elements starting at flat output index `out`, operand A from `ia` in steps of `sa`, B
    /// likewise.
    func forEachRow(_ body: (Int, Int, Int, Int, Int, Int) -> Void) {
        let rank = shape.count
        if rank == 0 { body(0, 0, 0, 1, 0, 0); return }
        let inner = shape[rank - 1]
        let sa = stridesA[rank - 1], sb = stridesB[rank - 1]
        let rows = shape.reduce(1, *) / max(inner, 1)
        var idx = [Int](repeating: 0, count: rank)
        var ia = 0, ib = 0
        for r in 0..<rows {
            body(r * inner, ia, ib, inner, sa, sb)
            // odometer over the outer dimensions
            var d = rank - 2
            while d >= 0 {
                idx[d] += 1
                ia += stridesA[d]
                ib += stridesB[d]
                if idx[d] < shape[d] { break }
                ia -= stridesA[d] * shape[d]
                ib -= stridesB[d] * shape[d]
                idx[d] = 0
                d -= 1
            }
        }
    }
}
