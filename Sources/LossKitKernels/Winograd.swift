import LossKitKernelSupport

/// Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, 2016) for stride-1 3×3 convolutions:
/// each 2×2 output tile is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A for the 4×4 input tile d around it, so after
/// the transforms the convolution is 16 GEMMs of [O, C] · [C, tiles] with 16 multiplications per
/// tile and channel pair where the direct sum needs 36: 2.25× fewer FLOPs than im2col + GEMM.
///
/// Layouts: a transformed input V is [16, C, T] and a transformed output M is [16, O, T], where
/// ξ = 4·row + column indexes the 4×4 transform and t = (image·tilesH + tileY)·tilesW + tileX;
/// the ξ planes lie `WinogradTiles.planeStride` apart (C·T or O·T, a cache line more where that
/// is a multiple of 1 KiB), so the transforms take that stride from `geo`, never C·T. The
/// backward pass uses the adjoints of the same linear maps, so the gradients are those of exactly
/// the function the forward computed.
enum Winograd: WinogradTransform {
    static let outputTile = 2
    /// U[ξ, o, c] = (G g Gᵀ)[ξ] for every 3×3 filter g = w[o, c].
    static func transformFilters(_ w: UnsafePointer<Float>, outChannels O: Int, channels C: Int, into u: UnsafeMutablePointer<Float>) {
        let plane = O * C
        for oc in 0..<plane {
            let g = w + oc * 9
            // rows of G g (4 × 3), then columns of (G g) Gᵀ
            var r = [Float](repeating: 0, count: 12)
            for j in 0..<3 {
                let (a, b, c) = (g[j], g[3 + j], g[6 + j])
                r[j] = a
                r[3 + j] = 0.5 * (a + b + c)
                r[6 + j] = 0.5 * (a - b + c)
                r[9 + j] = c
            }
            for i in 0..<4 {
                let (a, b, c) = (r[3 * i], r[3 * i + 1], r[3 * i + 2])
                u[(4 * i) * plane + oc] = a
                u[(4 * i + 1) * plane + oc] = 0.5 * (a + b + c)
                u[(4 * i + 2) * plane + oc] = 0.5 * (a - b + c)
                u[(4 * i + 3) * plane + oc] = c
            }
        }
    }

    /// dw[o, c] += (Gᵀ dU G) for dU[ξ, o, c]: the adjoint of `transformFilters`.
    static func addFilterGradients(_ du: UnsafePointer<Float>, outChannels O: Int, channels C: Int, into dw: UnsafeMutablePointer<Float>) {
        let plane = O * C
        for oc in 0..<plane {
            // rows of Gᵀ dU (3 × 4), then columns of (Gᵀ dU) G
            var r = [Float](repeating: 0, count: 12)
            for j in 0..<4 {
                let (a, b, c, d) = (du[j * plane + oc], du[(4 + j) * plane + oc], du[(8 + j) * plane + oc], du[(12 + j) * plane + oc])
                r[j] = a + 0.5 * (b + c)
                r[4 + j] = 0.5 * (b - c)
                r[8 + j] = 0.5 * (b + c) + d
            }
            let g = dw + oc * 9
            for i in 0..<3 {
                let (a, b, c, d) = (r[4 * i], r[4 * i + 1], r[4 * i + 2], r[4 * i + 3])
                g[3 * i] += a + 0.5 * (b + c)
                g[3 * i + 1] += 0.5 * (b - c)
                g[3 * i + 2] += 0.5 * (b + c) + d
            }
        }
    }

    /// The tile transforms work on `width` horizontally adjacent tiles at once, one lane per tile.
    /// Four lanes: the default x86-64 target has 16 SSE registers, and 16 four-wide rows of a
    /// transform fit them where eight-wide ones spill (measured: the eight-wide output transform
    /// was a third of the convolution benchmark's time).
    typealias Lane = SIMD4<Float>
    static let width = Lane.scalarCount

    // The tile transforms work on `width` horizontally adjacent tiles at once (one lane per tile).
    // Tile tx reads padded columns 2tx…2tx+3, so each padded row is first split into its even and
    // odd columns (`Phases`, two phases): the four columns a row of tiles needs are then four
    // contiguous loads, even[tx], odd[tx], even[tx+1], odd[tx+1].

    /// `forEachPlane` over the input planes of `geo`, each with scratch for its padded plane split
    /// into even and odd columns (uninitialised): padded row r's even columns at
    /// `split + 2r · length`, its odd ones `length` further, and as much again for `Phases`' lines.
    @inline(__always) private static func forEachSplitPlane(
        _ geo: WinogradTiles,
        _ body: (_ plane: Int, _ image: Int, _ channel: Int, _ split: UnsafeMutablePointer<Float>, _ lines: UnsafeMutablePointer<Float>,
                 _ rows: Int, _ length: Int) -> Void
    ) {
        let rows = 2 * geo.tilesH + 2, length = Phases.length(geo.tilesW + 1 + width)
        forEachPlane(batch: geo.batch, channels: geo.channels, scratch: 4 * rows * length) { plane, b, c, buffer in
            body(plane, b, c, buffer.baseAddress!, buffer.baseAddress! + 2 * rows * length, rows, length)
        }
    }

    /// Calls `body(plane, image, channel, scratch)` for each of `batch · channels` image planes,
    /// planes split across threads, each thread with its own scratch of `floats`, zeroed once
    /// before its first plane (what `Phases.split` needs of its lines; a few KB a thread a call).
    @inline(__always) static func forEachPlane(
        batch: Int, channels: Int, scratch floats: Int,
        _ body: (_ plane: Int, _ image: Int, _ channel: Int, _ scratch: UnsafeMutableBufferPointer<Float>) -> Void
    ) {
        parallelFor(batch * channels) { lo, hi in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: floats) { buffer in
                buffer.initialize(repeating: 0)
                for plane in lo..<hi { body(plane, plane / channels, plane % channels, buffer) }
            }
        }
    }

    /// V = Bᵀ d B for every 4×4 input tile (zeros outside the image); image planes split across
    /// threads.
    static func transformInput(_ x: UnsafePointer<Float>, _ geo: WinogradTiles, into v: UnsafeMutablePointer<Float>) {
        let (C, H, W, p) = (geo.channels, geo.height, geo.width, geo.padding)
        let (th, tw, T) = (geo.tilesH, geo.tilesW, geo.tiles)
        let stride = geo.planeStride(rows: C)
        forEachSplitPlane(geo) { plane, b, c, split, lines, rows, length in
            let src = x + plane * H * W
            Phases.split(rows: rows, count: W, offset: p, phases: 2, length: length, into: split, lines: lines) { r in
                r - p >= 0 && r - p < H ? src + (r - p) * W : nil
            }
            let dst = v + c * T + b * geo.tilesPerImage
            for ty in 0..<th {
                for group in Swift.stride(from: 0, to: tw, by: width) {
                    let (t0, count) = tileGroup(geo, ty, group)
                    @inline(__always) func column(_ i: Int) -> Row {
                        let e = split + 2 * (2 * ty + i) * length + t0, o = e + length
                        return (loadLane(e), loadLane(o), loadLane(e + 1), loadLane(o + 1))
                    }
                    let (d0, d1, d2, d3) = (column(0), column(1), column(2), column(3))
                    let out = dst + ty * tw + t0
                    // rows of Bᵀ d, then each row's columns times B
                    @inline(__always) func store(_ count: Int) {
                        @inline(__always) func put(_ i: Int, _ r: Row) {
                            storeLane(r.0 - r.2, out + (4 * i) * stride, count)
                            storeLane(r.1 + r.2, out + (4 * i + 1) * stride, count)
                            storeLane(r.2 - r.1, out + (4 * i + 2) * stride, count)
                            storeLane(r.1 - r.3, out + (4 * i + 3) * stride, count)
                        }
                        put(0, (d0.0 - d2.0, d0.1 - d2.1, d0.2 - d2.2, d0.3 - d2.3))
                        put(1, (d1.0 + d2.0, d1.1 + d2.1, d1.2 + d2.2, d1.3 + d2.3))
                        put(2, (d2.0 - d1.0, d2.1 - d1.1, d2.2 - d1.2, d2.3 - d1.3))
                        put(3, (d1.0 - d3.0, d1.1 - d3.1, d1.2 - d3.2, d1.3 - d3.3))
                    }
                    // all but a plane's last group store whole lanes: a copy with no test per store
                    if count == width { store(width) } else { store(count) }
                }
            }
        }
    }

    /// dx += B dV Bᵀ added back onto every 4×4 input tile (the adjoint of `transformInput`).
    /// Neighbouring tiles overlap, so threads own whole image planes; the sums are gathered in an
    /// even/odd-split plane and interleaved into dx once.
    static func addInputGradient(_ dv: UnsafePointer<Float>, _ geo: WinogradTiles, into dx: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let (C, H, W, p) = (geo.channels, geo.height, geo.width, geo.padding)
        let (th, tw, T) = (geo.tilesH, geo.tilesW, geo.tiles)
        let stride = geo.planeStride(rows: C), end = (tw + width - 1) / width * width  // where the last group's carry lands
        forEachSplitPlane(geo) { plane, b, c, split, lines, rows, length in
            split.initialize(repeating: 0, count: 2 * rows * length)
            let src = dv + c * T + b * geo.tilesPerImage
            for ty in 0..<th {
                // Tile tx adds to even and odd columns tx and tx + 1. The part for tx + 1 is shifted
                // one lane in registers and carried into the next group, so each column is read and
                // written once: adding at tx and then at the overlapping tx + 1 made every second
                // load wait for the store before it (store forwarding fails on a straddled store).
                var carry = SIMD8<Float>()  // even then odd carries of the four rows
                for t0 in Swift.stride(from: 0, to: tw, by: width) {
                    let s = src + ty * tw + t0, count = min(width, tw - t0)
                    let (v0, v1, v2, v3) = loadTiles(s, stride: stride, count)
                    // rows of B dV, then each row's columns times Bᵀ, added at input row 2ty+i
                    @inline(__always) func add(_ i: Int, _ r: Row) {
                        let e = split + 2 * (2 * ty + i) * length + t0, o = e + length
                        // lanes past `count` are zero, so whole-vector adds stay exact
                        let nextEven = r.1 + r.2 - r.0, nextOdd = -r.3
                        addLane(r.0 + Lane(carry[i], nextEven[0], nextEven[1], nextEven[2]), e)
                        addLane(r.1 - r.2 + r.3 + Lane(carry[4 + i], nextOdd[0], nextOdd[1], nextOdd[2]), o)
                        carry[i] = nextEven[3]; carry[4 + i] = nextOdd[3]
                    }
                    add(0, v0)
                    add(1, (v1.0 - v2.0 + v3.0, v1.1 - v2.1 + v3.1, v1.2 - v2.2 + v3.2, v1.3 - v2.3 + v3.3))
                    add(2, (v1.0 + v2.0 - v0.0, v1.1 + v2.1 - v0.1, v1.2 + v2.2 - v0.2, v1.3 + v2.3 - v0.3))
                    add(3, (-v3.0, -v3.1, -v3.2, -v3.3))
                }
                for i in 0..<4 {
                    let e = split + 2 * (2 * ty + i) * length + end
                    e[0] += carry[i]; e[length] += carry[4 + i]
                }
            }
            let dst = dx + plane * H * W
            Phases.merge(rows: H, phases: 2, length: length, offset: p, count: W, from: split + 2 * p * length, lines: lines,
                         accumulate: accumulate) { iy in dst + iy * W }
        }
    }

    /// y[b, o] = Aᵀ M A for every tile (+ bias), cropped to the output size; planes split across
    /// threads. A row of tiles gives two output rows, each first written as its even and odd
    /// columns with full-width stores, then interleaved.
    static func transformOutput(_ m: UnsafePointer<Float>, _ geo: WinogradTiles, outChannels O: Int, bias: UnsafePointer<Float>?,
                                into y: UnsafeMutablePointer<Float>) {
        let (Ho, Wo, th, tw, T) = (geo.outH, geo.outW, geo.tilesH, geo.tilesW, geo.tiles)
        let stride = geo.planeStride(rows: O), length = Phases.length(tw + width), rows = 2 * th
        forEachPlane(batch: geo.batch, channels: O, scratch: 4 * rows * length) { plane, b, o, buffer in
            // output row r's even columns at 2r · length, its odd ones `length` further
            let phases = buffer.baseAddress!, lines = phases + 2 * rows * length
            let add = bias?[o] ?? 0
            let src = m + o * T + b * geo.tilesPerImage
            let dst = y + plane * Ho * Wo
            for ty in 0..<th {
                let even0 = phases + 4 * ty * length, odd0 = even0 + length, even1 = even0 + 2 * length, odd1 = even0 + 3 * length
                for t0 in Swift.stride(from: 0, to: tw, by: width) {
                    let s = src + ty * tw + t0, count = min(width, tw - t0)
                    let (m0, m1, m2, m3) = loadTiles(s, stride: stride, count)
                    // rows of Aᵀ M (2 × 4), then each row's columns times A
                    let r0 = (m0.0 + m1.0 + m2.0, m0.1 + m1.1 + m2.1, m0.2 + m1.2 + m2.2, m0.3 + m1.3 + m2.3)
                    let r1 = (m1.0 - m2.0 - m3.0, m1.1 - m2.1 - m3.1, m1.2 - m2.2 - m3.2, m1.3 - m2.3 - m3.3)
                    storeLane(r0.0 + r0.1 + r0.2, even0 + t0, width)
                    storeLane(r0.1 - r0.2 - r0.3, odd0 + t0, width)
                    storeLane(r1.0 + r1.1 + r1.2, even1 + t0, width)
                    storeLane(r1.1 - r1.2 - r1.3, odd1 + t0, width)
                }
            }
            Phases.merge(rows: Ho, phases: 2, length: length, offset: 0, count: Wo, from: phases, lines: lines, adding: add) { oy in
                dst + oy * Wo
            }
        }
    }

    /// dM = A dY Aᵀ for every tile (the adjoint of `transformOutput`; cropped positions count as 0).
    static func outputGradient(_ dy: UnsafePointer<Float>, _ geo: WinogradTiles, outChannels O: Int, into dm: UnsafeMutablePointer<Float>) {
        let (Ho, Wo, th, tw, T) = (geo.outH, geo.outW, geo.tilesH, geo.tilesW, geo.tiles)
        let stride = geo.planeStride(rows: O), length = Phases.length(tw + width), rows = 2 * th
        forEachPlane(batch: geo.batch, channels: O, scratch: 4 * rows * length) { plane, b, o, buffer in
            let phases = buffer.baseAddress!, lines = phases + 2 * rows * length
            let src = dy + plane * Ho * Wo
            let dst = dm + o * T + b * geo.tilesPerImage
            // the output rows split into even and odd columns (zeros where cropped)
            Phases.split(rows: rows, count: Wo, offset: 0, phases: 2, length: length, into: phases, lines: lines) { oy in
                oy < Ho ? src + oy * Wo : nil
            }
            for ty in 0..<th {
                let even0 = phases + 4 * ty * length, odd0 = even0 + length, even1 = even0 + 2 * length, odd1 = even0 + 3 * length
                for group in Swift.stride(from: 0, to: tw, by: width) {
                    let (t0, count) = tileGroup(geo, ty, group)
                    let (y00, y01) = (loadLane(even0 + t0), loadLane(odd0 + t0))
                    let (y10, y11) = (loadLane(even1 + t0), loadLane(odd1 + t0))
                    let out = dst + ty * tw + t0
                    // rows of A dY (4 × 2), then each row's columns times Aᵀ
                    @inline(__always) func store(_ count: Int) {
                        @inline(__always) func put(_ i: Int, _ a: Lane, _ c: Lane) {
                            storeLane(a, out + (4 * i) * stride, count)
                            storeLane(a + c, out + (4 * i + 1) * stride, count)
                            storeLane(a - c, out + (4 * i + 2) * stride, count)
                            storeLane(-c, out + (4 * i + 3) * stride, count)
                        }
                        put(0, y00, y01); put(1, y00 + y10, y01 + y11); put(2, y00 - y10, y01 - y11); put(3, -y10, -y11)
                    }
                    if count == width { store(width) } else { store(count) }  // as in transformInput
                }
            }
        }
    }

    /// Where the tile group starting at tile `group` of tile row `ty` of a plane stores, and how
    /// many of its lanes (`t0`, `count`), for the transforms that write a [(m+2)², rows, tiles]
    /// buffer. Whole-lane stores past a row's last tile land on the following rows' first tiles of
    /// this plane, written later by this thread; none may pass the plane's last tile (with rows
    /// narrower than a lane, several rows on: a store that stopped only in the last row ran into
    /// the next plane's tiles from the one before it). So the plane's last group, where it would
    /// end past that tile, starts `width` tiles before the row's end instead where the row is that
    /// wide: its lanes then recompute tiles the group before it stored, with the same arithmetic
    /// (the same bits), and it stores whole lanes. Its partial stores, lane by lane
    /// (`storePart`), took 7.6 ms of a 480 ms one-thread `ce + swwae` step (perf, AVX2 build).
    @inline(__always) static func tileGroup(_ geo: WinogradTiles, _ ty: Int, _ group: Int) -> (t0: Int, count: Int) {
        let left = geo.tilesPerImage - ty * geo.tilesW - group
        if left >= width { return (group, width) }
        return geo.tilesW >= width ? (geo.tilesW - width, width) : (group, left)
    }

    typealias Row = (Lane, Lane, Lane, Lane)

    /// The 16 transformed values of `count` adjacent tiles from a [16, channels, tiles] buffer, as
    /// four rows of four lanes (lanes past `count` zero).
    @inline(__always) private static func loadTiles(_ s: UnsafePointer<Float>, stride: Int, _ count: Int) -> (Row, Row, Row, Row) {
        @inline(__always) func row(_ i: Int) -> Row {
            (loadLane(s + (4 * i) * stride, count), loadLane(s + (4 * i + 1) * stride, count),
             loadLane(s + (4 * i + 2) * stride, count), loadLane(s + (4 * i + 3) * stride, count))
        }
        return (row(0), row(1), row(2), row(3))
    }

    @inline(__always) static func loadLane(_ p: UnsafePointer<Float>) -> Lane {
        UnsafeRawPointer(p).loadUnaligned(as: Lane.self)
    }

    /// The first `count` floats at p, zeros in the other lanes. Reads a whole lane from p, so the
    /// transformed buffers carry `width` floats of slack at their end (`Winograd.slack`).
    @inline(__always) static func loadLane(_ p: UnsafePointer<Float>, _ count: Int) -> Lane {
        let v = loadLane(p)
        if count == width { return v }
        return v.replacing(with: 0, where: SIMD4<Int32>(0, 1, 2, 3) .>= SIMD4<Int32>(repeating: Int32(count)))
    }

    /// Floats a transformed buffer [16, channels, tiles] needs past its end for whole-lane reads.
    static let slack = width

    @inline(__always) static func storeLane(_ v: Lane, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        if count == width {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lane.self)
        } else {
            storePart(v, p, count)
        }
    }

    /// The first `count` lanes of v, for the last tiles of a plane. Not inlined: seeing the lanes
    /// taken out one by one here, LLVM computed the whole transform around them lane by lane as
    /// well, in the whole-lane path too (perf, AVX2 build: the last lane of F(4×4)'s input
    /// transform in scalar arithmetic, a sixth of its samples).
    @inline(never) static func storePart(_ v: Lane, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        for k in 0..<count { p[k] = v[k] }
    }

    @inline(__always) static func addLane(_ v: Lane, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: loadLane(p) + v, as: Lane.self)
    }
}
