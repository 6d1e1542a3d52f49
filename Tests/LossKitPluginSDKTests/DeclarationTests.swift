import CLossKitABI
@testable import LossKitPluginSDK
import XCTest

/// The SDK's declarations: what `describe` writes into the descriptor a host reads.
final class DeclarationTests: XCTestCase {
    final class Example: Objective {
        enum Mode: String, CaseIterable { case fast, slow }
        var tau = 0.07, views = 1, rate: Float = 0.5, flag = false, name = "x", mode = Mode.fast
        var probe = 1.5
        init(context: Context) {}
        func loss(_ g: GraphBuilder, batch: Batch, taps: Taps) throws -> Value { taps["features"] }
    }

    private let descriptor = describe(
        Example.self, kind: LK_KIND_OBJECTIVE, name: "example", version: "1.0.0", summary: "s", tapsRead: ["features", "pool*"],
        tapsReadWithoutGradient: ["pool*"], defaultTap: "features",
        options: [
            .double("tau", \.tau, default: 0.07, .above(0), doc: "d"),
            .int("views", \.views, default: 1, .within(1, 2), doc: "d"),
            .float("rate", \.rate, default: 0.5, .from(0, below: 1), doc: "d"),
            .bool("flag", \.flag, default: false, doc: "d"),
            .string("name", \.name, default: "x", doc: "d"),
            .choice("mode", \.mode, default: .fast, doc: "d"),
        ],
        probes: [Probe("probe", \.probe, doc: "d")],
        create: { Runtime.create(Example.self, $0, $1, $2) })

    func testTheDescriptorCarriesEachDeclarationTypedAndBounded() throws {
        let d = descriptor.pointee
        XCTAssertEqual(Int(d.struct_size), MemoryLayout<lk_plugin>.size)
        XCTAssertEqual(d.abi_minor, UInt16(LOSSKIT_ABI_MINOR))
        XCTAssertNil(d.options, "a 1.3 plugin declares option_decls, not 1.2 options")
        XCTAssertEqual(d.option_decl_count, 6)
        let o = (0..<6).map { d.option_decls![$0] }
        XCTAssertEqual(o.map { String(cString: $0.name) }, ["tau", "views", "rate", "flag", "name", "mode"])
        XCTAssertEqual(o.map(\.type), [LK_TYPE_DOUBLE, LK_TYPE_INT64, LK_TYPE_FLOAT, LK_TYPE_BOOL, LK_TYPE_STRING, LK_TYPE_STRING])
        XCTAssertEqual(o.map { String(cString: $0.default_value) }, ["0.07", "1", "0.5", "false", "x", "fast"])
        XCTAssertEqual(o[0].bounds, LK_BOUND_MIN | LK_BOUND_MIN_OPEN)
        XCTAssertEqual(o[1].bounds, LK_BOUND_MIN | LK_BOUND_MAX)
        XCTAssertEqual([o[1].minimum, o[1].maximum], [1, 2])
        XCTAssertEqual(o[2].bounds, LK_BOUND_MIN | LK_BOUND_MAX | LK_BOUND_MAX_OPEN)
        XCTAssertEqual(o[3].bounds, 0)
        XCTAssertNil(o[4].choices)
        XCTAssertEqual(String(cString: o[5].choices), "fast|slow", "an enumeration's cases are its choices")
        XCTAssertTrue(o.allSatisfy { $0.set != nil })
        XCTAssertEqual(d.probe_decl_count, 1)
        XCTAssertNotNil(d.probe_decls![0].get)
        XCTAssertEqual(String(cString: d.taps_read_without_gradient![0]!), "pool*")
        XCTAssertNil(d.taps_read_without_gradient![1])
    }

    func testAnEntryServesHostsOfItsMajorFromMinorThree() {
        XCTAssertTrue(servesHost(UInt16(LOSSKIT_ABI_MAJOR), 3))
        XCTAssertTrue(servesHost(UInt16(LOSSKIT_ABI_MAJOR), 9))
        XCTAssertFalse(servesHost(UInt16(LOSSKIT_ABI_MAJOR), 2), "a 1.2 host does not read option_decls")
        XCTAssertFalse(servesHost(UInt16(LOSSKIT_ABI_MAJOR) + 1, 3))
    }

    func testTheDeclaredSettersReachTheInstanceThroughTheThunks() {
        // what the host does through libffi, called directly: set(self, index, value, err)
        let example = Example(context: Context(api: UnsafePointer(bitPattern: 8)!, handle: OpaquePointer(bitPattern: 8)!))
        _ = descriptor
        let box = InstanceBox(api: UnsafePointer(bitPattern: 8)!, objective: example)
        box.declarations = DeclarationRegistry.shared.bind(example)
        let p = Unmanaged.passRetained(box).toOpaque()
        defer { Unmanaged<InstanceBox>.fromOpaque(p).release() }
        var err = lk_error()
        XCTAssertEqual(DeclaredThunks.setDouble(p, 0, 0.5, &err), LK_OK)
        XCTAssertEqual(DeclaredThunks.setInt64(p, 1, 2, &err), LK_OK)
        XCTAssertEqual(DeclaredThunks.setFloat(p, 2, 0.25, &err), LK_OK)
        XCTAssertEqual(DeclaredThunks.setBool(p, 3, true, &err), LK_OK)
        "slow".withCString { XCTAssertEqual(DeclaredThunks.setString(p, 5, $0, &err), LK_OK) }
        XCTAssertEqual([example.tau, Double(example.views), Double(example.rate)], [0.5, 2, 0.25])
        XCTAssertTrue(example.flag)
        XCTAssertEqual(example.mode, .slow)
        XCTAssertEqual(DeclaredThunks.getDouble(p, 0), 1.5)
        XCTAssertEqual(DeclaredThunks.setDouble(p, 9, 1, &err), LK_ERROR, "an index past the declarations")
        XCTAssertEqual(withUnsafeBytes(of: &err.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }, "no option 9 on this instance")
    }
}
