import LossKitCore
@testable import LossKitHost
import LossKitRun
import XCTest

/// The benchmark's bookkeeping (not its speed): FLOP counts match the encoder's arithmetic and
/// the steady-state step reuses its buffers.
final class BenchmarkTests: XCTestCase {
    /// convnet-s's five 3×3 convolutions: (input channels, output channels, side).
    private let layers = [(1, 32, 28), (32, 32, 28), (32, 64, 14), (64, 64, 14), (64, 128, 7)]

    /// A `ce` row of convnet-s at batch 16, one thread, on a small random data set.
    private func smallRow(windows: Int, byShape: Bool = false) throws -> TrainingBenchmark.Row {
        var bench = TrainingBenchmark()
        bench.batchSize = 16
        bench.stepsPerWindow = windows
        bench.windows = windows
        bench.threads = 1
        bench.byShape = byShape
        return try bench.training(loss: "ce", data: try TrainingBenchmark.makeData(count: 1000), loader: try BuiltPlugins.loader(["ConvNet"]))
    }

    func testTrainingStepCountsTheReferenceEncodersFlopsAndReusesBuffers() throws {
        let row = try smallRow(windows: 2)
        // forward Σ 2·O·C·9·H·W over the five 3×3 convolutions, then dW for all and dX for all but the first
        let forward = layers.map { 2.0 * Double($0.1 * $0.0 * 9 * $0.2 * $0.2) }
        let expected = 2 * forward.reduce(0, +) + forward.dropFirst().reduce(0, +)
        XCTAssertEqual(row.flopsPerImage, expected, accuracy: expected * 0.01, "≈131 MFLOP per image for convnet-s")
        XCTAssertGreaterThan(row.imagesPerSecond.median, 0)
        XCTAssertEqual(row.allocationsPerStep, 0, "a warm step allocates no new tensor memory")
        XCTAssertTrue(row.shares.contains { $0.kind == "conv" })
        XCTAssertTrue(row.shapes.isEmpty, "per-shape times only when asked for")
    }

    func testByShapeRowsNameEachEncoderLayerOncePerStep() throws {
        let row = try smallRow(windows: 1, byShape: true)
        // each convolution under its own operand shapes
        for (c, o, s) in layers {
            let label = "conv [16, \(c), \(s), \(s)] · [\(o), \(c), 3, 3] → [16, \(o), \(s), \(s)]"
            let shape = try XCTUnwrap(row.shapes.first { $0.label == label }, "\(label); have \(row.shapes.map(\.label))")
            XCTAssertEqual(shape.callsPerStep, 1, label)
            XCTAssertGreaterThan(try XCTUnwrap(shape.forwardSeconds, label), 0, label)
            XCTAssertGreaterThan(shape.backwardSeconds, 0, label)
        }
        XCTAssertEqual(row.shapes.map(\.fraction), row.shapes.map(\.fraction).sorted(by: >), "largest first")
        let total = row.shapes.reduce(0) { $0 + $1.fraction }
        XCTAssertGreaterThan(total, 0.3, "the ops timed per shape are most of a step")
        XCTAssertLessThanOrEqual(total, 1, "and no more than all of it")
    }

    func testCountsOfZeroAreRefusedBeforeAnyTiming() throws {
        let loader = try BuiltPlugins.loader(["ConvNet", "SC"])
        var bench = TrainingBenchmark()
        bench.windows = 0   // once a crash: the median of no windows
        XCTAssertThrowsError(try bench.training(loss: "ce", data: "/nonexistent", loader: loader)) {
            XCTAssertEqual($0 as? BenchmarkError, BenchmarkError("windows must be at least 1, got 0"))
        }
        bench.windows = 1
        bench.stepsPerWindow = 0   // once a NaN rate, and JSON that could not be written
        XCTAssertThrowsError(try bench.inference(data: "/nonexistent", loader: loader)) {
            XCTAssertEqual($0 as? BenchmarkError, BenchmarkError("steps per window must be at least 1, got 0"))
        }
        var boundary = BoundaryBenchmark()
        boundary.pairs = 0
        XCTAssertThrowsError(try boundary.run(data: "/nonexistent", loader: loader)) {
            XCTAssertEqual($0 as? BenchmarkError, BenchmarkError("pairs must be at least 1, got 0"))
        }
    }

    func testLoopBenchmarkTimesBothPathsForEveryShareAndGap() throws {
        let previous = Threads.count
        defer { Threads.set(previous) }
        Threads.set(2)
        let rows = try LoopOverheadBenchmark.run(loops: 5, shares: [20, 40], gaps: [0, 30])
        XCTAssertEqual(rows.count, 8, "two paths × two shares × two gaps")
        XCTAssertEqual(Set(rows.map(\.path)), ["engine", "dispatch"])
        for r in rows {
            // a loop cannot end before one share's busy work: a negative overhead is a clock mistake
            XCTAssertGreaterThanOrEqual(r.medianOverheadMicroseconds, 0, "\(r)")
            XCTAssertGreaterThanOrEqual(r.p90OverheadMicroseconds, r.medianOverheadMicroseconds, "\(r)")
        }
        Threads.set(1)
        XCTAssertThrowsError(try LoopOverheadBenchmark.run(loops: 5), "one thread runs loops inline: nothing to time")
        XCTAssertThrowsError(try LoopOverheadBenchmark.run(loops: 0))
    }

    func testConvBenchmarkReportsAllFiveLayers() throws {
        let rows = try ConvBenchmark.run([ConvBenchmark.Layer(batch: 2, inChannels: 3, outChannels: 4, size: 6),
                                          ConvBenchmark.Layer(batch: 2, inChannels: 8, outChannels: 4, size: 16),
                                          ConvBenchmark.Layer(batch: 2, inChannels: 8, outChannels: 4, size: 3)], repeats: 1)
        // where the Winograd GEMMs run on the engine's panel kernel, each Winograd row again on OpenBLAS
        let winograd = MachineReport.winogradPanelGemms ? ["winograd-f2", "winograd-f4", "winograd-f2-openblas", "winograd-f4-openblas"]
                                                        : ["winograd-f2", "winograd-f4"]
        let notDefault = [Bool](repeating: false, count: winograd.count - 2)
        XCTAssertEqual(rows.map(\.path), ["im2col", "direct", "im2col"] + winograd + ["im2col"] + winograd,
                       "direct summation timed up to 3 input channels, Winograd from 8")
        XCTAssertEqual(rows.map(\.isDefault), [true, false, false, false, true] + notDefault + [true, false, false] + notDefault,
                       "direct the default for 1 input channel only, Winograd from 4×4 outputs, F(4×4) from 16×16")
        for row in rows {
            XCTAssertGreaterThan(row.forwardGFlops, 0)
            // the backward is clocked on its own; a difference of medians once printed 1e8 GFLOP/s
            XCTAssertGreaterThan(row.backwardGFlops, 0)
            XCTAssertLessThan(row.backwardGFlops, 5_000, "\(row.layer.name) \(row.path): no two-core CPU computes this fast")
            XCTAssertGreaterThan(row.sgemmGFlops, 0)
        }
        XCTAssertTrue(Graph.winogradConvolution, "the benchmark restores the engine's setting")
        XCTAssertEqual(Graph.winogradLargeTileMinOutputSide,
                       Graph.largeTileMinOutputSide(forBLASCore: BLASCore.running, panelGemms: MachineReport.winogradPanelGemms),
                       "the benchmark restores the engine's setting")
        XCTAssertEqual(Graph.directConvolutionMaxChannels, 1, "the benchmark restores the engine's setting")
        XCTAssertEqual(Graph.directConvolutionMaxOutChannels, 1, "the benchmark restores the engine's setting")
        XCTAssertEqual(ConvBenchmark.convnetS.count, 5)
        XCTAssertEqual(ConvBenchmark.convnetS.map(\.inputGradient), [false, true, true, true, true], "as in training: no image gradient")
        let first = ConvBenchmark.convnetS[0]
        XCTAssertEqual(first.backwardFlops, first.forwardFlops, "the weights' gradient alone")
    }

    /// The boundary benchmark compares like with like only if the in-process twin of SC does
    /// the plugin's arithmetic: after the same steps both trainers hold the same parameters.
    func testInProcessTwinOfSCTrainsExactlyLikeThePlugin() throws {
        let loader = try BuiltPlugins.loader(["ConvNet", "SC"])
        let data = try TrainingBenchmark.makeData(count: 1000)
        var bench = BoundaryBenchmark()
        bench.batchSize = 16
        bench.pairs = 2
        bench.warmupSteps = 1
        bench.threads = 1
        let r = try bench.run(data: data, loader: loader)
        XCTAssertEqual(r.parameterDifference, 0, "twin and plugin diverged")
        XCTAssertGreaterThan(r.pluginStepSeconds, 0)
        XCTAssertGreaterThan(r.pluginTermSeconds, 0, "the plugin's term was clocked")
        XCTAssertGreaterThan(r.inProcessTermSeconds, 0, "the twin's term was clocked")
        // and the comparison would notice a twin that computed something else
        let (plugin, twin, _) = try bench.trainers(data: data, loader: loader)
        let wrong = twin.terms.firstIndex { $0.plugin.hasPrefix("sc") }!
        let t = twin.terms[wrong]
        twin.terms[wrong] = ObjectiveTerm(label: t.label, weight: t.weight, plugin: t.plugin, computation: .builtIn(InProcessTerm { pg, batch, taps in
            var other = SpatialContrastingTwin(random: twin.random)
            other.region = 0.25
            return try other.loss(pg, batch: batch, taps: taps)
        }))
        let a = try plugin.trainStep().values, b = try twin.trainStep().values
        XCTAssertEqual(a[0].value, b[0].value, "ce agrees")
        XCTAssertNotEqual(a[1].value, b[1].value, "a different region size gives a different sc")
    }
}
