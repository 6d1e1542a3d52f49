import Foundation

extension Graph {
    /// Warps each image of x [B, C, H, W] by its own 2×3 matrix θ_b (theta [B, 2, 3], row-major),
    /// sampling bilinearly. Coordinates are normalised to [-1, 1] over pixel centres (PyTorch's
    /// `affine_grid` with align_corners=False), and output pixel p reads the input at θ_b·[p, 1]:
    /// θ maps output coordinates to input coordinates. Points outside the input read `fill`.
    ///
    /// The gradient flows to the images; θ is data (AET draws it), not a trainable input.
    public func affineWarp(_ x: Node, theta: [Float], fill: Float = 0) throws -> Node {
        let (B, _, _, _) = try nchw(x, "affineWarp")
        guard theta.count == B * 6 else {
            throw ShapeError("affineWarp: theta needs 6 values per image (\(B * 6)); got \(theta.count)")
        }
        return try sampledWarp(x, fill: fill) { b, xn, yn in
            let t = b * 6
            return (theta[t] * xn + theta[t + 1] * yn + theta[t + 2], theta[t + 3] * xn + theta[t + 4] * yn + theta[t + 5])
        }
    }

    /// Warps each image of x [B, C, H, W] by its own homography: a 3×3 matrix h_b (h [B, 3, 3],
    /// row-major) mapping output coordinates to input coordinates projectively, in the normalised
    /// coordinates of `affineWarp`: output pixel p reads the input at (u/w, v/w) with
    /// [u, v, w] = h_b·[p, 1]. Where w ≤ 0 (the point lies behind the projection) or the source is
    /// outside the input, it reads `fill`. A matrix whose last row is [0, 0, 1] gives `affineWarp`
    /// with θ its first two rows, to the bit.
    public func homographyWarp(_ x: Node, h: [Float], fill: Float = 0) throws -> Node {
        let (B, _, _, _) = try nchw(x, "homographyWarp")
        guard h.count == B * 9 else {
            throw ShapeError("homographyWarp: h needs 9 values per image (\(B * 9)); got \(h.count)")
        }
        guard h.allSatisfy(\.isFinite) else { throw ShapeError("homographyWarp: h has a value that is not finite") }
        return try sampledWarp(x, fill: fill) { b, xn, yn in
            let m = b * 9
            let u = h[m] * xn + h[m + 1] * yn + h[m + 2], v = h[m + 3] * xn + h[m + 4] * yn + h[m + 5]
            let w = h[m + 6] * xn + h[m + 7] * yn + h[m + 8]
            guard w > 0 else { return (-4, -4) }  // far outside: reads `fill`
            return w == 1 ? (u, v) : (u / w, v / w)
        }
    }

    /// Bilinear sampling of each output pixel at the input point `source(b, x, y)` gives for its
    /// normalised coordinates; the gradient scatters to the four input pixels read.
    private func sampledWarp(_ x: Node, fill: Float, source: (Int, Float, Float) -> (Float, Float)) throws -> Node {
        let (B, C, H, W) = try nchw(x, "warp")
        // Per output pixel: four source corners (flat index or -1) and their weights.
        let P = H * W
        var corner = [Int32](repeating: -1, count: B * P * 4)
        var weight = [Float](repeating: 0, count: B * P * 4)
        for b in 0..<B {
            for oy in 0..<H {
                let yn = (2 * Float(oy) + 1) / Float(H) - 1
                for ox in 0..<W {
                    let xn = (2 * Float(ox) + 1) / Float(W) - 1
                    let (sx, sy) = source(b, xn, yn)
                    let fx = ((sx + 1) * Float(W) - 1) / 2, fy = ((sy + 1) * Float(H) - 1) / 2
                    guard fx.isFinite, fy.isFinite, abs(fx) < 1e6, abs(fy) < 1e6 else {
                        weight[(b * P + oy * W + ox) * 4] = 1  // far outside: all of `fill`
                        continue
                    }
                    let x0 = Int(floor(fx)), y0 = Int(floor(fy))
                    let ax = fx - Float(x0), ay = fy - Float(y0)
                    let base = (b * P + oy * W + ox) * 4
                    let pts = [(x0, y0, (1 - ax) * (1 - ay)), (x0 + 1, y0, ax * (1 - ay)),
                               (x0, y0 + 1, (1 - ax) * ay), (x0 + 1, y0 + 1, ax * ay)]
                    for (k, (cx, cy, w)) in pts.enumerated() {
                        weight[base + k] = w
                        if cx >= 0, cx < W, cy >= 0, cy < H { corner[base + k] = Int32(cy * W + cx) }
                    }
                }
            }
        }
        return timed("elementwise") {
            let out = Tensor(uninitialized: x.shape)
            let px = x.value.data, po = out.data
            for b in 0..<B {
                for c in 0..<C {
                    let src = px + (b * C + c) * P, dst = po + (b * C + c) * P
                    for p in 0..<P {
                        let base = (b * P + p) * 4
                        var v: Float = 0
                        for k in 0..<4 {
                            let idx = corner[base + k]
                            v += weight[base + k] * (idx >= 0 ? src[Int(idx)] : fill)
                        }
                        dst[p] = v
                    }
                }
            }
            return record(out, op: "warp", inputs: [x]) { node in
                let g = node.grad!.data
                let gx = x.gradBuffer().data
                for b in 0..<B {
                    for c in 0..<C {
                        let src = g + (b * C + c) * P, dst = gx + (b * C + c) * P
                        for p in 0..<P {
                            let base = (b * P + p) * 4
                            for k in 0..<4 where corner[base + k] >= 0 {
                                dst[Int(corner[base + k])] += weight[base + k] * src[p]
                            }
                        }
                    }
                }
            }
        }
    }
}
