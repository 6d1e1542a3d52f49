import CLossKitABI
import LossKitCore
@testable import LossKitPlugins
import XCTest

/// The host table's collectives (ABI 1.4) in a run of one process: what they do, and the
/// arguments they refuse with a message instead of reading a NULL pointer.
final class CollectivesTableTests: XCTestCase {
    private let api = HostAPITable.shared.pointee
    private let context = InstanceContext(instanceName: "t", random: RandomGenerator(seed: 1), logSink: { _ in })

    private func message(_ err: lk_error) -> String {
        var copy = err
        return withUnsafeBytes(of: &copy.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    func testOneProcessIsRankZeroOfOneAndItsCollectivesKeepOrCopy() {
        let ctx = handle(context)
        XCTAssertEqual(api.rank(ctx), 0)
        XCTAssertEqual(api.world_size(ctx), 1)
        var values: [Float] = [1, 2, 3], err = lk_error()
        XCTAssertEqual(values.withUnsafeMutableBufferPointer { api.all_reduce_sum(ctx, $0.baseAddress, 3, &err) }, LK_OK)
        XCTAssertEqual(values, [1, 2, 3])
        var out = [Float](repeating: 0, count: 3)
        let status = values.withUnsafeBytes { v in out.withUnsafeMutableBytes { api.all_gather(ctx, v.baseAddress, 12, $0.baseAddress, &err) } }
        XCTAssertEqual(status, LK_OK)
        XCTAssertEqual(out, values)
    }

    func testBadArgumentsAreRefusedWithAMessage() {
        let ctx = handle(context)
        var err = lk_error()
        XCTAssertEqual(api.all_reduce_sum(ctx, nil, 3, &err), LK_ERROR)
        XCTAssertEqual(message(err), "all_reduce_sum: 3 values at NULL")
        var one: Float = 1
        XCTAssertEqual(api.all_reduce_sum(ctx, &one, -1, &err), LK_ERROR)
        XCTAssertEqual(message(err), "all_reduce_sum: -1 values at a pointer")
        XCTAssertEqual(api.all_reduce_sum(nil, &one, 1, &err), LK_ERROR)
        XCTAssertEqual(message(err), "all_reduce_sum: no context")
        XCTAssertEqual(api.all_gather(ctx, &one, 4, nil, &err), LK_ERROR)
        XCTAssertEqual(message(err), "all_gather: 4 bytes with a NULL buffer")
        var two: Float = 0
        XCTAssertEqual(api.all_gather(nil, &one, 4, &two, &err), LK_ERROR)
        XCTAssertEqual(message(err), "all_gather: no context")
        XCTAssertEqual(api.all_reduce_sum(ctx, nil, 0, &err), LK_OK, "nothing to sum is no error")
        XCTAssertEqual(api.rank(nil), 0)
        XCTAssertEqual(api.world_size(nil), 1)
    }
}
