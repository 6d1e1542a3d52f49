import LossKitKernelSupport

/// Winograd's F(4×4, 3×3) (Lavin & Gray, 2016; interpolation points 0, ±1, ±2, ∞): each 4×4
/// output tile is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A for the 6×6 input tile d around it. After the
/// transforms the convolution is 36 GEMMs with 36 multiplications per tile and channel pair where
/// the direct sum needs 144 (F(2×2, 3×3): 16 for 36): 4× fewer than im2col + GEMM, and the
/// transformed buffers hold 2.25 floats per output instead of F(2×2)'s 4.
///
/// Layouts as in `Winograd` with 36 transform positions: V is [36, C, T], M is [36, O, T], U is
/// [36, O, C], ξ = 6·row + column. The backward pass uses the adjoints of the same linear maps.
///
/// As in `Winograd`, one SIMD lane holds one of four horizontally adjacent tiles. Tile tx reads
/// padded columns 4tx…4tx+5, so each row is first split into its four column phases (column
/// 4t + k goes to phase k at index t): the six columns of a row of tiles are then six contiguous
/// loads, phase 0…3 at t and phase 0, 1 at t + 1.
enum Winograd4: WinogradTransform {
    static let outputTile = 4
    typealias Lane = Winograd.Lane
    typealias Six = (Lane, Lane, Lane, Lane, Lane, Lane)
    typealias Four = (Lane, Lane, Lane, Lane)
    static let width = Winograd.width
    static let slack = Winograd.slack

    // MARK: the four 1-D maps and their adjoints

    /// G·(a, b, c): one filter column or row to its six transformed values (lanes 6, 7 zero).
    @inline(__always) static func filterMap(_ a: Float, _ b: Float, _ c: Float) -> SIMD8<Float> {
        SIMD8(a / 4, -(a + b + c) / 6, -(a - b + c) / 6, a / 24 + b / 12 + c / 6, a / 24 - b / 12 + c / 6, c, 0, 0)
    }

    /// Gᵀ·d for six values d (lanes 0…5): the adjoint of `filterMap`.
    @inline(__always) static func filterAdjoint(_ d: SIMD8<Float>) -> (Float, Float, Float) {
        (d[0] / 4 - (d[1] + d[2]) / 6 + (d[3] + d[4]) / 24,
         (d[2] - d[1]) / 6 + (d[3] - d[4]) / 12,
         -(d[1] + d[2]) / 6 + (d[3] + d[4]) / 6 + d[5])
    }

    /// Bᵀ·d for one row or column of six input values.
    @inline(__always) static func inputMap(_ d0: Lane, _ d1: Lane, _ d2: Lane, _ d3: Lane, _ d4: Lane, _ d5: Lane) -> Six {
        let t1 = d4 - 4 * d2, t2 = d3 - 4 * d1
        let t3 = d4 - d2, t4 = 2 * (d3 - d1)
        return (4 * d0 - 5 * d2 + d4, t1 + t2, t1 - t2, t3 + t4, t3 - t4, 4 * d1 - 5 * d3 + d5)
    }

    /// B·y: the adjoint of `inputMap`.
    @inline(__always) static func inputAdjoint(_ y0: Lane, _ y1: Lane, _ y2: Lane, _ y3: Lane, _ y4: Lane, _ y5: Lane) -> Six {
        let s = y1 + y2, d = y2 - y1, s2 = y3 + y4, d2 = y4 - y3
        return (4 * y0, 4 * d + 2 * d2 + 4 * y5, -5 * y0 - 4 * s - s2, -d - 2 * d2 - 5 * y5, y0 + s + s2, y5)
    }

    /// Aᵀ·m: six transformed values to four outputs.
    @inline(__always) static func outputMap(_ m0: Lane, _ m1: Lane, _ m2: Lane, _ m3: Lane, _ m4: Lane, _ m5: Lane) -> Four {
        let a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4
        return (m0 + a + c, b + 2 * d, a + 4 * c, b + 8 * d + m5)
    }

    /// A·g: the adjoint of `outputMap`.
    @inline(__always) static func outputAdjoint(_ g0: Lane, _ g1: Lane, _ g2: Lane, _ g3: Lane) -> Six {
        let e = g0 + g2, f = g1 + g3, h = g0 + 4 * g2, k = 2 * g1 + 8 * g3
        return (g0, e + f, e - f, h + k, h - k, g3)
    }

    /// Row i (ξ = 6i…6i+5) of `count` adjacent tiles' transformed values in a [36, channels, tiles]
    /// buffer (lanes past `count` zero).
    @inline(__always) static func loadRow(_ s: UnsafePointer<Float>, _ i: Int, stride: Int, _ count: Int) -> Six {
        @inline(__always) func at(_ k: Int) -> Lane { Winograd.loadLane(s + (6 * i + k) * stride, count) }
        return (at(0), at(1), at(2), at(3), at(4), at(5))
    }

    /// Calls `body(ty, t0, rows)` for each group of up to four adjacent tiles of one plane of a
    /// [36, channels, tiles] buffer (`src` at the plane's first tile), with the group's six rows of
    /// transformed values loaded (lanes past the row's last tile zero).
    @inline(__always) static func forEachTileGroup(
        _ src: UnsafePointer<Float>, _ geo: WinogradTiles, stride: Int,
        _ body: (_ ty: Int, _ t0: Int, _ rows: (Six, Six, Six, Six, Six, Six)) -> Void
    ) {
        let (th, tw) = (geo.tilesH, geo.tilesW)
        for ty in 0..<th {
            for t0 in Swift.stride(from: 0, to: tw, by: width) {
                let s = src + ty * tw + t0, count = min(width, tw - t0)
                @inline(__always) func row(_ i: Int) -> Six { loadRow(s, i, stride: stride, count) }
                body(ty, t0, (row(0), row(1), row(2), row(3), row(4), row(5)))
            }
        }
    }

    /// A 6×6 tile transform's two 1-D passes with the intermediate 6×6 lanes in memory (`floats`
    /// of scratch at `tmp`): `first(i)` gives row i's six lanes, `second(k, …)` gets column k's.
    ///
    /// Held in registers between the passes instead (a tuple of 36 lanes), the lanes did not fit
    /// the 16 vector registers and LLVM spilled them: the input transform took 33 ms of a 260 ms
    /// one-thread `ce` step of convnet-s (perf, AVX2 build, AMD EPYC family 25), 14 ms this way
    /// (with `Winograd.storePart`). The stores between the passes may alias the output, so the
    /// compiler cannot fold the loads back into one web of values; each pass keeps twelve lanes
    /// live. The output gradient takes the same two passes, with four rows on one side (10 → 6 ms
    /// a step), and the input gradient too (11.5 → 8 ms); the output transform, with a third of
    /// the input transform's time, did not gain and keeps its lanes in registers. The arithmetic
    /// and its order are unchanged: the same bits.
    enum TilePasses {
        static let floats = 36 * Winograd.width

        @inline(__always) static func run(_ tmp: UnsafeMutablePointer<Float>, first: (_ i: Int) -> Six,
                                          second: (_ k: Int, Lane, Lane, Lane, Lane, Lane, Lane) -> Void) {
            store(tmp, first)
            @inline(__always) func get(_ k: Int) {
                let c = column(tmp, k)
                second(k, c.0, c.1, c.2, c.3, c.4, c.5)
            }
            get(0); get(1); get(2); get(3); get(4); get(5)  // spelled out, as the first pass
        }

        /// The first pass: row i's lanes at `tmp + 6i` lanes. Spelled out: written as a loop over
        /// a closure's argument, the same pass in F(2×2) was left rolled (perf).
        @inline(__always) static func store(_ tmp: UnsafeMutablePointer<Float>, _ first: (_ i: Int) -> Six) {
            put(tmp, 0, first(0)); put(tmp, 1, first(1)); put(tmp, 2, first(2))
            put(tmp, 3, first(3)); put(tmp, 4, first(4)); put(tmp, 5, first(5))
        }

        /// Row i's six lanes, at `tmp + 6i` lanes.
        @inline(__always) static func put(_ tmp: UnsafeMutablePointer<Float>, _ i: Int, _ r: Six) {
            let w = Winograd.width, t = tmp + 6 * w * i
            Winograd.storeLane(r.0, t, w); Winograd.storeLane(r.1, t + w, w); Winograd.storeLane(r.2, t + 2 * w, w)
            Winograd.storeLane(r.3, t + 3 * w, w); Winograd.storeLane(r.4, t + 4 * w, w); Winograd.storeLane(r.5, t + 5 * w, w)
        }

        /// Column k of what `store` wrote.
        @inline(__always) static func column(_ tmp: UnsafeMutablePointer<Float>, _ k: Int) -> Six {
            let w = Winograd.width, t = tmp + w * k
            return (Winograd.loadLane(t), Winograd.loadLane(t + 6 * w), Winograd.loadLane(t + 12 * w),
                    Winograd.loadLane(t + 18 * w), Winograd.loadLane(t + 24 * w), Winograd.loadLane(t + 30 * w))
        }

        /// Column k of the first four rows `put` wrote (the output gradient's four).
        @inline(__always) static func column4(_ tmp: UnsafeMutablePointer<Float>, _ k: Int) -> Four {
            let w = Winograd.width, t = tmp + w * k
            return (Winograd.loadLane(t), Winograd.loadLane(t + 6 * w), Winograd.loadLane(t + 12 * w), Winograd.loadLane(t + 18 * w))
        }
    }

    /// Stores column k (ξ = k, 6 + k, …, 30 + k) of `count` adjacent tiles' transformed values.
    @inline(__always) static func storeColumn(_ y: Six, _ out: UnsafeMutablePointer<Float>, _ k: Int, stride: Int, _ count: Int) {
        Winograd.storeLane(y.0, out + k * stride, count)
        Winograd.storeLane(y.1, out + (6 + k) * stride, count)
        Winograd.storeLane(y.2, out + (12 + k) * stride, count)
        Winograd.storeLane(y.3, out + (18 + k) * stride, count)
        Winograd.storeLane(y.4, out + (24 + k) * stride, count)
        Winograd.storeLane(y.5, out + (30 + k) * stride, count)
    }

    // MARK: filters

    /// U[ξ, o, c] = (G g Gᵀ)[ξ] for every 3×3 filter g = w[o, c].
    static func transformFilters(_ w: UnsafePointer<Float>, outChannels O: Int, channels C: Int, into u: UnsafeMutablePointer<Float>) {
        let plane = O * C
        for oc in 0..<plane {
            let g = w + oc * 9
            // the columns of G g, then each of its six rows times Gᵀ
            let c0 = filterMap(g[0], g[3], g[6]), c1 = filterMap(g[1], g[4], g[7]), c2 = filterMap(g[2], g[5], g[8])
            for i in 0..<6 {
                let row = filterMap(c0[i], c1[i], c2[i])
                for k in 0..<6 { u[(6 * i + k) * plane + oc] = row[k] }
            }
        }
    }

    /// dw[o, c] += Gᵀ dU G for dU[ξ, o, c]: the adjoint of `transformFilters`.
    static func addFilterGradients(_ du: UnsafePointer<Float>, outChannels O: Int, channels C: Int, into dw: UnsafeMutablePointer<Float>) {
        let plane = O * C
        for oc in 0..<plane {
            var columns = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            for i in 0..<6 {
                var row = SIMD8<Float>()
                for k in 0..<6 { row[k] = du[(6 * i + k) * plane + oc] }
                let t = filterAdjoint(row)
                columns.0[i] = t.0; columns.1[i] = t.1; columns.2[i] = t.2
            }
            let g = dw + oc * 9
            let (a, b, c) = (filterAdjoint(columns.0), filterAdjoint(columns.1), filterAdjoint(columns.2))
            g[0] += a.0; g[3] += a.1; g[6] += a.2
            g[1] += b.0; g[4] += b.1; g[7] += b.2
            g[2] += c.0; g[5] += c.1; g[8] += c.2
        }
    }

    // MARK: input

    /// Rows of a padded input plane split into column phases: phase k of padded row r starts at
    /// `(4r + k) · length`; `length` leaves room for whole-lane reads at t + 1.
    private static func splitLength(_ geo: WinogradTiles) -> Int { Phases.length(geo.tilesW + 1 + width) }
    private static func splitRows(_ geo: WinogradTiles) -> Int { 4 * geo.tilesH + 2 }

    /// V = Bᵀ d B for every 6×6 input tile (zeros outside the image); image planes split across
    /// threads.
    static func transformInput(_ x: UnsafePointer<Float>, _ geo: WinogradTiles, into v: UnsafeMutablePointer<Float>) {
        let (C, H, W, p) = (geo.channels, geo.height, geo.width, geo.padding)
        let (th, tw, T) = (geo.tilesH, geo.tilesW, geo.tiles)
        let stride = geo.planeStride(rows: C), length = splitLength(geo), rows = splitRows(geo)
        Winograd.forEachPlane(batch: geo.batch, channels: C, scratch: 8 * rows * length + TilePasses.floats) { plane, b, c, buffer in
            let split = buffer.baseAddress!, lines = split + 4 * rows * length, passes = lines + 4 * rows * length
            let src = x + plane * H * W
            Phases.split(rows: rows, count: W, offset: p, phases: 4, length: length, into: split, lines: lines) { r in
                r - p >= 0 && r - p < H ? src + (r - p) * W : nil
            }
            let dst = v + c * T + b * geo.tilesPerImage
            for ty in 0..<th {
                for group in Swift.stride(from: 0, to: tw, by: width) {
                    let (t0, count) = Winograd.tileGroup(geo, ty, group)
                    let out = dst + ty * tw + t0
                    TilePasses.run(passes, first: { i in
                        let s = split + 4 * (4 * ty + i) * length + t0
                        return inputMap(Winograd.loadLane(s), Winograd.loadLane(s + length), Winograd.loadLane(s + 2 * length),
                                        Winograd.loadLane(s + 3 * length), Winograd.loadLane(s + 1), Winograd.loadLane(s + length + 1))
                    }, second: { k, a, b, c, d, e, f in storeColumn(inputMap(a, b, c, d, e, f), out, k, stride: stride, count) })
                }
            }
        }
    }

    /// dx += B dV Bᵀ added back onto every 6×6 input tile (the adjoint of `transformInput`).
    /// Neighbouring tiles overlap, so threads own whole image planes; the sums are gathered in a
    /// phase-split plane and merged into dx once.
    static func addInputGradient(_ dv: UnsafePointer<Float>, _ geo: WinogradTiles, into dx: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let (C, H, W, p) = (geo.channels, geo.height, geo.width, geo.padding)
        let T = geo.tiles
        let stride = geo.planeStride(rows: C), length = splitLength(geo), rows = splitRows(geo)
        Winograd.forEachPlane(batch: geo.batch, channels: C, scratch: 8 * rows * length + TilePasses.floats) { plane, b, c, buffer in
            let split = buffer.baseAddress!, lines = split + 4 * rows * length, passes = lines + 4 * rows * length
            split.initialize(repeating: 0, count: 4 * rows * length)
            let src = dv + c * T + b * geo.tilesPerImage
            // Column j of a tile is phase j % 4 at tile index t0 + j / 4: columns 4 and 5 land one
            // index on, on phases 0 and 1, overlapping the next group's columns 0 and 1. They are
            // shifted one lane in registers and carried into the next group, so each phase vector
            // is read and written once (adding at t0 and then at the overlapping t0 + 1 made the
            // second load wait for the store before it: store forwarding fails on a straddled store).
            var carry4 = SIMD8<Float>(), carry5 = SIMD8<Float>()  // per tile row i, lanes 0…5
            let end = (geo.tilesW + width - 1) / width * width  // where the last group's carries land
            let (th, tw) = (geo.tilesH, geo.tilesW)
            for ty in 0..<th {
                for t0 in Swift.stride(from: 0, to: tw, by: width) {
                    let s = src + ty * tw + t0, count = min(width, tw - t0)
                    // B·(rows of dV), then B·(each column of that), through `TilePasses`
                    TilePasses.store(passes) { i in
                        let v = loadRow(s, i, stride: stride, count)
                        return inputAdjoint(v.0, v.1, v.2, v.3, v.4, v.5)
                    }
                    @inline(__always) func column(_ k: Int) -> Six {
                        let v = TilePasses.column(passes, k)
                        return inputAdjoint(v.0, v.1, v.2, v.3, v.4, v.5)
                    }
                    let c4 = column(4), c5 = column(5)
                    @inline(__always) func shifted(_ v: Lane, _ carry: inout SIMD8<Float>, _ i: Int) -> Lane {
                        let s = Lane(carry[i], v[0], v[1], v[2])
                        carry[i] = v[3]
                        return s
                    }
                    // lanes past the row's last tile are zero, so whole-vector adds stay exact
                    @inline(__always) func add(_ phase: Int, _ y: Six) {
                        let base = split + (16 * ty + phase) * length + t0
                        Winograd.addLane(y.0, base)
                        Winograd.addLane(y.1, base + 4 * length)
                        Winograd.addLane(y.2, base + 8 * length)
                        Winograd.addLane(y.3, base + 12 * length)
                        Winograd.addLane(y.4, base + 16 * length)
                        Winograd.addLane(y.5, base + 20 * length)
                    }
                    let y0 = column(0)
                    add(0, (y0.0 + shifted(c4.0, &carry4, 0), y0.1 + shifted(c4.1, &carry4, 1), y0.2 + shifted(c4.2, &carry4, 2),
                            y0.3 + shifted(c4.3, &carry4, 3), y0.4 + shifted(c4.4, &carry4, 4), y0.5 + shifted(c4.5, &carry4, 5)))
                    let y1 = column(1)
                    add(1, (y1.0 + shifted(c5.0, &carry5, 0), y1.1 + shifted(c5.1, &carry5, 1), y1.2 + shifted(c5.2, &carry5, 2),
                            y1.3 + shifted(c5.3, &carry5, 3), y1.4 + shifted(c5.4, &carry5, 4), y1.5 + shifted(c5.5, &carry5, 5)))
                    add(2, column(2))
                    add(3, column(3))
                }
                for i in 0..<6 {
                    let base = split + 4 * (4 * ty + i) * length + end
                    base[0] += carry4[i]; base[length] += carry5[i]
                }
                carry4 = SIMD8(); carry5 = SIMD8()
            }
            let dst = dx + plane * H * W
            Phases.merge(rows: H, phases: 4, length: length, offset: p, count: W, from: split + 4 * p * length, lines: lines,
                         accumulate: accumulate) { iy in dst + iy * W }
        }
    }

    // MARK: output

    /// y[b, o] = Aᵀ M A for every tile (+ bias), cropped to the output size; planes split across
    /// threads. A row of tiles gives four output rows, each written as its four column phases with
    /// whole-lane stores; the plane's rows are merged at the end.
    static func transformOutput(_ m: UnsafePointer<Float>, _ geo: WinogradTiles, outChannels O: Int, bias: UnsafePointer<Float>?,
                                into y: UnsafeMutablePointer<Float>) {
        let (Ho, Wo, th, tw, T) = (geo.outH, geo.outW, geo.tilesH, geo.tilesW, geo.tiles)
        let stride = geo.planeStride(rows: O), length = Phases.length(tw + width), rows = 4 * th
        Winograd.forEachPlane(batch: geo.batch, channels: O, scratch: 8 * rows * length) { plane, b, o, buffer in
            let phases = buffer.baseAddress!, lines = phases + 4 * rows * length  // output row r, phase c at (4r + c) · length
            let add = bias?[o] ?? 0
            let src = m + o * T + b * geo.tilesPerImage
            let dst = y + plane * Ho * Wo
            forEachTileGroup(src, geo, stride: stride) { ty, t0, rows in
                @inline(__always) func row(_ v: Six) -> Four { outputMap(v.0, v.1, v.2, v.3, v.4, v.5) }
                let (r0, r1, r2, r3, r4, r5) = (row(rows.0), row(rows.1), row(rows.2), row(rows.3), row(rows.4), row(rows.5))
                @inline(__always) func column(_ c: Int, _ a: Lane, _ b: Lane, _ cc: Lane, _ d: Lane, _ e: Lane, _ f: Lane) {
                    let out = outputMap(a, b, cc, d, e, f)
                    let base = phases + (16 * ty + c) * length + t0
                    Winograd.storeLane(out.0, base, width)
                    Winograd.storeLane(out.1, base + 4 * length, width)
                    Winograd.storeLane(out.2, base + 8 * length, width)
                    Winograd.storeLane(out.3, base + 12 * length, width)
                }
                column(0, r0.0, r1.0, r2.0, r3.0, r4.0, r5.0)
                column(1, r0.1, r1.1, r2.1, r3.1, r4.1, r5.1)
                column(2, r0.2, r1.2, r2.2, r3.2, r4.2, r5.2)
                column(3, r0.3, r1.3, r2.3, r3.3, r4.3, r5.3)
            }
            Phases.merge(rows: Ho, phases: 4, length: length, offset: 0, count: Wo, from: phases, lines: lines, adding: add) { oy in
                dst + oy * Wo
            }
        }
    }

    /// dM = A dY Aᵀ for every tile (the adjoint of `transformOutput`; cropped positions count as 0).
    static func outputGradient(_ dy: UnsafePointer<Float>, _ geo: WinogradTiles, outChannels O: Int, into dm: UnsafeMutablePointer<Float>) {
        let (Ho, Wo, th, tw, T) = (geo.outH, geo.outW, geo.tilesH, geo.tilesW, geo.tiles)
        let stride = geo.planeStride(rows: O), length = Phases.length(tw + width), rows = 4 * th
        Winograd.forEachPlane(batch: geo.batch, channels: O, scratch: 8 * rows * length + TilePasses.floats) { plane, b, o, buffer in
            let phases = buffer.baseAddress!, lines = phases + 4 * rows * length
            let passes = lines + 4 * rows * length
            let src = dy + plane * Ho * Wo
            let dst = dm + o * T + b * geo.tilesPerImage
            Phases.split(rows: rows, count: Wo, offset: 0, phases: 4, length: length, into: phases, lines: lines) { oy in
                oy < Ho ? src + oy * Wo : nil
            }
            for ty in 0..<th {
                for group in Swift.stride(from: 0, to: tw, by: width) {
                    let (t0, count) = Winograd.tileGroup(geo, ty, group)
                    // A·(each of the four rows of dY), then A·(each column of that), through `TilePasses`
                    for r in 0..<4 {
                        let s = phases + 4 * (4 * ty + r) * length + t0
                        TilePasses.put(passes, r, outputAdjoint(Winograd.loadLane(s), Winograd.loadLane(s + length),
                                                                Winograd.loadLane(s + 2 * length), Winograd.loadLane(s + 3 * length)))
                    }
                    let out = dst + ty * tw + t0
                    for k in 0..<6 {
                        let g = TilePasses.column4(passes, k)
                        storeColumn(outputAdjoint(g.0, g.1, g.2, g.3), out, k, stride: stride, count)
                    }
                }
            }
        }
    }
}
