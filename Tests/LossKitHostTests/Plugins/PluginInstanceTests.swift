import Foundation
import LossKitCore
import LossKitHost
import LossKitPlugins
import XCTest

/// Creating instances, options through libffi, probes, and running a C objective's loss on the
/// host's graph.
final class PluginInstanceTests: XCTestCase {
    private var folder = ""
    private var loader = PluginLoader()

    override func setUpWithError() throws {
        folder = try PluginFixtures.makeFolder()
        for name in ["options_demo", "create_fails", "custom_square", "custom_bad_grad"] { try PluginFixtures.build(name, into: folder) }
        loader = PluginLoader()
        loader.load(searchPath: [folder])
        XCTAssertTrue(loader.rejected.isEmpty, "\(loader.rejected)")
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func instance(_ name: String, _ options: [(key: String, value: String)] = []) throws -> PluginInstance {
        try PluginInstance(plugin: loader.plugin(named: name)!, context: InstanceContext(instanceName: name, random: RandomGenerator(seed: 1)), options: options)
    }

    func testOptionsOfEveryTypeReachTheSetterThroughLibffi() throws {
        let demo = try instance("options-demo", [("count", "42"), ("rate", "0.25"), ("gain", "-1.5"), ("enabled", "false"), ("label", "a, b")])
        let probes = Dictionary(uniqueKeysWithValues: demo.probes().map { ($0.name, $0.value) })
        XCTAssertEqual(probes["count"], 42)
        XCTAssertEqual(probes["rate"], 0.25)
        XCTAssertEqual(probes["gain"], -1.5)
        XCTAssertEqual(probes["enabled"], 0)
        XCTAssertEqual(demo.optionValues["label"], .string("a, b"))
    }

    func testDefaultsAreAppliedWhenNoOptionIsGiven() throws {
        let probes = Dictionary(uniqueKeysWithValues: try instance("options-demo").probes().map { ($0.name, $0.value) })
        XCTAssertEqual(probes, ["count": 3, "rate": 0.5, "gain": 2, "enabled": 1])
    }

    func testAnOptionOfTheWrongTypeIsRejectedBeforeThePluginSeesIt() {
        XCTAssertThrowsError(try instance("options-demo", [("count", "3.5")])) {
            XCTAssertEqual("\($0)", "options-demo: option 'count' takes an integer; got '3.5'")
        }
        XCTAssertThrowsError(try instance("options-demo", [("enabled", "maybe")])) {
            XCTAssertEqual("\($0)", "options-demo: option 'enabled' takes true or false; got 'maybe'")
        }
    }

    func testAnOutOfRangeValueShowsThePluginsOwnMessage() {
        XCTAssertThrowsError(try instance("options-demo", [("rate", "1.5")])) {
            XCTAssertEqual("\($0)", "options-demo(rate=1.5): rate must be in [0, 1], got 1.5")
        }
    }

    func testAnUnknownOptionListsTheKnownOnes() {
        XCTAssertThrowsError(try instance("options-demo", [("rte", "0.1")])) {
            XCTAssertEqual("\($0)", "options-demo has no option 'rte' (options: count, rate, gain, enabled, label)")
        }
    }

    func testCreateFailureMessageReachesTheUser() {
        XCTAssertThrowsError(try instance("licensed")) {
            XCTAssertEqual("\($0)", "licensed: create failed: license file not found: /nonexistent/license.key")
        }
    }

    func testPluginsCheckPassesACorrectCustomOpAndCatchesAWrongGradient() throws {
        let good = try PluginChecker().check(loader.plugin(named: "custom-square")!)
        XCTAssertTrue(good.report.passed, good.description)
        let bad = try PluginChecker().check(loader.plugin(named: "custom-bad-grad")!)
        XCTAssertFalse(bad.report.passed, "a backward that forgets the factor 2 must fail: \(bad)")
    }

    func testACObjectivesLossIsTheHostsGraphValue() throws {
        let result = try PluginChecker().check(loader.plugin(named: "options-demo")!, options: [("gain", "3")])
        XCTAssertTrue(result.report.passed, result.description)
        XCTAssertGreaterThan(result.lossValue, 0)
    }
}
