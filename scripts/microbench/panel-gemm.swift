// The Winograd convolution's forward GEMMs, timed in isolation: the engine's panel kernel
// (Sources/LossKitKernels/PanelGemm.swift, the shipped source) against OpenBLAS's sgemm with C
// cleared first, as the engine called it before (docs/BENCHMARKS.md, "Winograd GEMMs on a kernel
// of our own"). Each shape is one chunk's 36 GEMMs ([M, K] · [K, N]: out channels, in channels,
// tiles of the chunk), on 36 different operands as in a chunk, so B comes from L2 as it does
// there. Not part of the build; run from this folder with panel-gemm.sh.
//
// Each line: the best of five loops per kernel, µs per chunk's 36 GEMMs and GFLOP/s, and the
// largest difference between the two products (different rounding: fused vs OpenBLAS's order).
import COpenBLAS
import Foundation

func seconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

let positions = 36
for (m, n, k) in [(32, 98, 32), (64, 98, 64), (32, 98, 64), (64, 98, 32), (64, 48, 64), (128, 64, 64), (64, 64, 128), (128, 64, 128)] {
    let a = UnsafeMutablePointer<Float>.allocate(capacity: positions * m * k)
    let b = UnsafeMutablePointer<Float>.allocate(capacity: positions * k * n)
    let c = UnsafeMutablePointer<Float>.allocate(capacity: positions * m * n)
    let d = UnsafeMutablePointer<Float>.allocate(capacity: positions * m * n)
    let panels = UnsafeMutablePointer<Float>.allocate(capacity: positions * m * k)
    for i in 0..<(positions * m * k) { a[i] = Float.random(in: -1...1) }
    for i in 0..<(positions * k * n) { b[i] = Float.random(in: -1...1) }
    for p in 0..<positions { GemmPanels.pack(a + p * m * k, m: m, k: k, transposed: false, into: panels + p * m * k) }
    let loops = max(1, 20_000_000 / (m * n * k))
    func best(_ body: () -> Void) -> Double {
        var fastest = Double.infinity
        for _ in 0..<5 {
            let start = seconds()
            for _ in 0..<loops { body() }
            fastest = min(fastest, (seconds() - start) / Double(loops))
        }
        return fastest
    }
    let openBLAS = best {
        for p in 0..<positions {
            let cp = c + p * m * n
            cp.update(repeating: 0, count: m * n)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a + p * m * k, Int32(k),
                        b + p * k * n, Int32(n), 1, cp, Int32(n))
        }
    }
    let panel = best {
        for p in 0..<positions { PanelGemm.multiply(panels + p * m * k, m: m, n: n, k: k, b: b + p * k * n, c: d + p * m * n) }
    }
    var difference: Float = 0
    for i in 0..<(positions * m * n) { difference = max(difference, abs(c[i] - d[i])) }
    let flops = 2.0 * Double(positions * m * n * k)
    print(String(format: "M %3d N %3d K %3d   OpenBLAS %7.1f µs %5.1f GFLOP/s   panel %7.1f µs %5.1f GFLOP/s   largest difference %.1e",
                 m, n, k, openBLAS * 1e6, flops / openBLAS / 1e9, panel * 1e6, flops / panel / 1e9, difference))
}
