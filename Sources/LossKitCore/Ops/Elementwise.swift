import Foundation

/// Element-wise arithmetic with broadcasting: `a ± b`, `a · b`, `a / b`, and scalar forms.
/// The gradient of a broadcast operand is summed over the dimensions it was repeated along.
extension Graph {
    public func add(_ a: Node, _ b: Node) throws -> Node { try binary(a, b, "add", .add) }
    public func sub(_ a: Node, _ b: Node) throws -> Node { try binary(a, b, "sub", .sub) }
    public func mul(_ a: Node, _ b: Node) throws -> Node { try binary(a, b, "mul", .mul) }
    public func div(_ a: Node, _ b: Node) throws -> Node { try binary(a, b, "div", .div) }

    enum BinaryKind { case add, sub, mul, div }

    func binary(_ a: Node, _ b: Node, _ name: String, _ kind: BinaryKind) throws -> Node {
        try timed("elementwise") {
            if a.shape == b.shape { return sameShapeBinary(a, b, name, kind) }
            let plan = try Broadcast(a.shape, b.shape, op: name)
            let out = Tensor(uninitialized: plan.shape)
            let pa = a.value.data, pb = b.value.data, po = out.data
            plan.forEachRow { o, ia, ib, n, sa, sb in
                for k in 0..<n {
                    let x = pa[ia + k * sa], y = pb[ib + k * sb]
                    switch kind {
                    case .add: po[o + k] = x + y
                    case .sub: po[o + k] = x - y
                    case .mul: po[o + k] = x * y
                    case .div: po[o + k] = x / y
                    }
                }
            }
            return record(out, op: name, inputs: [a, b]) { node in
                let g = node.grad!.data
                if a.requiresGrad {
                    let ga = a.gradBuffer().data
                    plan.forEachRow { o, ia, ib, n, sa, sb in
                        for k in 0..<n {
                            switch kind {
                            case .add, .sub: ga[ia + k * sa] += g[o + k]
                            case .mul: ga[ia + k * sa] += g[o + k] * pb[ib + k * sb]
                            case .div: ga[ia + k * sa] += g[o + k] / pb[ib + k * sb]
                            }
                        }
                    }
                }
                if b.requiresGrad {
                    let gb = b.gradBuffer().data
                    plan.forEachRow { o, ia, ib, n, sa, sb in
                        for k in 0..<n {
                            switch kind {
                            case .add: gb[ib + k * sb] += g[o + k]
                            case .sub: gb[ib + k * sb] -= g[o + k]
                            case .mul: gb[ib + k * sb] += g[o + k] * pa[ia + k * sa]
                            case .div:
                                let y = pb[ib + k * sb]
                                gb[ib + k * sb] -= g[o + k] * pa[ia + k * sa] / (y * y)
                            }
                        }
                    }
                }
            }
        }
    }

    private func sameShapeBinary(_ a: Node, _ b: Node, _ name: String, _ kind: BinaryKind) -> Node {
        let n = a.value.count
        let out = Tensor(uninitialized: a.shape)
        let pa = a.value.data, pb = b.value.data, po = out.data
        // split over threads from 32 Ki elements, as the other element-wise ops
        parallelFor(n, minChunk: 1 << 15) { lo, hi in
            switch kind {
            case .add: for i in lo..<hi { po[i] = pa[i] + pb[i] }
            case .sub: for i in lo..<hi { po[i] = pa[i] - pb[i] }
            case .mul: for i in lo..<hi { po[i] = pa[i] * pb[i] }
            case .div: for i in lo..<hi { po[i] = pa[i] / pb[i] }
            }
        }
        return record(out, op: name, inputs: [a, b]) { node in
            let g = node.grad!.data
            if a.requiresGrad {
                let ga = a.gradBuffer().data
                parallelFor(n, minChunk: 1 << 15) { lo, hi in
                    switch kind {
                    case .add, .sub: for i in lo..<hi { ga[i] += g[i] }
                    case .mul: for i in lo..<hi { ga[i] += g[i] * pb[i] }
                    case .div: for i in lo..<hi { ga[i] += g[i] / pb[i] }
                    }
                }
            }
            if b.requiresGrad {
                let gb = b.gradBuffer().data
                parallelFor(n, minChunk: 1 << 15) { lo, hi in
                    switch kind {
                    case .add: for i in lo..<hi { gb[i] += g[i] }
                    case .sub: for i in lo..<hi { gb[i] -= g[i] }
                    case .mul: for i in lo..<hi { gb[i] += g[i] * pa[i] }
                    case .div: for i in lo..<hi { gb[i] -= g[i] * pa[i] / (pb[i] * pb[i]) }
                    }
                }
            }
        }
    }

    /// `s · x`.
    public func scale(_ x: Node, _ s: Float) -> Node {
        unary(x, "scale", { $0 * s }, { _, _ in s })
    }

    /// `x + c`.
    public func addScalar(_ x: Node, _ c: Float) -> Node {
        unary(x, "add-scalar", { $0 + c }, { _, _ in 1 })
    }

    /// Applies `f` element-wise; `df(x, y)` is the derivative given the input and the output.
    /// Split over threads from 32 Ki elements. `df` is kept for the backward pass and called as a
    /// closure per element (`perf` showed `f` not inlined either): an op hot on large tensors,
    /// such as `square`, has loops of its own.
    func unary(_ x: Node, _ name: String, _ f: (Float) -> Float, _ df: @escaping (Float, Float) -> Float) -> Node {
        timed("elementwise") {
            let n = x.value.count
            let out = Tensor(uninitialized: x.shape)
            let px = x.value.data, po = out.data
            parallelFor(n, minChunk: 1 << 15) { lo, hi in
                for i in lo..<hi { po[i] = f(px[i]) }
            }
            return record(out, op: name, inputs: [x]) { node in
                let g = node.grad!.data
                let (gx, accumulate) = x.gradBufferForWriting()
                parallelFor(n, minChunk: 1 << 15) { lo, hi in
                    if accumulate {
                        for i in lo..<hi { gx[i] += g[i] * df(px[i], po[i]) }
                    } else {
                        for i in lo..<hi { gx[i] = g[i] * df(px[i], po[i]) }
                    }
                }
            }
        }
    }
}
