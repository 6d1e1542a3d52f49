import CLossKitABI
import Foundation
import LossKitCore
@testable import LossKitHost
@testable import LossKitPlugins
import LossKitRun
import XCTest

/// The ABI promise across minor versions: a plugin written against losskit.h 1.2 — C built with
/// the 1.2 header kept in Fixtures/abi-1.2, or Swift written the 1.2 way — loads, checks and
/// trains on this host as before; and ABI 1.3's declarations (options and probes declared once)
/// do what they say.
final class ABICompatibilityTests: XCTestCase {
    private var folder = ""
    private let abi12 = PluginFixtures.repositoryRoot.appendingPathComponent("Tests/LossKitHostTests/Fixtures/abi-1.2").path

    override func setUpWithError() throws {
        _ = try BuiltPlugins.executable()
        folder = try BuiltPlugins.folder(["ConvNet"])
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func run(_ args: [String]) -> (Int32, String) { PluginFixtures.losskit(args) }

    private func load(_ library: String) throws -> LoadedPlugin {
        let loader = PluginLoader()
        let found = loader.loadLibrary(at: library)
        XCTAssertTrue(loader.rejected.isEmpty, "\(loader.rejected)")
        return try XCTUnwrap(found.first)
    }

    func testACPluginBuiltAgainstThe12HeaderLoadsChecksTrainsAndResumes() throws {
        let library = try PluginFixtures.build("entropy_min", into: folder, source: abi12 + "/entropy_min_abi12.c", header: abi12)
        let plugin = try load(library)
        XCTAssertEqual(plugin.abiVersion, "1.2")
        XCTAssertEqual(plugin.options.map(\.call), [.symbol("entropy_min_set_temperature"), .symbol("entropy_min_set_all_rows")])
        XCTAssertEqual(plugin.probes.map(\.call), [.symbol("entropy_min_entropy")])

        var (status, out) = run(["plugins", "check", library, "--term", "entropy-min(temperature=2)"])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.hasPrefix("ok: entropy-min"), out)
        // its own setter still refuses what it refused
        (status, out) = run(["plugins", "check", library, "--term", "entropy-min(temperature=-1)"])
        XCTAssertEqual(status, 1, out)
        XCTAssertTrue(out.contains("temperature must be > 0, got -1"), out)

        let data = try SyntheticData.makeFolder(train: 40, test: 8), runFolder = SyntheticData.runFolder()
        defer { [data, runFolder].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        let common = ["--plugin-path", folder, "--only-plugin-path", "--data", "idx:" + data, "--encoder", "convnet-s(width=0.25)",
                      "--loss", "ce + 0.3*entropy-min(temperature=2)", "--labels-per-class", "2", "--batch-size", "8",
                      "--log-every", "1", "--threads", "1", "--out", runFolder]
        (status, out) = run(["train", "--steps", "2"] + common)
        XCTAssertEqual(status, 0, out)
        (status, out) = run(["train", "--resume", "--steps", "4"] + common)
        XCTAssertEqual(status, 0, out)
        let lines = try MetricsLog.read(runFolder + "/metrics.jsonl").filter { $0["loss"] != nil }
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(MethodHarness.probe(lines, "entropy-min.entropy").count, 4, "the probe is read through its 1.2 getter")
    }

    /// One loss, three builds: the 1.2 source with the 1.2 header, the same source with this
    /// header (it compiles unchanged under -Wall -Wextra -Werror), and the example rewritten with
    /// 1.3 declarations.
    func testThe12SourceAndThe13RewriteComputeTheSameLoss() throws {
        let builds = [
            try PluginFixtures.build("em12", into: folder, source: abi12 + "/entropy_min_abi12.c", header: abi12),
            try PluginFixtures.build("em12on13", into: folder, source: abi12 + "/entropy_min_abi12.c"),
            try PluginFixtures.build("em13", into: folder,
                                     source: PluginFixtures.repositoryRoot.appendingPathComponent("Examples/entropy-min/entropy_min.c").path),
        ]
        let losses = try builds.map { library -> Float in
            let result = try PluginChecker().check(try load(library), options: [("temperature", "2"), ("all_rows", "true")])
            XCTAssertTrue(result.passed, result.description)
            return result.lossValue
        }
        XCTAssertEqual(Set(losses.map(\.bitPattern)).count, 1, "\(losses)")
        XCTAssertEqual(try load(builds[2]).options.map(\.call), [.address(index: 0), .address(index: 1)])
    }

    func testASwiftPluginWrittenThe12WayLoadsChecksAndTrains() throws {
        let source = BuiltPlugins.buildDirectory + "/libFixtureSwiftABI12.so"
        let library = folder + "/libFixtureSwiftABI12.so"
        try FileManager.default.copyItem(atPath: source, toPath: library)
        let plugin = try load(library)
        XCTAssertEqual(plugin.options.map(\.call), [.symbol("legacy_energy_set_scale")])
        var (status, out) = run(["plugins", "check", library, "--term", "legacy-energy(scale=3)"])
        XCTAssertEqual(status, 0, out)
        XCTAssertTrue(out.contains("probes energy="), out)
        (status, out) = run(["plugins", "check", library, "--term", "legacy-energy(scale=-3)"])
        XCTAssertEqual(status, 1, out)
        XCTAssertTrue(out.contains("legacy-energy(scale=-3): scale must be ≥ 0, got -3.0"), out)
    }

    func testEveryDeclaredTypeIsSetChecksItsRangeAndEchoesThroughItsProbe() throws {
        let library = try PluginFixtures.build("declared_options", into: folder)
        let plugin = try load(library)
        XCTAssertEqual(plugin.options.map(\.accepts), ["[0, 10]", "≥ 1", "[0, 1)", "true | false", "fast | slow | exhaustive"])
        let context = InstanceContext(instanceName: "declared", random: RandomGenerator(seed: 1), logSink: { _ in })
        func refusal(_ key: String, _ value: String) -> String {
            do {
                _ = try PluginInstance(plugin: plugin, context: context, options: [(key, value)])
                return "accepted"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(refusal("scale", "10.5"), "declared(scale=10.5): scale must be in [0, 10], got 10.5")
        XCTAssertEqual(refusal("count", "0"), "declared(count=0): count must be ≥ 1, got 0")
        XCTAssertEqual(refusal("rate", "1"), "declared(rate=1): rate must be in [0, 1), got 1.0")
        XCTAssertEqual(refusal("mode", "quick"), "declared(mode=quick): mode must be one of fast, slow, exhaustive, got 'quick'")
        XCTAssertEqual(refusal("flag", "maybe"), "declared: option 'flag' takes true or false; got 'maybe'")
        // a declared choice longer than the plugin's field: its setter refuses it, and the check says so
        XCTAssertEqual(refusal("mode", "exhaustive"), "declared(mode=exhaustive): at most 7 bytes, got 10")
        let result = try PluginChecker().check(plugin, options: [("count", "7"), ("rate", "0.25"), ("flag", "true"), ("mode", "slow")])
        XCTAssertTrue(result.report.passed, result.description)
        XCTAssertEqual(result.optionFailures, ["mode=exhaustive is declared valid but failed: declared(mode=exhaustive): at most 7 bytes, got 10"])
        XCTAssertFalse(result.passed)
        let probes = Dictionary(uniqueKeysWithValues: result.probes.map { ($0.name, $0.value) })
        XCTAssertEqual(probes["echoed_count"], 7)
        XCTAssertEqual(probes["echoed_mode_length"], 4)
        XCTAssertEqual(probes["echoed_rate"], 0.25)
        XCTAssertEqual(probes["echoed_flag"], 1)
        XCTAssertGreaterThan(probes["calls"] ?? 0, 100, "plugins check calls loss for every nudge")
    }

    /// A tap no gradient reaches fails a 1.3 plugin's check unless it declares it read without
    /// gradient (a 1.2 plugin, which could not declare it, gets a note: see MethodGradientTests).
    func testATapReadWithoutGradientMustBeDeclared() throws {
        let library = try PluginFixtures.build("silent_tap", into: folder)
        let loader = PluginLoader()
        let found = loader.loadLibrary(at: library)
        XCTAssertEqual(found.map(\.name), ["declares-logits", "ignores-logits"])
        XCTAssertEqual(found[0].tapsReadWithoutGradient, ["logits"])
        let results = try found.map { try PluginChecker().check($0) }
        XCTAssertTrue(results[0].passed, results[0].description)
        XCTAssertEqual(results[0].tapsWithoutGradient, ["logits"])
        XCTAssertTrue(results[1].report.passed, "element by element it passes: \(results[1])")
        XCTAssertFalse(results[1].passed)
        XCTAssertTrue(results[1].description.contains("FAILED: declared taps that receive no gradient: logits"), results[1].description)
    }

    func testAParameterMadeInLossIsRefusedWithTheReason() throws {
        let plugin = try load(try PluginFixtures.build("param_in_loss", into: folder))
        XCTAssertThrowsError(try PluginChecker().check(plugin)) { XCTAssertTrue("\($0)".contains("param_create refused in loss"), "\($0)") }
        let context = InstanceContext(instanceName: "late", random: RandomGenerator(seed: 1), logSink: { _ in })
        context.buildingGraph = true
        XCTAssertThrowsError(try context.createParameter(name: "w", group: "default", shape: [1], initializer: .zeros, noDecay: false)) {
            XCTAssertEqual("\($0)", "parameter 'late.w': param_create may not be called in loss or encode (call it in prepare)")
        }
        context.buildingGraph = false
        XCTAssertNoThrow(try context.createParameter(name: "w", group: "default", shape: [1], initializer: .zeros, noDecay: false))
    }

    func testAFieldOfAnotherTypeThanItsDeclarationDoesNotCompile() {
        XCTAssertThrowsError(try PluginFixtures.build("declared_wrong_field", into: folder)) {
            XCTAssertTrue("\($0)".contains("option field is not double"), "\($0)")
        }
    }

    func testAnEncoderByItsNewNameAndAHostTableWithBothNames() throws {
        let plugin = try load(try PluginFixtures.build("encoder_by_new_name", into: folder))
        XCTAssertEqual(plugin.kind, .encoder)
        let result = try PluginChecker().check(plugin)
        XCTAssertTrue(result.passed, result.description)
        XCTAssertNotNil(HostAPITable.shared.pointee.encode_again)
        XCTAssertEqual(unsafeBitCast(HostAPITable.shared.pointee.encode_again, to: Int.self),
                       unsafeBitCast(HostAPITable.shared.pointee.encode, to: Int.self))
    }
}
