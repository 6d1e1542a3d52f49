import LossKitKernelSupport

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

    /// Σ x over `n` floats, in Double: eight running sums (two vectors of four), added at the end.
    /// One running sum made every addition wait for the one before it; a loss's mean over a
    /// decoder's activations took 1 % of a `ce + swwae` step that way.
    static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
        var a = SIMD4<Double>(), b = SIMD4<Double>()
        var i = 0
        while i + 8 <= n {
            a += SIMD4<Double>(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD4<Float>.self))
            b += SIMD4<Double>(UnsafeRawPointer(x + i + 4).loadUnaligned(as: SIMD4<Float>.self))
            i += 8
        }
        var total = (a + b).sum()
        while i < n { total += Double(x[i]); i += 1 }
        return total
    }

    /// Σ (a - b)² over `n` floats, in Double, with `sum`'s running sums: the same bits as `sum`
    /// over the squared differences written out first.
    static func sumOfSquaredDifferences(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Double {
        var s = SIMD4<Double>(), t = SIMD4<Double>()
        var i = 0
        while i + 8 <= n {
            let d = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD4<Float>.self) - UnsafeRawPointer(b + i).loadUnaligned(as: SIMD4<Float>.self)
            let e = UnsafeRawPointer(a + i + 4).loadUnaligned(as: SIMD4<Float>.self)
                - UnsafeRawPointer(b + i + 4).loadUnaligned(as: SIMD4<Float>.self)
            s += SIMD4<Double>(d * d)
            t += SIMD4<Double>(e * e)
            i += 8
        }
        var total = (s + t).sum()
        while i < n { let d = a[i] - b[i]; total += Double(d * d); i += 1 }
        return total
    }

    /// The gradients of mean((a - b)²) for an upstream gradient folded into `v` (dy / n):
    /// t = v·(2(a - b)), da (+)= t, db (−)= t, each stored instead of added when not accumulating;
    /// either may be absent. The scalar formula lane by lane, so the same bits as a plain loop.
    static func squaredErrorGradient(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int, v: Float,
                                     da: UnsafeMutablePointer<Float>?, accumulateA: Bool,
                                     db: UnsafeMutablePointer<Float>?, accumulateB: Bool) {
        let vv = SIMD8<Float>(repeating: v), two = SIMD8<Float>(repeating: 2)
        var i = 0
        while i + 8 <= n {
            let t = vv * (two * (UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
                                 - UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)))
            if let da {
                let old = accumulateA ? UnsafeRawPointer(da + i).loadUnaligned(as: SIMD8<Float>.self) : SIMD8<Float>()
                UnsafeMutableRawPointer(da + i).storeBytes(of: accumulateA ? old + t : t, as: SIMD8<Float>.self)
            }
            if let db {
                let old = accumulateB ? UnsafeRawPointer(db + i).loadUnaligned(as: SIMD8<Float>.self) : SIMD8<Float>()
                UnsafeMutableRawPointer(db + i).storeBytes(of: accumulateB ? old - t : -t, as: SIMD8<Float>.self)
            }
            i += 8
        }
        while i < n {
            let t = v * (2 * (a[i] - b[i]))
            if let da { da[i] = accumulateA ? da[i] + t : t }
            if let db { db[i] = accumulateB ? db[i] - t : -t }
            i += 1
        }
    }

    /// `sumAndSquares` of each of `planes` consecutive planes of `plane` floats, as pairs into
    /// `moments` (Σ of plane i at 2i, Σ² at 2i + 1).
    static func planeMoments(_ x: UnsafePointer<Float>, planes: Int, plane: Int, into moments: UnsafeMutablePointer<Float>) {
        for i in 0..<planes {
            (moments[2 * i], moments[2 * i + 1]) = sumAndSquares(x + i * plane, plane)
        }
    }

    typealias ReLUAfterNorm = LossKitKernelSupport.ReLUAfterNorm

    /// Σ g and Σ g·(x - mu)·inv over `n` floats: batch-norm's Σ dy and Σ dy·x̂ with x̂ recomputed.
    /// With `relu`, g counts only where the fused ReLU's output was positive.
    @inline(__always)
    static func sumAndNormalizedDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, mu: Float, inv: Float,
                                    relu: ReLUAfterNorm? = nil) -> (Float, Float) {
        let vm = SIMD8<Float>(repeating: mu)
        var s = SIMD8<Float>(), d = SIMD8<Float>()
        var i = 0
        while i + 8 <= n {
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - vm
            var gv = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
            if let relu { gv = relu.mask(gv, centred: xv) }
            s += gv
            d += gv * xv
            i += 8
        }
        var ts = s.sum(), td = d.sum()
        while i < n {
            let xi = x[i] - mu
            let gi = relu.map { $0.mask(g[i], centred: xi) } ?? g[i]
            ts += gi; td += gi * xi; i += 1
        }
        return (ts, td * inv)
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
    /// b = mean(g·x̂); stores instead of adding when not `accumulate`. With `relu`, g is zero where
    /// the fused ReLU's output was not positive.
    @inline(__always)
    static func batchNormInputGradient(_ dx: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                                       _ n: Int, mu: Float, inv: Float, k: Float, a: Float, b: Float,
                                       relu: ReLUAfterNorm? = nil, accumulate: Bool = true) {
        let vk = SIMD8<Float>(repeating: k), va = SIMD8<Float>(repeating: a), vb = SIMD8<Float>(repeating: b * inv)
        let vm = SIMD8<Float>(repeating: mu)
        var i = 0
        while i + 8 <= n {
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - vm
            var gv = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
            if let relu { gv = relu.mask(gv, centred: xv) }
            var v = vk * (gv - va - xv * vb)
            if accumulate { v += UnsafeRawPointer(dx + i).loadUnaligned(as: SIMD8<Float>.self) }
            UnsafeMutableRawPointer(dx + i).storeBytes(of: v, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            let xi = x[i] - mu
            let v = k * ((relu.map { $0.mask(g[i], centred: xi) } ?? g[i]) - a - xi * inv * b)
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
