import CLossKitABI
import Foundation
import LossKitPluginSDK
import XCTest

/// The SDK's data-parallel calls (ABI 1.4) against hosts that have them and hosts that do not.
final class DataParallelContextTests: XCTestCase {
    /// A host table of `size` bytes with rank 1 of 3 and collectives that record their calls.
    private final class FakeHost {
        let table: UnsafeMutablePointer<lk_host_api>
        init(size: Int) {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<lk_host_api>.size, alignment: 16)
            memset(raw, 0, MemoryLayout<lk_host_api>.size)
            table = raw.assumingMemoryBound(to: lk_host_api.self)
            table.pointee.rank = { _ in 1 }
            table.pointee.world_size = { _ in 3 }
            table.pointee.all_reduce_sum = { _, data, n, _ in
                for i in 0..<Int(n) { data![i] *= 3 }  // as if three ranks held the same values
                return LK_OK
            }
            table.pointee.all_gather = { _, data, bytes, out, _ in
                for r in 0..<3 { (out! + r * Int(bytes)).copyMemory(from: data!, byteCount: Int(bytes)) }
                return LK_OK
            }
            table.pointee.struct_size = UInt32(size)  // a smaller table hides what lies past it
        }
        deinit { UnsafeMutableRawPointer(table).deallocate() }
        var context: Context { Context(api: UnsafePointer(table), handle: OpaquePointer(bitPattern: 1)!) }
    }

    func testAHostOfABI14ReportsItsRankAndCollects() throws {
        let host = FakeHost(size: MemoryLayout<lk_host_api>.size)
        let c = host.context
        XCTAssertEqual(c.rank, 1)
        XCTAssertEqual(c.worldSize, 3)
        var values: [Float] = [1, 2]
        try c.allReduceSum(&values)
        XCTAssertEqual(values, [3, 6])
        XCTAssertEqual(try c.allGather([Int64(7), 8]), [7, 8, 7, 8, 7, 8])
    }

    /// A 1.3 host runs one process: its table ends before `rank`, and the SDK must not read past
    /// it (the fake's functions there would answer rank 1 of 3).
    func testAHostOfABI13IsOneProcess() throws {
        let host = FakeHost(size: MemoryLayout<lk_host_api>.offset(of: \lk_host_api.rank)!)
        let c = host.context
        XCTAssertEqual(c.rank, 0)
        XCTAssertEqual(c.worldSize, 1)
        var values: [Float] = [1, 2]
        try c.allReduceSum(&values)
        XCTAssertEqual(values, [1, 2])
        XCTAssertEqual(try c.allGather([Float(5)]), [5])
    }
}
