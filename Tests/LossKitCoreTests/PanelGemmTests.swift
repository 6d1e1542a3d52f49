import Foundation
@testable import LossKitCore
import LossKitKernelSupport
import XCTest

/// The engine's own kernel for the Winograd convolution's GEMMs (`EngineKernels.panelGemm`, A
/// packed by `GemmPanels`): near the exact product on every build this machine runs, the same bits
/// on each, every element of C written; and the convolution on it checks and agrees with OpenBLAS.
final class PanelGemmTests: XCTestCase {
    private func runnable() -> [KernelInstructionSet] {
        KernelPath.available.filter { KernelPath.runs($0, on: .current) }
    }

    func testPanelsHoldFourRowsColumnByColumn() {
        // A = [[0, 1, 2], [10, 11, 12], ... [70, 71, 72]]: 8 × 3, value 10·row + column
        let a = (0..<8).flatMap { r in (0..<3).map { c in Float(10 * r + c) } }
        var packed = [Float](repeating: -1, count: 24)
        GemmPanels.pack(a, m: 8, k: 3, transposed: false, into: &packed)
        let expected: [Float] = [0, 10, 20, 30, 1, 11, 21, 31, 2, 12, 22, 32, 40, 50, 60, 70, 41, 51, 61, 71, 42, 52, 62, 72]
        XCTAssertEqual(packed, expected)
        // the same A given as its transpose, 3 × 8 row-major
        let aT = (0..<3).flatMap { c in (0..<8).map { r in Float(10 * r + c) } }
        var fromTranspose = [Float](repeating: -1, count: 24)
        GemmPanels.pack(aT, m: 8, k: 3, transposed: true, into: &fromTranspose)
        XCTAssertEqual(fromTranspose, expected)
        XCTAssertTrue(GemmPanels.fits(m: 8, n: 8))
        XCTAssertFalse(GemmPanels.fits(m: 6, n: 64), "6 rows are not whole panels")
        XCTAssertFalse(GemmPanels.fits(m: 8, n: 7), "narrower than one block")
    }

    func testEveryBuildWritesTheSameBitsNearTheExactProduct() {
        let sets = runnable()
        // n: one block of each width, between them, and the widths of convnet-s's chunks (64, 98)
        for (m, k) in [(4, 1), (8, 3), (12, 32), (32, 64)] {
            for n in [8, 9, 15, 16, 17, 23, 24, 25, 40, 47, 64, 98] {
                let a = Fixtures.random([m, k], seed: UInt64(m * 1000 + k)), b = Fixtures.random([k, n], seed: UInt64(n))
                let packed = Tensor(uninitialized: [m, k])
                GemmPanels.pack(a.data, m: m, k: k, transposed: false, into: packed.data)
                var first: [Float]?
                for set in sets {
                    let c = Tensor(shape: [m, n], repeating: .nan)
                    KernelPath.build(set).panelGemm(packed.data, m: m, n: n, k: k, b: b.data, c: c.data)
                    var worst = 0.0
                    for i in 0..<m {
                        for j in 0..<n {
                            var exact = 0.0, size = 0.0
                            for l in 0..<k {
                                let p = Double(a.data[i * k + l]) * Double(b.data[l * n + j])
                                exact += p
                                size += abs(p)
                            }
                            // k rounded fused multiply-adds: within k·ε·Σ|product| (Higham, ch. 3)
                            let bound = Double(k) * Double(Float.ulpOfOne) * size + Double(Float.leastNormalMagnitude)
                            worst = max(worst, abs(Double(c.data[i * n + j]) - exact) / bound)
                        }
                    }
                    XCTAssertLessThanOrEqual(worst, 1, "\(set.rawValue), \(m)×\(n)×\(k): worst error at \(worst) of its bound (NaN: an element not written)")
                    if let first {
                        XCTAssertEqual(c.array.map(\.bitPattern), first.map(\.bitPattern), "\(set.rawValue), \(m)×\(n)×\(k): bits differ between builds")
                    } else {
                        first = c.array
                    }
                }
            }
        }
    }

    /// On every path this machine runs that prefers the panel kernel: the Winograd convolution
    /// (forward, dX on the panels; dW on OpenBLAS) passes the gradient check and agrees with the
    /// OpenBLAS GEMMs within the sums' rounding bound, at one thread and in shares on two.
    func testTheWinogradConvolutionOnPanelsChecksAndAgreesWithOpenBLAS() throws {
        let panelPaths = runnable().filter { KernelPath.build($0).prefersPanelGemm }
        guard !panelPaths.isEmpty else {
            throw XCTSkip("no build this CPU runs prefers the panel kernel")
        }
        let saved = (Graph.winogradMinOutputSide, Graph.winogradLargeTileMinOutputSide, Graph.winogradChunkFloats,
                     Graph.winogradPanelGemm, Graph.winogradConvolution, Threads.count)
        defer {
            (Graph.winogradMinOutputSide, Graph.winogradLargeTileMinOutputSide, Graph.winogradChunkFloats,
             Graph.winogradPanelGemm, Graph.winogradConvolution) = (saved.0, saved.1, saved.2, saved.3, saved.4)
            Threads.set(saved.5)
        }
        Graph.winogradMinOutputSide = 1
        // C and O multiples of four: both GEMMs on the panels; 9 × 13 outputs give 35 (F(2×2)) or
        // 12 (F(4×4)) tiles an image, so chunks of one image and more take each block width
        let x = Fixtures.random([4, 8, 9, 13], seed: 400), w = Fixtures.random([12, 8, 3, 3], seed: 401)
        for set in panelPaths {
            try KernelPath.using(set) {
                for (large, growth) in [(Int.max, Float(64)), (1, Float(1024))] {  // F(2×2), then F(4×4)
                    Graph.winogradLargeTileMinOutputSide = large
                    Graph.winogradPanelGemm = true
                    Threads.set(1)
                    assertGradients([("x", Fixtures.random([2, 8, 5, 9], seed: 402)), ("w", Fixtures.random([4, 8, 3, 3], seed: 403))]) { g, v in
                        try g.conv2d(v[0], weight: v[1], padding: 1)
                    }
                    func run(panels: Bool, threads: Int, chunkFloats: Int, magnitudes: Bool = false) throws -> [[Float]] {
                        // the magnitudes Σ|product| of each element: the direct sums over |x|, |w|, |dy|
                        Graph.winogradConvolution = !magnitudes
                        Graph.winogradPanelGemm = panels
                        Graph.winogradChunkFloats = chunkFloats
                        Threads.set(threads)
                        let g = Graph(training: true, random: RandomGenerator(seed: 0))
                        let (xv, wv) = magnitudes ? (g.variable(x.absolute), g.variable(w.absolute)) : (g.variable(x), g.variable(w))
                        let y = try g.conv2d(xv, weight: wv, padding: 1)
                        try g.backward(from: Fixtures.project(g, y, magnitudes: magnitudes))
                        return [y.value.array, xv.grad!.array, wv.grad!.array]
                    }
                    let reference = try run(panels: false, threads: 1, chunkFloats: saved.2)
                    let sizes = try run(panels: false, threads: 1, chunkFloats: saved.2, magnitudes: true)
                    for (threads, chunkFloats) in [(1, saved.2), (2, 1), (2, saved.2)] {
                        let panel = try run(panels: true, threads: threads, chunkFloats: chunkFloats)
                        for (name, ((a, b), s)) in zip(["y", "dx", "dw"], zip(zip(reference, panel), sizes)) {
                            let worst = zip(zip(a, b), s).map { abs($0.0 - $0.1) / (growth * Float.ulpOfOne * $1) }.max() ?? 0
                            XCTAssertLessThan(worst, 1, "\(set.rawValue), tile side \(large == 1 ? 4 : 2), \(threads) threads: \(name) at \(worst) of its bound")
                        }
                    }
                }
            }
        }
    }
}
