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

    /// Σ g and Σ g·h over `n` floats.
    @inline(__always)
    static func sumAndDot(_ g: UnsafePointer<Float>, _ h: UnsafePointer<Float>, _ n: Int) -> (Float, Float) {
        var s = SIMD8<Float>(), d = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let gv = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
            let hv = UnsafeRawPointer(h + i).loadUnaligned(as: SIMD8<Float>.self)
            s += gv
            d += gv * hv
            i += 8
        }
        var ts = s.sum(), td = d.sum()
        while i < n { ts += g[i]; td += g[i] * h[i]; i += 1 }
        return (ts, td)
    }

    /// h = (x - mu)·inv and y = gamma·h + beta, element by element.
    @inline(__always)
    static func normalize(_ x: UnsafePointer<Float>, _ h: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                          _ n: Int, mu: Float, inv: Float, gamma: Float, beta: Float) {
        let vm = SIMD8<Float>(repeating: mu), vi = SIMD8<Float>(repeating: inv)
        let vg = SIMD8<Float>(repeating: gamma), vb = SIMD8<Float>(repeating: beta)
        var i = 0
        while i + 8 <= n {
            let hv = (UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - vm) * vi
            UnsafeMutableRawPointer(h + i).storeBytes(of: hv, as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: vg * hv + vb, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { let hv = (x[i] - mu) * inv; h[i] = hv; y[i] = gamma * hv + beta; i += 1 }
    }

    /// dx += k·(g - a - h·b): batch-norm's input gradient with a = mean(g), b = mean(g·h).
    @inline(__always)
    static func batchNormInputGradient(_ dx: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ h: UnsafePointer<Float>,
                                       _ n: Int, k: Float, a: Float, b: Float) {
        let vk = SIMD8<Float>(repeating: k), va = SIMD8<Float>(repeating: a), vb = SIMD8<Float>(repeating: b)
        var i = 0
        while i + 8 <= n {
            let gv = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
            let hv = UnsafeRawPointer(h + i).loadUnaligned(as: SIMD8<Float>.self)
            let dv = UnsafeRawPointer(dx + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(dx + i).storeBytes(of: dv + vk * (gv - va - hv * vb), as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { dx[i] += k * (g[i] - a - h[i] * b); i += 1 }
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
    static func reluGradient(_ dx: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) {
        let zero = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let gv = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
            let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            let dv = UnsafeRawPointer(dx + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(dx + i).storeBytes(of: dv + gv.replacing(with: zero, where: yv .<= zero), as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { if y[i] > 0 { dx[i] += g[i] }; i += 1 }
    }
}
