import LossKitKernelSupport

/// A row split into its column phases and merged back, for the Winograd tile transforms: with n
/// phases (2 for F(2×2, 3×3), 4 for F(4×4, 3×3)), padded column q = i + offset of a row of
/// `count` values goes to phase q % n at index q / n (phase k at `k · length`). Both directions go
/// through a zero-padded copy of the row (`line`, n · length floats), so the shuffles run on whole
/// vectors with no edge cases: convnet-s's 14- and 7-wide rows would otherwise be mostly edge
/// (F(2×2)'s input transform, before it used this, spent most of its samples in scalar edge loops).
enum Phases {
    typealias Lane = Winograd.Lane

    /// The 4×4 transpose of four lanes: sixteen consecutive columns ↔ four phases of four.
    @inline(__always) static func transpose(_ a: Lane, _ b: Lane, _ c: Lane, _ d: Lane) -> (Lane, Lane, Lane, Lane) {
        (Lane(a[0], b[0], c[0], d[0]), Lane(a[1], b[1], c[1], d[1]), Lane(a[2], b[2], c[2], d[2]), Lane(a[3], b[3], c[3], d[3]))
    }

    /// A phase length for at least `minimum` indices: a multiple of four, so whole-vector
    /// shuffles cover it exactly.
    static func length(_ minimum: Int) -> Int { (minimum + 3) & ~3 }

    /// Copies `count` floats with whole-vector moves (the last one overlapping the one before):
    /// a call to memcpy costs more than the work for rows this short.
    @inline(__always) static func copy(_ src: UnsafePointer<Float>, _ count: Int, into dst: UnsafeMutablePointer<Float>) {
        guard count >= 4 else {
            for i in 0..<count { dst[i] = src[i] }
            return
        }
        var i = 0
        while i + 4 <= count {
            Winograd.storeLane(Winograd.loadLane(src + i), dst + i, 4)
            i += 4
        }
        if i < count { Winograd.storeLane(Winograd.loadLane(src + count - 4), dst + count - 4, 4) }
    }

    /// Splits `rows` rows into their phases: row r (`source(r)`, nil for a row of zeros) goes to
    /// `out + r · n · length`, all `length` indices of each phase, zeros outside the row. `lines`
    /// has room for `rows · n · length` floats and must hold zeros wherever no row is copied: the
    /// callers' scratch is zeroed once for a run of planes of one geometry (`Winograd.forEachPlane`),
    /// each plane then writes the same ranges, and zeroing every line again per plane was a tenth
    /// of F(2×2)'s input transform (perf).
    ///
    /// Every row is copied into its zero-padded line before any line is shuffled, so each vector
    /// load reads floats stored long before. A load that straddles several just-written stores
    /// cannot be forwarded from the store buffer and waits for them to reach the cache: done row by
    /// row, the load after it held half of F(2×2)'s `outputGradient` samples and a sixth of its
    /// `transformInput`'s (perf).
    @inline(__always) static func split(rows: Int, count: Int, offset p: Int, phases n: Int, length: Int,
                                        into out: UnsafeMutablePointer<Float>, lines: UnsafeMutablePointer<Float>,
                                        source: (_ row: Int) -> UnsafePointer<Float>?) {
        let size = n * length
        for r in 0..<rows {
            let line = lines + r * size
            if let row = source(r) { copy(row, count, into: line + p) }
        }
        for r in 0..<rows {
            let line = lines + r * size, phases = out + r * size
            if n == 2 {
                for t in Swift.stride(from: 0, to: length, by: 4) {
                    let v = UnsafeRawPointer(line + 2 * t).loadUnaligned(as: SIMD8<Float>.self)
                    Winograd.storeLane(v.evenHalf, phases + t, 4)
                    Winograd.storeLane(v.oddHalf, phases + length + t, 4)
                }
                continue
            }
            for t in Swift.stride(from: 0, to: length, by: 4) {
                let s = line + 4 * t
                let v = transpose(Winograd.loadLane(s), Winograd.loadLane(s + 4), Winograd.loadLane(s + 8), Winograd.loadLane(s + 12))
                Winograd.storeLane(v.0, phases + t, 4)
                Winograd.storeLane(v.1, phases + length + t, 4)
                Winograd.storeLane(v.2, phases + 2 * length + t, 4)
                Winograd.storeLane(v.3, phases + 3 * length + t, 4)
            }
        }
    }

    /// The inverse (and adjoint) of `split`: for each of `rows` rows whose `destination(r)` is not
    /// nil, dst[i] = phase[(i + offset) % n][(i + offset) / n] (+ `adding`), or += that with
    /// `accumulate`, for i < count; row r's phases at `phases + r · n · length`. Again all rows
    /// are shuffled into `lines` before any is written out.
    @inline(__always) static func merge(rows: Int, phases n: Int, length: Int, offset p: Int, count: Int,
                                        from phases: UnsafePointer<Float>, lines: UnsafeMutablePointer<Float>,
                                        adding: Float = 0, accumulate: Bool = false,
                                        destination: (_ row: Int) -> UnsafeMutablePointer<Float>?) {
        let size = n * length
        for r in 0..<rows {
            let line = lines + r * size, source = phases + r * size
            if n == 2 {
                for t in Swift.stride(from: 0, to: length, by: 4) {
                    let a = Winograd.loadLane(source + t), b = Winograd.loadLane(source + length + t)
                    let v = SIMD8<Float>(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3])
                    UnsafeMutableRawPointer(line + 2 * t).storeBytes(of: v, as: SIMD8<Float>.self)
                }
                continue
            }
            for t in Swift.stride(from: 0, to: length, by: 4) {
                let v = transpose(Winograd.loadLane(source + t), Winograd.loadLane(source + length + t),
                                  Winograd.loadLane(source + 2 * length + t), Winograd.loadLane(source + 3 * length + t))
                let out = line + 4 * t
                Winograd.storeLane(v.0, out, 4)
                Winograd.storeLane(v.1, out + 4, 4)
                Winograd.storeLane(v.2, out + 8, 4)
                Winograd.storeLane(v.3, out + 12, 4)
            }
        }
        let shift = Lane(repeating: adding)
        for r in 0..<rows {
            guard let dst = destination(r) else { continue }
            let src = lines + r * size + p
            var i = 0
            while i + 4 <= count {
                let v = Winograd.loadLane(src + i) + shift
                Winograd.storeLane(accumulate ? v + Winograd.loadLane(dst + i) : v, dst + i, 4)
                i += 4
            }
            while i < count {
                let v = src[i] + adding
                dst[i] = accumulate ? dst[i] + v : v
                i += 1
            }
        }
    }
}
