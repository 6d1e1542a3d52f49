// The Winograd convolution's GEMMs, timed in isolation: OpenBLAS's sgemm against a plain
// register-blocked kernel (6 rows × 32 columns of SIMD16 fused multiply-adds, scalar tail), on
// convnet-s's Winograd shapes under F(2×2) (M = out channels, N = tiles of a chunk, K = in
// channels). Written to decide whether a GEMM of our own could beat OpenBLAS's small-matrix path
// there (docs/BENCHMARKS.md, "A GEMM of our own"); not part of the build. Run from this folder:
//
//   swiftc -Ounchecked -target-cpu skylake-avx512 small-sgemm.swift -lopenblas -o /tmp/small-sgemm
//   OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Cooperlake /tmp/small-sgemm
//
// Each line: the best of five 20000-call loops per kernel, µs a call and GFLOP/s, and the largest
// difference between the two products (different summation order).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

@_silgen_name("cblas_sgemm")
func cblas_sgemm(_ order: Int32, _ ta: Int32, _ tb: Int32, _ m: Int32, _ n: Int32, _ k: Int32, _ alpha: Float,
                 _ a: UnsafePointer<Float>, _ lda: Int32, _ b: UnsafePointer<Float>, _ ldb: Int32, _ beta: Float,
                 _ c: UnsafeMutablePointer<Float>, _ ldc: Int32)

typealias V = SIMD16<Float>
@inline(__always) func ld(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
@inline(__always) func st(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

/// C[m×n] = A·B, A element (i,p) at a[i*ai + p*ap], B row-major [k×n], C row-major [m×n]
@inline(never)
func gemmNN(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, ai: Int, ap: Int, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
    var j = 0
    while j + 32 <= n {
        var i = 0
        while i + 6 <= m {
            var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
            var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
            for p in 0..<k {
                let b0 = ld(b + p * n + j), b1 = ld(b + p * n + j + 16)
                let ap0 = a + p * ap + i * ai
                let a0 = V(repeating: ap0[0]), a1 = V(repeating: ap0[ai]), a2 = V(repeating: ap0[2 * ai])
                c00.addProduct(a0, b0); c01.addProduct(a0, b1)
                c10.addProduct(a1, b0); c11.addProduct(a1, b1)
                c20.addProduct(a2, b0); c21.addProduct(a2, b1)
                let a3 = V(repeating: ap0[3 * ai]), a4 = V(repeating: ap0[4 * ai]), a5 = V(repeating: ap0[5 * ai])
                c30.addProduct(a3, b0); c31.addProduct(a3, b1)
                c40.addProduct(a4, b0); c41.addProduct(a4, b1)
                c50.addProduct(a5, b0); c51.addProduct(a5, b1)
            }
            let cp = c + i * n + j
            st(c00, cp); st(c01, cp + 16); st(c10, cp + n); st(c11, cp + n + 16)
            st(c20, cp + 2*n); st(c21, cp + 2*n + 16); st(c30, cp + 3*n); st(c31, cp + 3*n + 16)
            st(c40, cp + 4*n); st(c41, cp + 4*n + 16); st(c50, cp + 5*n); st(c51, cp + 5*n + 16)
            i += 6
        }
        while i < m {
            var c0 = V(), c1 = V()
            for p in 0..<k { let a0 = V(repeating: a[i * ai + p * ap]); c0.addProduct(a0, ld(b + p * n + j)); c1.addProduct(a0, ld(b + p * n + j + 16)) }
            st(c0, c + i * n + j); st(c1, c + i * n + j + 16)
            i += 1
        }
        j += 32
    }
    // tail columns
    while j < n {
        for i in 0..<m {
            var s: Float = 0
            for p in 0..<k { s = s.addingProduct(a[i * ai + p * ap], b[p * n + j]) }
            c[i * n + j] = s
        }
        j += 1
    }
}

func now() -> Double { var t = timespec(); clock_gettime(CLOCK_MONOTONIC, &t); return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9 }

for (m, n, k) in [(32, 196, 32), (64, 98, 64), (128, 64, 64), (64, 64, 128), (64, 98, 32)] {
    let a = UnsafeMutablePointer<Float>.allocate(capacity: m * k), b = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
    let c1 = UnsafeMutablePointer<Float>.allocate(capacity: m * n), c2 = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
    for i in 0..<m*k { a[i] = Float.random(in: -1...1) }
    for i in 0..<k*n { b[i] = Float.random(in: -1...1) }
    let reps = 20000
    var best1 = 1e9, best2 = 1e9
    for _ in 0..<5 {
        var t = now()
        for _ in 0..<reps { cblas_sgemm(101, 111, 111, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), b, Int32(n), 0, c1, Int32(n)) }
        best1 = min(best1, (now() - t) / Double(reps))
        t = now()
        for _ in 0..<reps { gemmNN(m: m, n: n, k: k, a: a, ai: k, ap: 1, b: b, c: c2) }
        best2 = min(best2, (now() - t) / Double(reps))
    }
    var err: Float = 0
    for i in 0..<m*n { err = max(err, abs(c1[i] - c2[i])) }
    let fl = 2.0 * Double(m * n * k)
    print("\(m)x\(n)x\(k): openblas \(String(format: "%.2f", best1*1e6)) us \(String(format: "%.1f", fl/best1/1e9)) GF; own \(String(format: "%.2f", best2*1e6)) us \(String(format: "%.1f", fl/best2/1e9)) GF; maxdiff \(err)")
}
