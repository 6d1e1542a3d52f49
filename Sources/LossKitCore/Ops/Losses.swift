import Foundation

/// Row-wise softmax family on [N, K] nodes (classes along the last axis), written stably by
/// subtracting each row's maximum.
extension Graph {
    /// log softmax(x)_k = x_k - LSE(x). Gradient: dx = dy - softmax · Σ dy.
    public func logSoftmax(_ x: Node) throws -> Node {
        let (N, K) = try rows(x, "logSoftmax")
        return timed("elementwise") {
            let out = Tensor(uninitialized: x.shape)
            let px = x.value.data, po = out.data
            for r in 0..<N {
                let lse = rowLogSumExp(px + r * K, K)
                for k in 0..<K { po[r * K + k] = px[r * K + k] - lse }
            }
            return record(out, op: "softmax", inputs: [x]) { node in
                let g = node.grad!.data
                let gx = x.gradBuffer().data
                for r in 0..<N {
                    var s: Float = 0
                    for k in 0..<K { s += g[r * K + k] }
                    for k in 0..<K { gx[r * K + k] += g[r * K + k] - Foundation.exp(po[r * K + k]) * s }
                }
            }
        }
    }

    /// LSE(x) = log Σ_k exp(x_k) per row: [N, K] → [N]. Gradient: softmax(x) · dy.
    public func logSumExp(_ x: Node) throws -> Node {
        let (N, K) = try rows(x, "logSumExp")
        return timed("elementwise") {
            let out = Tensor(uninitialized: [N])
            let px = x.value.data
            for r in 0..<N { out.data[r] = rowLogSumExp(px + r * K, K) }
            return record(out, op: "softmax", inputs: [x]) { node in
                let g = node.grad!.data
                let gx = x.gradBuffer().data
                for r in 0..<N {
                    let lse = out.data[r]
                    for k in 0..<K { gx[r * K + k] += g[r] * Foundation.exp(px[r * K + k] - lse) }
                }
            }
        }
    }

    /// Mean cross-entropy -log softmax(logits)[label] over the rows where `mask` is true (all
    /// rows when nil). With no selected row the loss is 0 and no gradient flows: a batch without
    /// labelled rows contributes nothing to the supervised term.
    public func softmaxCrossEntropy(_ logits: Node, labels: [Int32], mask: [Bool]? = nil) throws -> Node {
        let (N, K) = try rows(logits, "softmaxCrossEntropy")
        guard labels.count == N else {
            throw ShapeError("softmaxCrossEntropy: \(labels.count) labels for \(N) rows")
        }
        if let mask, mask.count != N { throw ShapeError("softmaxCrossEntropy: mask has \(mask.count) rows, logits \(N)") }
        let selected = (0..<N).filter { mask?[$0] ?? true }
        for r in selected where labels[r] < 0 || Int(labels[r]) >= K {
            throw ShapeError("softmaxCrossEntropy: label \(labels[r]) in row \(r) is outside 0..<\(K)")
        }
        let inv = selected.isEmpty ? 0 : 1 / Float(selected.count)
        return timed("elementwise") {
            let px = logits.value.data
            var lses = [Float](repeating: 0, count: N)
            var loss: Double = 0
            for r in selected {
                lses[r] = rowLogSumExp(px + r * K, K)
                loss += Double(lses[r] - px[r * K + Int(labels[r])])
            }
            let out = Tensor(scalar: Float(loss) * inv)
            return record(out, op: "softmax", inputs: [logits]) { node in
                let g = node.grad!.data[0] * inv
                let gx = logits.gradBuffer().data
                for r in selected {
                    for k in 0..<K { gx[r * K + k] += g * Foundation.exp(px[r * K + k] - lses[r]) }
                    gx[r * K + Int(labels[r])] -= g
                }
            }
        }
    }

    func rows(_ x: Node, _ op: String) throws -> (Int, Int) {
        guard x.shape.count == 2, x.shape[1] > 0 else { throw ShapeError("\(op) needs [N, K] with K ≥ 1; got \(shapeText(x.shape))") }
        return (x.shape[0], x.shape[1])
    }
}

/// log Σ exp over `n` floats, shifted by the maximum so no term overflows.
@inline(__always)
func rowLogSumExp(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var m = -Float.infinity
    for k in 0..<n { m = max(m, p[k]) }
    if !m.isFinite { return m }
    var s: Float = 0
    for k in 0..<n { s += Foundation.exp(p[k] - m) }
    return m + Foundation.log(s)
}
