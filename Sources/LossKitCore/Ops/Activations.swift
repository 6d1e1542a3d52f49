import Foundation

/// Point-wise non-linearities and functions: each is `y = f(x)` with `dy/dx` written beside it.
extension Graph {
    /// max(0, x).
    /// The hottest point-wise op of a convolutional encoder, so it has its own vectorised,
    /// multi-threaded kernel; NaN passes through forward (max keeps x when the comparison fails).
    public func relu(_ x: Node) -> Node {
        timed("relu") {
            let n = x.value.count
            let out = Tensor(uninitialized: x.shape)
            let px = x.value.data, po = out.data
            parallelFor(n, minChunk: 1 << 15) { lo, hi in kernels.relu(px + lo, po + lo, hi - lo) }
            return record(out, op: "relu", inputs: [x]) { node in
                let g = node.grad!.data
                let (gx, accumulate) = x.gradBufferForWriting()
                parallelFor(n, minChunk: 1 << 15) { lo, hi in
                    kernels.reluGradient(gx + lo, g + lo, po + lo, hi - lo, accumulate: accumulate)
                }
            }
        }
    }

    /// x for x > 0, slope·x otherwise.
    public func leakyRelu(_ x: Node, slope: Float = 0.2) -> Node {
        unary(x, "leaky-relu", { $0 > 0 ? $0 : slope * $0 }, { v, _ in v > 0 ? 1 : slope })
    }

    /// tanh x; derivative 1 - y².
    public func tanh(_ x: Node) -> Node { unary(x, "tanh", { Foundation.tanh($0) }, { _, y in 1 - y * y }) }

    /// 1 / (1 + e^-x); derivative y(1 - y).
    public func sigmoid(_ x: Node) -> Node {
        unary(x, "sigmoid", { 1 / (1 + Foundation.exp(-$0)) }, { _, y in y * (1 - y) })
    }

    /// log(1 + e^x), computed as max(x, 0) + log1p(e^-|x|) so it never overflows; derivative σ(x).
    public func softplus(_ x: Node) -> Node {
        unary(x, "softplus", { max($0, 0) + Foundation.log1p(Foundation.exp(-abs($0))) },
              { v, _ in 1 / (1 + Foundation.exp(-v)) })
    }

    public func exp(_ x: Node) -> Node { unary(x, "exp", { Foundation.exp($0) }, { _, y in y }) }

    /// Natural log; derivative 1/x.
    public func log(_ x: Node) -> Node { unary(x, "log", { Foundation.log($0) }, { v, _ in 1 / v }) }

    /// √x; derivative 1/(2√x).
    public func sqrt(_ x: Node) -> Node { unary(x, "sqrt", { $0.squareRoot() }, { _, y in 0.5 / y }) }

    /// x²; derivative 2x. Its own loops rather than `unary`'s closures: reconstruction losses
    /// square whole images and feature maps (SWWAE), and a closure call per element cost more
    /// than the arithmetic.
    public func square(_ x: Node) -> Node {
        timed("elementwise") {
            let n = x.value.count
            let out = Tensor(uninitialized: x.shape)
            let px = x.value.data, po = out.data
            parallelFor(n, minChunk: 1 << 15) { lo, hi in
                for i in lo..<hi { po[i] = px[i] * px[i] }
            }
            return record(out, op: "square", inputs: [x]) { node in
                let g = node.grad!.data
                let (gx, accumulate) = x.gradBufferForWriting()
                parallelFor(n, minChunk: 1 << 15) { lo, hi in
                    if accumulate {
                        for i in lo..<hi { gx[i] += g[i] * (2 * px[i]) }
                    } else {
                        for i in lo..<hi { gx[i] = g[i] * (2 * px[i]) }
                    }
                }
            }
        }
    }

    /// -x.
    public func neg(_ x: Node) -> Node { scale(x, -1) }
}
