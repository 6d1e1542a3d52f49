/// Reductions and point-wise loops over contiguous floats, written with 8-wide SIMD accumulators.
///
/// Swift keeps floating-point additions in source order, so a plain `for` loop summing into one
/// `Float` cannot be vectorised by the compiler; these loops are the batch-norm and ReLU hot
/// paths (about a sixth of a training step when scalar). Eight partial sums change the rounding
/// order, not the result beyond Float rounding.
enum Vectorized {
    /// Σ x and Σ x² over `n` floats.
    @inline(__always)
    static func sumAndSquares(_ x: UnsafePointer<Float>, _ n: Int) -> (Float, Float) {
        var s = SIMD8<Float>(), s2 = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            s += v
            s2 += v * v
            i += 8
        }
        var ts = s.sum(), ts2 = s2.sum()
        while i < n { let v = x[i]; ts += v; ts2 += v * v; i += 1 }
        return (ts, ts2)
    }

    /// Σ g and Σ g·(x - mu)·inv over `n` floats: batch-norm's Σ dy and Σ dy·x̂ with x̂ recomputed.
    /// With a `mask` (a fused ReLU's output), g counts only where the mask is positive.
    @inline(__always)
    static func sumAndNormalizedDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, mu: Float, inv: Float,
                                    mask: UnsafePointer<Float>? = nil) -> (Float, Float) {
        let vm = SIMD8<Float>(repeating: mu)
        var s = SIMD8<Float>(), d = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let gv = maskedLoad(g, mask, i)
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            s += gv
            d += gv * (xv - vm)
            i += 8
        }
        var ts = s.sum(), td = d.sum()
        while i < n {
            let gi = maskedValue(g, mask, i)
            ts += gi; td += gi * (x[i] - mu); i += 1
        }
        return (ts, td * inv)
    }

    /// Eight floats of g from i, zero where `mask` (if any) is not positive.
    @inline(__always) static func maskedLoad(_ g: UnsafePointer<Float>, _ mask: UnsafePointer<Float>?, _ i: Int) -> SIMD8<Float> {
        let gv = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
        guard let mask else { return gv }
        return gv.replacing(with: 0, where: UnsafeRawPointer(mask + i).loadUnaligned(as: SIMD8<Float>.self) .<= 0)
    }

    @inline(__always) static func maskedValue(_ g: UnsafePointer<Float>, _ mask: UnsafePointer<Float>?, _ i: Int) -> Float {
        guard let mask else { return g[i] }
        return mask[i] > 0 ? g[i] : 0
    }

    /// y = gamma·(x - mu)·inv + beta, element by element; with `relu`, max(that, 0).
    @inline(__always)
    static func normalize(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
                          mu: Float, inv: Float, gamma: Float, beta: Float, relu: Bool = false) {
        let vm = SIMD8<Float>(repeating: mu), vk = SIMD8<Float>(repeating: gamma * inv), vb = SIMD8<Float>(repeating: beta)
        let zero = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            var v = vk * (xv - vm) + vb
            if relu { v.replace(with: zero, where: v .< zero) }
            UnsafeMutableRawPointer(y + i).storeBytes(of: v, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            let v = gamma * inv * (x[i] - mu) + beta
            y[i] = relu ? max(v, 0) : v
            i += 1
        }
    }

    /// dx (+)= k·(g - a - x̂·b) with x̂ = (x - mu)·inv: batch-norm's input gradient with a = mean(g),
    /// b = mean(g·x̂); stores instead of adding when not `accumulate`. With a `mask` (a fused
    /// ReLU's output), g is zero where the mask is not positive.
    @inline(__always)
    static func batchNormInputGradient(_ dx: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                                       _ n: Int, mu: Float, inv: Float, k: Float, a: Float, b: Float,
                                       mask: UnsafePointer<Float>? = nil, accumulate: Bool = true) {
        let vk = SIMD8<Float>(repeating: k), va = SIMD8<Float>(repeating: a), vb = SIMD8<Float>(repeating: b * inv)
        let vm = SIMD8<Float>(repeating: mu)
        var i = 0
        while i + 8 <= n {
            let gv = maskedLoad(g, mask, i)
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            var v = vk * (gv - va - (xv - vm) * vb)
            if accumulate { v += UnsafeRawPointer(dx + i).loadUnaligned(as: SIMD8<Float>.self) }
            UnsafeMutableRawPointer(dx + i).storeBytes(of: v, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            let v = k * (maskedValue(g, mask, i) - a - (x[i] - mu) * inv * b)
            dx[i] = accumulate ? dx[i] + v : v
            i += 1
        }
    }

    /// y = max(x, 0).
    @inline(__always)
    static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let zero = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: v.replacing(with: zero, where: v .< zero), as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { y[i] = max(x[i], 0); i += 1 }
    }

    /// dx += g where y > 0 (ReLU's gradient read from its output: y > 0 exactly when x > 0).
    @inline(__always)
    static func reluGradient(_ dx: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int,
                             accumulate: Bool = true) {
        let zero = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let gv = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
            let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            var v = gv.replacing(with: zero, where: yv .<= zero)
            if accumulate { v += UnsafeRawPointer(dx + i).loadUnaligned(as: SIMD8<Float>.self) }
            UnsafeMutableRawPointer(dx + i).storeBytes(of: v, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            let v = y[i] > 0 ? g[i] : 0
            dx[i] = accumulate ? dx[i] + v : v
            i += 1
        }
    }
}
