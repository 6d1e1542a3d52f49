import Foundation

extension Graph {
    /// Warps each image of x [B, C, H, W] by its own 2×3 matrix θ_b (theta [B, 2, 3], row-major),
    /// sampling bilinearly. Coordinates are normalised to [-1, 1] over pixel centres (PyTorch's
    /// `affine_grid` with align_corners=False), and output pixel p reads the input at θ_b·[p, 1]:
    /// θ maps output coordinates to input coordinates. Points outside the input read `fill`.
    ///
    /// The gradient flows to the images; θ is data (AET draws it), not a trainable input.
    public func affineWarp(_ x: Node, theta: [Float], fill: Float = 0) throws -> Node {
        let (B, C, H, W) = try nchw(x, "affineWarp")
        guard theta.count == B * 6 else {
            throw ShapeError("affineWarp: theta needs 6 values per image (\(B * 6)); got \(theta.count)")
        }
        // Per output pixel: four source corners (flat index or -1) and their weights.
        let P = H * W
        var corner = [Int32](repeating: -1, count: B * P * 4)
        var weight = [Float](repeating: 0, count: B * P * 4)
        for b in 0..<B {
            let t = Array(theta[(b * 6)..<(b * 6 + 6)])
            for oy in 0..<H {
                let yn = (2 * Float(oy) + 1) / Float(H) - 1
                for ox in 0..<W {
                    let xn = (2 * Float(ox) + 1) / Float(W) - 1
                    let sx = t[0] * xn + t[1] * yn + t[2]
                    let sy = t[3] * xn + t[4] * yn + t[5]
                    let fx = ((sx + 1) * Float(W) - 1) / 2, fy = ((sy + 1) * Float(H) - 1) / 2
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
