/// Pooling and its inverses on NCHW maps.
///
/// Max-pool records its **switches** — for each output, the flat position (y·W + x) of the
/// maximum inside its input plane — on the output node. Max-unpool puts values back at those
/// positions (SWWAE's "where"), and the max-pool gradient flows through them too.
extension Graph {
    /// k×k max-pool with the given stride (default k), no padding. Ties keep the first maximum.
    public func maxPool2d(_ x: Node, kernel: Int, stride: Int? = nil) throws -> Node {
        let s = stride ?? kernel
        let (B, C, H, W) = try nchw(x, "maxPool2d")
        guard kernel >= 1, s >= 1, H >= kernel, W >= kernel else {
            throw ShapeError("maxPool2d: kernel \(kernel) does not fit input \(shapeText(x.shape))")
        }
        let Ho = (H - kernel) / s + 1, Wo = (W - kernel) / s + 1
        return timed("pool") {
            let out = Tensor(uninitialized: [B, C, Ho, Wo])
            let px = x.value.data, po = out.data
            // every switch is written below, by the worker that owns its plane
            let switches = [Int32](unsafeUninitializedCapacity: B * C * Ho * Wo) { sw, initialized in
                initialized = B * C * Ho * Wo
                let swp = sw.baseAddress!
                parallelFor(B * C) { lo, hi in
                    for plane in lo..<hi {
                        let src = px + plane * H * W
                        let base = plane * Ho * Wo
                        if kernel == 2 && s == 2 {
                            kernels.maxPool2x2(src, height: H, width: W, into: po + base, switches: swp + base)
                            continue
                        }
                        for oy in 0..<Ho {
                            for ox in 0..<Wo {
                                var best = -Float.infinity
                                var where_ = (oy * s) * W + ox * s
                                for i in 0..<kernel {
                                    let row = (oy * s + i) * W + ox * s
                                    for j in 0..<kernel where src[row + j] > best {
                                        best = src[row + j]
                                        where_ = row + j
                                    }
                                }
                                po[base + oy * Wo + ox] = best
                                swp[base + oy * Wo + ox] = Int32(where_)
                            }
                        }
                    }
                }
            }
            let node = record(out, op: "pool", name: "maxpool", inputs: [x]) { node in
                let g = node.grad!.data
                let (gx, accumulate) = x.gradBufferForWriting()
                node.switches!.withUnsafeBufferPointer { sw in
                    let sw = sw.baseAddress!
                    parallelFor(B * C) { lo, hi in
                        for plane in lo..<hi {
                            let dst = gx + plane * H * W, base = plane * Ho * Wo
                            if !accumulate { dst.update(repeating: 0, count: H * W) }
                            for i in 0..<(Ho * Wo) { dst[Int(sw[base + i])] += g[base + i] }
                        }
                    }
                }
            }
            node.switches = switches
            node.switchesInputSize = (H, W)
            return node
        }
    }

    /// Puts each value of `x` [B, C, h, w] back at the position its max-pool `pooled` took it
    /// from, zeros elsewhere: output [B, C, H, W] with H×W the pooled input's size. `x` may be a
    /// decoder's map of the pooled output's shape; only `pooled`'s switches are read.
    public func maxUnpool2d(_ x: Node, switchesOf pooled: Node) throws -> Node {
        guard let switches = pooled.switches, let size = pooled.switchesInputSize else {
            throw ShapeError("maxUnpool2d: node '\(pooled.op)' carries no max-pool switches")
        }
        guard x.shape == pooled.shape else {
            throw ShapeError("maxUnpool2d: input \(shapeText(x.shape)) must have the pooled shape \(shapeText(pooled.shape))")
        }
        // a max-pool's own switches lie inside its input planes: no need to scan them again
        return unpool(x, switches: switches, height: size.height, width: size.width)
    }

    /// Max-unpool with explicit switches (flat positions within each H×W output plane).
    public func maxUnpool2d(_ x: Node, switches: [Int32], height H: Int, width W: Int) throws -> Node {
        let (B, C, h, w) = try nchw(x, "maxUnpool2d")
        guard switches.count == B * C * h * w else {
            throw ShapeError("maxUnpool2d: \(switches.count) switches for input \(shapeText(x.shape))")
        }
        if let bad = switches.first(where: { $0 < 0 || Int($0) >= H * W }) {
            throw ShapeError("maxUnpool2d: switch \(bad) is outside the \(H)×\(W) output plane")
        }
        return unpool(x, switches: switches, height: H, width: W)
    }

    /// `maxUnpool2d` on checked switches.
    private func unpool(_ x: Node, switches: [Int32], height H: Int, width W: Int) -> Node {
        let (B, C, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        return timed("pool") {
            let out = Tensor(uninitialized: [B, C, H, W])
            let px = x.value.data, po = out.data
            switches.withUnsafeBufferPointer { sw in
                let sw = sw.baseAddress!
                parallelFor(B * C) { lo, hi in
                    for plane in lo..<hi {
                        // each worker zeroes its own planes right before filling them (in cache)
                        let dst = po + plane * H * W, base = plane * h * w
                        dst.update(repeating: 0, count: H * W)
                        for i in 0..<(h * w) { dst[Int(sw[base + i])] += px[base + i] }
                    }
                }
            }
            return record(out, op: "pool", name: "maxunpool", inputs: [x]) { node in
                let g = node.grad!.data
                let (gx, accumulate) = x.gradBufferForWriting()
                switches.withUnsafeBufferPointer { sw in
                    let sw = sw.baseAddress!
                    parallelFor(B * C) { lo, hi in
                        for plane in lo..<hi {
                            let src = g + plane * H * W, base = plane * h * w
                            for i in 0..<(h * w) {
                                let v = src[Int(sw[base + i])]
                                gx[base + i] = accumulate ? gx[base + i] + v : v
                            }
                        }
                    }
                }
            }
        }
    }

    /// k×k average pool with the given stride (default k), no padding.
    public func avgPool2d(_ x: Node, kernel: Int, stride: Int? = nil) throws -> Node {
        let s = stride ?? kernel
        let (B, C, H, W) = try nchw(x, "avgPool2d")
        guard kernel >= 1, s >= 1, H >= kernel, W >= kernel else {
            throw ShapeError("avgPool2d: kernel \(kernel) does not fit input \(shapeText(x.shape))")
        }
        let Ho = (H - kernel) / s + 1, Wo = (W - kernel) / s + 1
        let inv = 1 / Float(kernel * kernel)
        return timed("pool") {
            let out = Tensor(uninitialized: [B, C, Ho, Wo])
            let px = x.value.data, po = out.data
            for plane in 0..<(B * C) {
                let src = px + plane * H * W
                for oy in 0..<Ho {
                    for ox in 0..<Wo {
                        var acc: Float = 0
                        for i in 0..<kernel { for j in 0..<kernel { acc += src[(oy * s + i) * W + ox * s + j] } }
                        po[(plane * Ho + oy) * Wo + ox] = acc * inv
                    }
                }
            }
            return record(out, op: "pool", name: "avgpool", inputs: [x]) { node in
                let g = node.grad!.data
                let gx = x.gradBuffer().data
                for plane in 0..<(B * C) {
                    let dst = gx + plane * H * W
                    for oy in 0..<Ho {
                        for ox in 0..<Wo {
                            let v = g[(plane * Ho + oy) * Wo + ox] * inv
                            for i in 0..<kernel { for j in 0..<kernel { dst[(oy * s + i) * W + ox * s + j] += v } }
                        }
                    }
                }
            }
        }
    }

    /// Mean over each H×W plane: [B, C, H, W] → [B, C].
    public func globalAvgPool(_ x: Node) throws -> Node {
        let (B, C, H, W) = try nchw(x, "globalAvgPool")
        let P = H * W
        let inv = 1 / Float(P)
        return timed("pool") {
            let out = Tensor(uninitialized: [B, C])
            let px = x.value.data, po = out.data
            for plane in 0..<(B * C) {
                var acc: Float = 0
                let src = px + plane * P
                for i in 0..<P { acc += src[i] }
                po[plane] = acc * inv
            }
            return record(out, op: "pool", name: "globalavgpool", inputs: [x]) { node in
                let g = node.grad!.data
                let gx = x.gradBuffer().data
                for plane in 0..<(B * C) {
                    let v = g[plane] * inv
                    let dst = gx + plane * P
                    for i in 0..<P { dst[i] += v }
                }
            }
        }
    }

    /// Nearest-neighbour upsampling by an integer factor: [B, C, H, W] → [B, C, fH, fW].
    public func upsampleNearest(_ x: Node, factor f: Int) throws -> Node {
        let (B, C, H, W) = try nchw(x, "upsampleNearest")
        guard f >= 1 else { throw ShapeError("upsampleNearest: factor must be ≥ 1; got \(f)") }
        let H2 = H * f, W2 = W * f
        return timed("pool") {
            let out = Tensor(uninitialized: [B, C, H2, W2])
            let px = x.value.data, po = out.data
            for plane in 0..<(B * C) {
                for y in 0..<H2 {
                    let src = px + plane * H * W + (y / f) * W, dst = po + (plane * H2 + y) * W2
                    for xx in 0..<W2 { dst[xx] = src[xx / f] }
                }
            }
            return record(out, op: "pool", name: "upsample", inputs: [x]) { node in
                let g = node.grad!.data
                let gx = x.gradBuffer().data
                for plane in 0..<(B * C) {
                    for y in 0..<H2 {
                        let dst = gx + plane * H * W + (y / f) * W, src = g + (plane * H2 + y) * W2
                        for xx in 0..<W2 { dst[xx / f] += src[xx] }
                    }
                }
            }
        }
    }

    /// A leaf holding `value` that carries `pooled`'s max-pool switches: an objective's pool tap
    /// as an independent input, for gradient checks with respect to the taps themselves.
    public func variable(_ value: Tensor, switchesOf pooled: Node) -> Node {
        let node = variable(value)
        node.switches = pooled.switches
        node.switchesInputSize = pooled.switchesInputSize
        return node
    }

    /// Gives `node` (a leaf of the same shape) `pooled`'s switches: a pool tap that is both an
    /// input whose gradient a check measures and the switches an un-pooling reads.
    public func attachSwitches(of pooled: Node, to node: Node) {
        node.switches = pooled.switches
        node.switchesInputSize = pooled.switchesInputSize
    }

    func nchw(_ x: Node, _ op: String) throws -> (Int, Int, Int, Int) {
        guard x.shape.count == 4 else { throw ShapeError("\(op) needs an NCHW input; got \(shapeText(x.shape))") }
        return (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    }
}
