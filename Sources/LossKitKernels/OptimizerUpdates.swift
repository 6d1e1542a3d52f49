/// The optimiser's per-element updates (the formulas are `Optimizer`'s, in LossKitCore): one
/// pass over a parameter, its gradient and its moments. Each element's arithmetic is written
/// out in the order the optimiser defines, so every kernel build updates to the same bits.
enum OptimizerUpdates {
    /// g = ∇ + λw; m = μm + g; w -= lr·(g + μm) with Nesterov, else lr·m.
    static func sgd(_ w: UnsafeMutablePointer<Float>, _ grad: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ n: Int,
                    lr: Float, weightDecay wd: Float, momentum mu: Float, nesterov: Bool) {
        if nesterov {
            for i in 0..<n {
                let g = grad[i] + wd * w[i]
                m[i] = mu * m[i] + g
                w[i] -= lr * (g + mu * m[i])
            }
        } else {
            for i in 0..<n {
                let g = grad[i] + wd * w[i]
                m[i] = mu * m[i] + g
                w[i] -= lr * m[i]
            }
        }
    }

    /// g = ∇ + λw; m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²; w -= lr·(m / c1) / (√(v / c2) + ε),
    /// with c1 = 1 - β1ᵗ and c2 = 1 - β2ᵗ.
    static func adam(_ w: UnsafeMutablePointer<Float>, _ grad: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                     _ v: UnsafeMutablePointer<Float>, _ n: Int, lr: Float, weightDecay wd: Float,
                     beta1 b1: Float, beta2 b2: Float, c1: Float, c2: Float, epsilon: Float) {
        for i in 0..<n {
            let g = grad[i] + wd * w[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            w[i] -= lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
        }
    }
}
