import CLossKitABI
import LossKitCore
@testable import LossKitHost
@testable import LossKitPlugins
import XCTest

final class ConvNetPluginTests: XCTestCase {
    func testConvNetLibraryCarriesBothEncoders() throws {
        let loader = try BuiltPlugins.loader(["ConvNet"])
        XCTAssertEqual(loader.plugins.map(\.name), ["convnet-s", "convnet-l"])
        XCTAssertTrue(loader.plugins.allSatisfy { $0.kind == .encoder })
        XCTAssertEqual(loader.plugin(named: "convnet-s")?.options.map(\.name), ["width", "dropout"])
        XCTAssertEqual(loader.plugin(named: "convnet-l")?.options.map(\.name), ["width", "dropout"])
    }

    func testConvNetSTapsHaveTheReferenceShapes() throws {
        let loader = try BuiltPlugins.loader(["ConvNet"])
        let random = RandomGenerator(seed: 1)
        let ctx = InstanceContext(instanceName: "encoder", random: random)
        let enc = try PluginInstance(plugin: loader.plugin(named: "convnet-s")!, context: ctx)
        try enc.prepare(SetupInfo(instance: "encoder", tap: nil, channels: 1, height: 28, width: 28, numClasses: 10,
                                  datasetSize: 100, pixelMin: -1, pixelMax: 1, batchSize: 2))
        let pg = PluginGraph(graph: Graph(training: true, random: random), encoder: nil)
        let x = Tensor(uninitialized: [2, 1, 28, 28])
        random.fillNormal(x.data, x.count)
        let taps = try enc.encode(pg, images: pg.graph.constant(x))
        let shapes = Dictionary(uniqueKeysWithValues: zip(taps.names, taps.nodes.map(\.shape)))
        XCTAssertEqual(shapes["conv1"], [2, 32, 28, 28])
        XCTAssertEqual(shapes["conv2"], [2, 32, 28, 28])
        XCTAssertEqual(shapes["pool1"], [2, 32, 14, 14])
        XCTAssertEqual(shapes["conv4"], [2, 64, 14, 14])
        XCTAssertEqual(shapes["pool2"], [2, 64, 7, 7])
        XCTAssertEqual(shapes["conv5"], [2, 128, 7, 7])
        XCTAssertEqual(shapes["features"], [2, 128])
        XCTAssertNotNil(taps["pool1"]?.switches, "pool taps carry their switches")
        // 5 convs × (weight, γ, β) parameters and 5 × 2 running-statistics states
        XCTAssertEqual(ctx.parameters.count, 15)
        XCTAssertEqual(ctx.states.count, 10)
    }

    /// `dropout` masks the path after each pool while training and nothing else: the pool taps
    /// are the layer's own output, the layers after a pool see the mask, and evaluation is the
    /// encoder without it.
    func testDropoutMasksThePathAfterEachPoolWhileTrainingOnly() throws {
        let loader = try BuiltPlugins.loader(["ConvNet"])
        let x = Tensor(uninitialized: [4, 1, 28, 28])
        RandomGenerator(seed: 5).fillNormal(x.data, x.count)
        func taps(dropout: String?, training: Bool) throws -> (values: [String: [Float]], dropouts: Int) {
            let random = RandomGenerator(seed: 1)
            let enc = try PluginInstance(plugin: loader.plugin(named: "convnet-s")!, context: InstanceContext(instanceName: "encoder", random: random),
                                         options: dropout.map { [("dropout", $0)] } ?? [])
            try enc.prepare(SetupInfo(instance: "encoder", tap: nil, channels: 1, height: 28, width: 28, numClasses: 10,
                                      datasetSize: 100, pixelMin: -1, pixelMax: 1, batchSize: 4))
            let graph = Graph(training: training, random: random)
            graph.profiler = OpProfiler(byShape: true)
            let pg = PluginGraph(graph: graph, encoder: nil)
            let t = try enc.encode(pg, images: pg.graph.constant(x))
            let dropouts = graph.profiler!.shapes.filter { $0.key.hasPrefix("dropout ") }.map(\.value.calls).reduce(0, +)
            return (Dictionary(uniqueKeysWithValues: zip(t.names, t.nodes.map(\.value.array))), dropouts)
        }
        let plain = try taps(dropout: nil, training: true), masked = try taps(dropout: "0.5", training: true)
        XCTAssertEqual(masked.dropouts, 2, "one after each pool")
        XCTAssertEqual(plain.dropouts, 0)
        for name in ["conv1", "conv2", "pool1"] { XCTAssertEqual(masked.values[name], plain.values[name], "\(name): before the first mask") }
        for name in ["conv3", "conv4", "pool2", "conv5", "features"] { XCTAssertNotEqual(masked.values[name], plain.values[name], "\(name): after it") }
        XCTAssertEqual(try taps(dropout: "0", training: true).values, plain.values, "dropout=0 is the encoder as before")
        let evaluated = try taps(dropout: "0.5", training: false)
        XCTAssertEqual(evaluated.values, try taps(dropout: nil, training: false).values, "evaluation runs without the mask")
        XCTAssertEqual(evaluated.dropouts, 0)
        for bad in ["1", "-0.1"] {
            XCTAssertThrowsError(try taps(dropout: bad, training: true), "dropout=\(bad)")
        }
    }

    /// Both encoders, as `losskit plugins check` runs them. convnet-l's nine ReLU layers put
    /// several kinks inside one finite-difference step along some coordinates (its first
    /// batch-norm scale moves every unit), which only the interval mean accepts (GradientCheck).
    func testConvNetGradientChecksThroughThePluginBoundary() throws {
        let loader = try BuiltPlugins.loader(["ConvNet"])
        for name in ["convnet-s", "convnet-l"] {
            let result = try PluginChecker().check(loader.plugin(named: name)!, options: [("width", "0.25")])
            XCTAssertTrue(result.report.passed, result.description)
        }
    }

    func testAnImageSizeThePoolsCannotHalveIsRefused() throws {
        let loader = try BuiltPlugins.loader(["ConvNet"])
        let enc = try PluginInstance(plugin: loader.plugin(named: "convnet-s")!, context: InstanceContext(instanceName: "encoder", random: RandomGenerator(seed: 1)))
        XCTAssertThrowsError(try enc.prepare(SetupInfo(instance: "encoder", tap: nil, channels: 1, height: 30, width: 30, numClasses: 10,
                                                       datasetSize: 1, pixelMin: 0, pixelMax: 1, batchSize: 1))) {
            XCTAssertEqual("\($0)", "convnet-s: prepare failed: images of 30×30 cannot pass 2 2×2 pools: use sizes divisible by 4")
        }
    }

    /// ABI 1.1 appended `batch_norm_relu` to the host table; the SDK uses it where the table has
    /// it and falls back to batch_norm then relu on a 1.0 host. Both give the same taps, and only
    /// the 1.0 run records separate ReLUs.
    func testConvNetFusesBatchNormReLUOnThisHostAndFallsBackOnAnABI10Host() throws {
        XCTAssertGreaterThanOrEqual(HostAPITable.shared.pointee.abi_minor, 1)
        XCTAssertNotNil(HostAPITable.shared.pointee.batch_norm_relu)
        XCTAssertLessThan(Int(HostAPITable.abi10.pointee.struct_size), MemoryLayout<lk_host_api>.size)
        let loader = try BuiltPlugins.loader(["ConvNet"])
        let x = Tensor(uninitialized: [2, 1, 28, 28])
        RandomGenerator(seed: 3).fillNormal(x.data, x.count)
        func run(_ api: UnsafePointer<lk_host_api>) throws -> (taps: [String: [Float]], ops: Set<String>) {
            let random = RandomGenerator(seed: 1)
            let enc = try PluginInstance(plugin: loader.plugin(named: "convnet-s")!,
                                         context: InstanceContext(instanceName: "encoder", random: random), api: api)
            try enc.prepare(SetupInfo(instance: "encoder", tap: nil, channels: 1, height: 28, width: 28, numClasses: 10,
                                      datasetSize: 100, pixelMin: -1, pixelMax: 1, batchSize: 2))
            let graph = Graph(training: true, random: random)
            graph.profiler = OpProfiler()
            let pg = PluginGraph(graph: graph, encoder: nil)
            let taps = try enc.encode(pg, images: pg.graph.constant(x))
            return (Dictionary(uniqueKeysWithValues: zip(taps.names, taps.nodes.map(\.value.array))), Set(graph.profiler!.seconds.keys))
        }
        let (fused, older) = (try run(UnsafePointer(HostAPITable.shared)), try run(HostAPITable.abi10))
        XCTAssertEqual(fused.taps.keys.sorted(), older.taps.keys.sorted())
        for (name, values) in fused.taps { XCTAssertEqual(values, older.taps[name], "tap \(name)") }
        XCTAssertFalse(fused.ops.contains("relu"), "fused: no separate ReLU")
        XCTAssertTrue(older.ops.contains("relu"), "ABI 1.0 host: batch_norm, then relu")
    }

    /// A bad call of the 1.1 function leaves the sticky error naming it, as every graph function does.
    func testBatchNormReLUThroughTheTableReportsBadInputByName() {
        let api = HostAPITable.shared.pointee
        let pg = PluginGraph(graph: Graph(training: true, random: RandomGenerator(seed: 0)), encoder: nil)
        let x = pg.graph.constant(Tensor(zeros: [2, 2, 3]))
        let gamma = pg.graph.constant(Tensor(shape: [2], repeating: 1)), beta = pg.graph.constant(Tensor(zeros: [2]))
        XCTAssertNil(api.batch_norm_relu(handle(pg), handle(x), handle(gamma), handle(beta), nil, nil, 0.1, 1e-5))
        XCTAssertTrue(pg.error?.hasSuffix("batch_norm_relu: batchNorm needs [B, C] or [B, C, H, W]; got [2×2×3]") ?? false,
                      pg.error ?? "no error")
        let fresh = PluginGraph(graph: Graph(training: true, random: RandomGenerator(seed: 0)), encoder: nil)
        XCTAssertNil(api.batch_norm_relu(handle(fresh), nil, handle(gamma), handle(beta), nil, nil, 0.1, 1e-5))
        XCTAssertTrue(fresh.error?.hasSuffix("batch_norm_relu: input 1 is NULL") ?? false, fresh.error ?? "no error")
    }
}
