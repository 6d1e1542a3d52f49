import COpenBLAS
import LossKitCore
import XCTest

/// `sgemm` with beta 0 clears C itself where OpenBLAS's core would clear it with a scalar loop
/// (`BLASCore.clearsCWithScalarLoop`) and hands OpenBLAS beta 1. It must write exactly what
/// OpenBLAS's own beta-0 call writes, whatever C held before (NaN included), on every shape the
/// engine uses it for (Winograd's small products, im2col's wide ones, transposed operands).
final class GemmTests: XCTestCase {
    private func product(_ m: Int, _ n: Int, _ k: Int, transA: Bool, transB: Bool, threads: Int) {
        let previous = Threads.count
        defer { Threads.set(previous) }
        Threads.set(threads)
        let random = RandomGenerator(seed: UInt64(m * 7 + n * 3 + k))
        var a = [Float](repeating: 0, count: m * k), b = [Float](repeating: 0, count: k * n)
        random.fillUniform(&a, a.count, low: -1, high: 1)
        random.fillUniform(&b, b.count, low: -1, high: 1)
        var ours = [Float](repeating: .nan, count: m * n), openblas = [Float](repeating: .nan, count: m * n)
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                ours.withUnsafeMutableBufferPointer { pc in
                    sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: pa.baseAddress!, b: pb.baseAddress!, c: pc.baseAddress!)
                }
                cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                            Int32(m), Int32(n), Int32(k), 1, pa.baseAddress!, Int32(transA ? m : k),
                            pb.baseAddress!, Int32(transB ? k : n), 0, &openblas, Int32(n))
            }
        }
        let label = "\(m)×\(n)×\(k) transA \(transA) transB \(transB), \(threads) thread(s)"
        XCTAssertTrue(ours.allSatisfy(\.isFinite), "C's earlier NaNs are gone: \(label)")
        let differing = zip(ours, openblas).filter { $0.bitPattern != $1.bitPattern }.count
        XCTAssertEqual(differing, 0, "elements whose bits differ from OpenBLAS's beta 0: \(label)")
    }

    func testBetaZeroWritesWhatOpenBLASWritesOverAnyEarlierContents() {
        for threads in [1, 2] {
            product(32, 196, 32, transA: false, transB: false, threads: threads)   // Winograd forward, one tile element
            product(64, 49, 128, transA: true, transB: false, threads: threads)    // Winograd input gradient
            product(64, 1568, 288, transA: false, transB: false, threads: threads) // im2col forward, wide
            product(33, 47, 129, transA: false, transB: true, threads: threads)    // odd edges, transposed B
        }
    }

    func testBetaOneStillAddsOntoC() {
        let (m, n, k) = (17, 40, 23)
        let random = RandomGenerator(seed: 11)
        var a = [Float](repeating: 0, count: m * k), b = [Float](repeating: 0, count: k * n), c0 = [Float](repeating: 0, count: m * n)
        random.fillUniform(&a, a.count, low: -1, high: 1)
        random.fillUniform(&b, b.count, low: -1, high: 1)
        random.fillUniform(&c0, c0.count, low: -1, high: 1)
        var ours = c0, openblas = c0
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                ours.withUnsafeMutableBufferPointer { pc in
                    sgemm(m: m, n: n, k: k, a: pa.baseAddress!, b: pb.baseAddress!, beta: 1, c: pc.baseAddress!)
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                            pa.baseAddress!, Int32(k), pb.baseAddress!, Int32(n), 1, &openblas, Int32(n))
            }
        }
        XCTAssertEqual(zip(ours, openblas).filter { $0.bitPattern != $1.bitPattern }.count, 0)
        XCTAssertNotEqual(ours, c0, "the product was added")
    }
}
