import Foundation
@testable import LossKitCore
import XCTest

/// Large tensors live in their own 2 MiB-aligned mappings (huge pages where the kernel offers
/// them). The memory is whole, and goes back to the pool and out again.
final class BufferPoolTests: XCTestCase {
    func testALargeBufferStartsOnAHugePageBoundaryAndHoldsEveryFloat() {
        let n = BufferPool.hugePageMinFloats + 12_345   // a tail past the last whole 2 MiB
        let t = Tensor(uninitialized: [n])
        XCTAssertEqual(Int(bitPattern: t.data) % BufferPool.hugePage, 0)
        for i in 0..<n { t.data[i] = Float(i % 1000) }
        XCTAssertEqual(t.data[n - 1], Float((n - 1) % 1000))
        XCTAssertEqual(t.array.reduce(0, +), (0..<n).reduce(Float(0)) { $0 + Float($1 % 1000) })
    }

    func testAFreedLargeBufferIsReusedForTheSameSizeAndZeroedWhenAskedFor() {
        let n = BufferPool.hugePageMinFloats * 3
        BufferPool.shared.drain()
        var first: UnsafeMutablePointer<Float>?
        do {
            let t = Tensor(uninitialized: [n])
            t.data.update(repeating: 7, count: n)
            first = t.data
        }
        let reused = BufferPool.shared.reuses
        let z = Tensor(zeros: [n])
        XCTAssertEqual(z.data, first, "the pool hands the same mapping back")
        XCTAssertEqual(BufferPool.shared.reuses, reused + 1)
        XCTAssertTrue(z.array.allSatisfy { $0 == 0 })
        BufferPool.shared.drain()   // unmaps it; a later tensor of that size gets a fresh mapping
        XCTAssertTrue(Tensor(zeros: [n]).array.allSatisfy { $0 == 0 })
    }
}
