/// The mean squared error as one op, for reconstruction losses.
extension Graph {
    /// mean((a - b)²) over every element of two tensors of one shape → a scalar.
    /// Gradient: da = dy · 2(a - b)/n, db = -da.
    ///
    /// The same values and gradients, bit for bit, as `mean(square(sub(a, b)))`, which makes three
    /// passes and two activation-sized tensors forward and three passes back; this reads a and b
    /// once forward and writes their gradients in one pass back (SWWAE's reconstruction terms).
    public func meanSquaredError(_ a: Node, _ b: Node) throws -> Node {
        guard a.shape == b.shape else {
            throw ShapeError("meanSquaredError needs two tensors of one shape; got \(shapeText(a.shape)) and \(shapeText(b.shape))")
        }
        let n = a.value.count
        let scale = 1 / Float(max(n, 1))
        return timed("elementwise") {
            let pa = a.value.data, pb = b.value.data
            let sum = blockwiseSum(n) { kernels.sumOfSquaredDifferences(pa + $0, pb + $0, $1 - $0) }
            let out = Tensor(scalar: Float(sum) * scale)
            return record(out, op: "mse", inputs: [a, b]) { node in
                let v = node.grad!.data[0] * scale
                let ga = a.requiresGrad ? a.gradBufferForWriting() : nil
                let gb = b.requiresGrad ? b.gradBufferForWriting() : nil
                parallelFor(n, minChunk: 1 << 15) { lo, hi in
                    kernels.squaredErrorGradient(pa + lo, pb + lo, hi - lo, v: v, da: ga.map { $0.0 + lo }, accumulateA: ga?.1 ?? false,
                                                 db: gb.map { $0.0 + lo }, accumulateB: gb?.1 ?? false)
                }
            }
        }
    }
}
