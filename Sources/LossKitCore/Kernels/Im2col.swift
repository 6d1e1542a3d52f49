/// Geometry of a 2-D convolution or pooling window over an NCHW batch.
public struct ConvGeometry: Equatable {
    public let batch: Int, channels: Int, height: Int, width: Int
    public let kernelH: Int, kernelW: Int, stride: Int, padding: Int
    public var outH: Int { (height + 2 * padding - kernelH) / stride + 1 }
    public var outW: Int { (width + 2 * padding - kernelW) / stride + 1 }
    /// Rows of the column matrix: one per (channel, kernel row, kernel column).
    public var patchSize: Int { channels * kernelH * kernelW }
    /// Columns of the column matrix: one per (image, output position).
    public var columns: Int { batch * outH * outW }
}

/// Unfolds every receptive field of `x` into a column of `col` [patchSize, batch·outH·outW], so
/// the whole batch's convolution is one large GEMM (large BLAS calls run near peak; a GEMM per
/// image on 7×7 maps would not). Rows are split across threads; each row is written by one.
public func im2col(_ x: UnsafePointer<Float>, _ geo: ConvGeometry, _ col: UnsafeMutablePointer<Float>) {
    let (H, W, Ho, Wo) = (geo.height, geo.width, geo.outH, geo.outW)
    let (kh, kw, s, p) = (geo.kernelH, geo.kernelW, geo.stride, geo.padding)
    let plane = Ho * Wo, cols = geo.columns
    parallelFor(geo.patchSize) { lo, hi in
        for row in lo..<hi {
            let c = row / (kh * kw), i = (row / kw) % kh, j = row % kw
            let dstRow = col + row * cols
            for b in 0..<geo.batch {
                let src = x + (b * geo.channels + c) * H * W
                let dst = dstRow + b * plane
                for oy in 0..<Ho {
                    let iy = oy * s - p + i
                    let d = dst + oy * Wo
                    if iy < 0 || iy >= H {
                        d.update(repeating: 0, count: Wo)
                        continue
                    }
                    let srow = src + iy * W
                    if s == 1 {
                        // ix = ox - p + j: copy the in-range span, zero the padded edges
                        let lo = max(0, p - j), hi = min(Wo, W + p - j)
                        if lo > 0 { d.update(repeating: 0, count: lo) }
                        if hi > lo { (d + lo).update(from: srow + lo - p + j, count: hi - lo) }
                        if hi < Wo { (d + max(hi, 0)).update(repeating: 0, count: Wo - max(hi, 0)) }
                    } else {
                        for ox in 0..<Wo {
                            let ix = ox * s - p + j
                            d[ox] = (ix >= 0 && ix < W) ? srow[ix] : 0
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of `im2col`: adds every column entry back onto the input position it was read
/// from. Split by channel across threads so no two threads write the same input plane.
public func col2im(_ col: UnsafePointer<Float>, _ geo: ConvGeometry, _ dx: UnsafeMutablePointer<Float>) {
    let (H, W, Ho, Wo) = (geo.height, geo.width, geo.outH, geo.outW)
    let (kh, kw, s, p) = (geo.kernelH, geo.kernelW, geo.stride, geo.padding)
    let plane = Ho * Wo, cols = geo.columns
    parallelFor(geo.channels) { lo, hi in
        for c in lo..<hi {
            for i in 0..<kh {
                for j in 0..<kw {
                    let srcRow = col + ((c * kh + i) * kw + j) * cols
                    for b in 0..<geo.batch {
                        let dst = dx + (b * geo.channels + c) * H * W
                        let src = srcRow + b * plane
                        for oy in 0..<Ho {
                            let iy = oy * s - p + i
                            if iy < 0 || iy >= H { continue }
                            let drow = dst + iy * W, srow = src + oy * Wo
                            if s == 1 {
                                let lo = max(0, p - j), hi = min(Wo, W + p - j)
                                if hi > lo {
                                    let d = drow + lo - p + j, sr = srow + lo
                                    for k in 0..<(hi - lo) { d[k] += sr[k] }
                                }
                            } else {
                                for ox in 0..<Wo {
                                    let ix = ox * s - p + j
                                    if ix >= 0 && ix < W { drow[ix] += srow[ox] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
