import LossKitKernelSupport

/// C = A · B for the Winograd convolution's small GEMMs, A packed in panels of four rows
/// (`GemmPanels`), B and C row-major with rows `n` floats apart, C overwritten (no zeroing pass).
///
/// Each block keeps a 4 × w piece of C in registers for the whole sum over k (w = 24: twelve
/// 8-float accumulators, the most AVX2's sixteen registers hold beside B's three vectors and a
/// broadcast), so C is written once and never read. A row's last columns are a block of 24, 16
/// or 8 placed to end at column n, overlapping columns already done: they are recomputed with
/// the same arithmetic, so the bits do not depend on n's remainder and no lane is masked. Each
/// element is one fused multiply-add per k, in order of k: the same bits on every build that
/// runs it (the baseline build's fused multiply-add is a library call: correct, slow), and not
/// those of OpenBLAS.
enum PanelGemm {
    typealias Vector = SIMD8<Float>

    static func multiply(_ a: UnsafePointer<Float>, m: Int, n: Int, k: Int, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
        let rows = GemmPanels.rows
        for panel in 0..<(m / rows) {
            let ap = a + panel * k * rows, cp = c + panel * rows * n
            var j = 0
            while j + 24 <= n {
                block24(ap, b + j, n: n, k: k, cp + j)
                j += 24
            }
            // the last n - j columns (under 24), by the widest block that still starts at column 0 or
            // later; below 24 (or 16) columns, one narrower block from column 0 and one ending at n
            let left = n - j
            if left > 16 && n >= 24 {
                block24(ap, b + n - 24, n: n, k: k, cp + n - 24)
            } else if left > 8 && n >= 16 {
                if left > 16 { block16(ap, b, n: n, k: k, cp) }
                block16(ap, b + n - 16, n: n, k: k, cp + n - 16)
            } else if left > 0 {
                if left > 8 { block8(ap, b, n: n, k: k, cp) }
                block8(ap, b + n - 8, n: n, k: k, cp + n - 8)
            }
        }
    }

    @inline(__always)
    private static func block24(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, n: Int, k: Int, _ c: UnsafeMutablePointer<Float>) {
        var (c00, c01, c02) = (Vector(), Vector(), Vector())
        var (c10, c11, c12) = (Vector(), Vector(), Vector())
        var (c20, c21, c22) = (Vector(), Vector(), Vector())
        var (c30, c31, c32) = (Vector(), Vector(), Vector())
        var ap = a, bp = UnsafeRawPointer(b)
        for _ in 0..<k {
            let b0 = bp.loadUnaligned(as: Vector.self), b1 = bp.loadUnaligned(fromByteOffset: 32, as: Vector.self)
            let b2 = bp.loadUnaligned(fromByteOffset: 64, as: Vector.self)
            let a0 = Vector(repeating: ap[0]), a1 = Vector(repeating: ap[1])
            let a2 = Vector(repeating: ap[2]), a3 = Vector(repeating: ap[3])
            c00.addProduct(a0, b0); c01.addProduct(a0, b1); c02.addProduct(a0, b2)
            c10.addProduct(a1, b0); c11.addProduct(a1, b1); c12.addProduct(a1, b2)
            c20.addProduct(a2, b0); c21.addProduct(a2, b1); c22.addProduct(a2, b2)
            c30.addProduct(a3, b0); c31.addProduct(a3, b1); c32.addProduct(a3, b2)
            ap += 4
            bp += 4 * n
        }
        let r = UnsafeMutableRawPointer(c), row = 4 * n
        r.storeBytes(of: c00, as: Vector.self); r.storeBytes(of: c01, toByteOffset: 32, as: Vector.self)
        r.storeBytes(of: c02, toByteOffset: 64, as: Vector.self)
        r.storeBytes(of: c10, toByteOffset: row, as: Vector.self); r.storeBytes(of: c11, toByteOffset: row + 32, as: Vector.self)
        r.storeBytes(of: c12, toByteOffset: row + 64, as: Vector.self)
        r.storeBytes(of: c20, toByteOffset: 2 * row, as: Vector.self); r.storeBytes(of: c21, toByteOffset: 2 * row + 32, as: Vector.self)
        r.storeBytes(of: c22, toByteOffset: 2 * row + 64, as: Vector.self)
        r.storeBytes(of: c30, toByteOffset: 3 * row, as: Vector.self); r.storeBytes(of: c31, toByteOffset: 3 * row + 32, as: Vector.self)
        r.storeBytes(of: c32, toByteOffset: 3 * row + 64, as: Vector.self)
    }

    @inline(__always)
    private static func block16(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, n: Int, k: Int, _ c: UnsafeMutablePointer<Float>) {
        var (c00, c01, c10, c11) = (Vector(), Vector(), Vector(), Vector())
        var (c20, c21, c30, c31) = (Vector(), Vector(), Vector(), Vector())
        var ap = a, bp = UnsafeRawPointer(b)
        for _ in 0..<k {
            let b0 = bp.loadUnaligned(as: Vector.self), b1 = bp.loadUnaligned(fromByteOffset: 32, as: Vector.self)
            let a0 = Vector(repeating: ap[0]), a1 = Vector(repeating: ap[1])
            let a2 = Vector(repeating: ap[2]), a3 = Vector(repeating: ap[3])
            c00.addProduct(a0, b0); c01.addProduct(a0, b1)
            c10.addProduct(a1, b0); c11.addProduct(a1, b1)
            c20.addProduct(a2, b0); c21.addProduct(a2, b1)
            c30.addProduct(a3, b0); c31.addProduct(a3, b1)
            ap += 4
            bp += 4 * n
        }
        let r = UnsafeMutableRawPointer(c), row = 4 * n
        r.storeBytes(of: c00, as: Vector.self); r.storeBytes(of: c01, toByteOffset: 32, as: Vector.self)
        r.storeBytes(of: c10, toByteOffset: row, as: Vector.self); r.storeBytes(of: c11, toByteOffset: row + 32, as: Vector.self)
        r.storeBytes(of: c20, toByteOffset: 2 * row, as: Vector.self); r.storeBytes(of: c21, toByteOffset: 2 * row + 32, as: Vector.self)
        r.storeBytes(of: c30, toByteOffset: 3 * row, as: Vector.self); r.storeBytes(of: c31, toByteOffset: 3 * row + 32, as: Vector.self)
    }

    @inline(__always)
    private static func block8(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, n: Int, k: Int, _ c: UnsafeMutablePointer<Float>) {
        var (c0, c1, c2, c3) = (Vector(), Vector(), Vector(), Vector())
        var ap = a, bp = UnsafeRawPointer(b)
        for _ in 0..<k {
            let b0 = bp.loadUnaligned(as: Vector.self)
            c0.addProduct(Vector(repeating: ap[0]), b0); c1.addProduct(Vector(repeating: ap[1]), b0)
            c2.addProduct(Vector(repeating: ap[2]), b0); c3.addProduct(Vector(repeating: ap[3]), b0)
            ap += 4
            bp += 4 * n
        }
        let r = UnsafeMutableRawPointer(c), row = 4 * n
        r.storeBytes(of: c0, as: Vector.self); r.storeBytes(of: c1, toByteOffset: row, as: Vector.self)
        r.storeBytes(of: c2, toByteOffset: 2 * row, as: Vector.self); r.storeBytes(of: c3, toByteOffset: 3 * row, as: Vector.self)
    }
}
