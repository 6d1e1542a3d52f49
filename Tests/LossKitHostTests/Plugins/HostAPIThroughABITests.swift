import Foundation
import LossKitHost
import LossKitPlugins
import XCTest

/// Every operation of the host table, called by a plain-C plugin and gradient-checked through
/// the ABI as `losskit plugins check` does (the host's own tests check the ops in Swift).
final class HostAPIThroughABITests: XCTestCase {
    func testEveryHostOperationIsGradientCheckedThroughTheABI() throws {
        let folder = try PluginFixtures.makeFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try PluginFixtures.build("every_op", into: folder)
        let loader = PluginLoader()
        loader.load(searchPath: [folder])
        let plugin = try XCTUnwrap(loader.plugin(named: "every-op"), "\(loader.rejected)")
        let result = try PluginChecker().check(plugin)
        XCTAssertTrue(result.passed, result.description)
        XCTAssertEqual(result.tapsWithoutGradient, [], result.description)
        XCTAssertTrue(result.lossValue.isFinite)
    }

    /// The fixture calls every graph operation the header declares: an op added to the table
    /// without a call here fails this test, so no op goes unchecked through the ABI.
    func testTheFixtureCallsEveryGraphOperationInTheHeader() throws {
        let header = try String(contentsOfFile: PluginFixtures.headerDirectory + "/losskit.h", encoding: .utf8)
        let fixture = try String(contentsOfFile: PluginFixtures.sourceDirectory + "/every_op.c", encoding: .utf8)
        let table = try XCTUnwrap(header.range(of: "typedef struct lk_host_api").map { header[$0.lowerBound...] })
        let body = table[..<(try XCTUnwrap(table.range(of: "} lk_host_api;")).lowerBound)]
        let pattern = try NSRegularExpression(pattern: #"lk_node \*\(\*([a-z_0-9]+)\)\(lk_graph"#)
        let text = String(body)
        let ops = pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { String(text[Range($0.range(at: 1), in: text)!]) }
        XCTAssertGreaterThan(ops.count, 40, "the graph operations of the table")
        // custom_op has its own fixtures (custom_square, custom_bad_grad) with their backward code
        for op in ops where op != "custom_op" {
            XCTAssertTrue(fixture.contains("api->\(op)("), "every_op.c does not call \(op)")
        }
        XCTAssertTrue(fixture.contains("api->encode("), "encode again")
    }
}
