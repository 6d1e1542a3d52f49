import Foundation
@testable import LossKitCore
import XCTest

/// The engine's hot loops are built once per instruction set and one build is chosen at run time
/// (`KernelPath`): the choice follows the CPU and LOSSKIT_KERNELS, and every build this machine
/// can run computes the baseline build's bits, gradient checks included (the Winograd GEMMs on
/// OpenBLAS; on the panel kernel some builds prefer, within rounding).
final class KernelPathTests: XCTestCase {
    private static let avx2CPU: [CPUFeatures.Feature] = [.sse2, .sse4_2, .popcnt, .avx, .avx2, .fma, .f16c, .movbe, .bmi1, .bmi2, .abm]
    private static let avx512CPU = avx2CPU + [.avx512f, .avx512cd, .avx512bw, .avx512dq, .avx512vl]

    private func cpu(_ features: [CPUFeatures.Feature]) -> CPUFeatures { CPUFeatures(model: "test", features: Set(features)) }

    func testTheCPUsBestPathIsChosenByDefault() {
        let all = KernelInstructionSet.allCases
        XCTAssertEqual(KernelPath.choose(requested: nil, cpu: cpu([.sse2]), available: all).instructionSet, .baseline)
        XCTAssertEqual(KernelPath.choose(requested: nil, cpu: cpu(Self.avx2CPU), available: all).instructionSet, .avx2)
        XCTAssertEqual(KernelPath.choose(requested: "best", cpu: cpu(Self.avx512CPU), available: all).instructionSet, .avx512)
        // code built for Haswell may use BMI2 or MOVBE: AVX2 and FMA alone are not enough
        XCTAssertEqual(KernelPath.choose(requested: nil, cpu: cpu(Self.avx2CPU.filter { $0 != .bmi2 }), available: all).instructionSet, .baseline)
        XCTAssertEqual(KernelPath.choose(requested: nil, cpu: cpu(Self.avx512CPU.filter { $0 != .avx512vl }), available: all).instructionSet, .avx2)
        // a binary for another architecture has the baseline build only
        XCTAssertEqual(KernelPath.choose(requested: nil, cpu: cpu(Self.avx512CPU), available: [.baseline]).instructionSet, .baseline)
        XCTAssertNil(KernelPath.choose(requested: nil, cpu: cpu(Self.avx512CPU), available: all).warning)
    }

    func testANamedPathIsFollowedWhereTheCPURunsItAndRefusedWithAWarningElsewhere() throws {
        let all = KernelInstructionSet.allCases
        let named = KernelPath.choose(requested: "AVX2", cpu: cpu(Self.avx512CPU), available: all)
        XCTAssertEqual(named, KernelPath.Choice(instructionSet: .avx2, chosenBy: "LOSSKIT_KERNELS", warning: nil))
        XCTAssertEqual(KernelPath.choose(requested: " baseline ", cpu: cpu(Self.avx512CPU), available: all).instructionSet, .baseline)

        let lacking = KernelPath.choose(requested: "avx512", cpu: cpu(Self.avx2CPU), available: all)
        XCTAssertEqual(lacking.instructionSet, .avx2)
        XCTAssertEqual(lacking.warning, "warning: LOSSKIT_KERNELS=avx512 needs instructions this CPU lacks; running avx2")

        let unknown = KernelPath.choose(requested: "sse9", cpu: cpu(Self.avx2CPU), available: all)
        XCTAssertEqual(unknown.instructionSet, .avx2)
        XCTAssertEqual(unknown.warning, "warning: LOSSKIT_KERNELS=sse9 is not a kernel path (baseline, avx2, avx512, best); running avx2")

        let absent = KernelPath.choose(requested: "avx2", cpu: cpu(Self.avx512CPU), available: [.baseline])
        XCTAssertEqual(absent.instructionSet, .baseline)
        XCTAssertEqual(try XCTUnwrap(absent.warning), "warning: LOSSKIT_KERNELS=avx2: this binary has no avx2 kernels (it has baseline); running baseline")
    }

    func testEachBuildSaysWhatItWasCompiledFor() {
        for set in KernelPath.available {
            XCTAssertEqual(KernelPath.build(set).instructionSet, set)
        }
        #if arch(x86_64)
        XCTAssertEqual(KernelPath.available, KernelInstructionSet.allCases)
        #endif
    }

    /// The paths of this binary the test machine can run, each with a note for those it cannot.
    private func runnablePaths() -> [KernelInstructionSet] {
        let runnable = KernelPath.available.filter { KernelPath.runs($0, on: .current) }
        for set in KernelPath.available where !runnable.contains(set) {
            print("KernelPathTests: this CPU cannot run the \(set.rawValue) kernels; not tested here")
        }
        return runnable
    }

    /// A few SGD steps of a small network through every kernel: the direct convolution (one input
    /// channel), Winograd F(4×4) (16×16 maps) and F(2×2) (8×8), batch-norm with and without its
    /// ReLU, the 2×2 max-pool, ReLU, the squared error and a mean, SGD's and Adam's updates, at
    /// two threads.
    private func train(on set: KernelInstructionSet) throws -> [[Float]] {
        try KernelPath.using(set) {
            XCTAssertEqual(kernels.instructionSet, set)
            let saved = Threads.count
            Threads.set(2)
            defer { Threads.set(saved) }
            let rng = RandomGenerator(seed: 11)
            func parameter(_ name: String, _ shape: [Int]) -> Parameter {
                let p = Parameter(name: name, value: Tensor(uninitialized: shape))
                Initializer.kaimingNormal.fill(p.value, random: rng)
                return p
            }
            let conv1 = parameter("conv1", [8, 1, 3, 3]), conv2 = parameter("conv2", [8, 8, 3, 3])
            // the last layer on Adam, the rest on SGD: both of the optimiser's updates
            let conv3 = Parameter(name: "conv3", group: "adam", value: Tensor(uninitialized: [8, 8, 3, 3]))
            Initializer.kaimingNormal.fill(conv3.value, random: rng)
            let gammas = (0..<3).map { Parameter(name: "gamma\($0)", value: Tensor(shape: [8], repeating: 1), noWeightDecay: true) }
            let betas = (0..<3).map { Parameter(name: "beta\($0)", value: Tensor(zeros: [8]), noWeightDecay: true) }
            let stats = (0..<3).map { _ in BatchNormStatistics(channels: 8) }
            let params = [conv1, conv2, conv3] + gammas + betas
            let opt = Optimizer(parameters: params, defaultSettings: .sgd(lr: 0.05, weightDecay: 5e-4),
                                groupSettings: ["adam": .adam(lr: 0.01, weightDecay: 5e-4)])
            var losses: [Float] = []
            for _ in 0..<3 {
                let x = Tensor(uninitialized: [6, 1, 16, 16]), target = Tensor(uninitialized: [6, 8, 8, 8])
                rng.fillNormal(x.data, x.count)
                rng.fillNormal(target.data, target.count)
                let g = Graph(training: true, random: rng)
                var h = try g.conv2d(g.constant(x), weight: g.param(conv1), padding: 1)
                h = try g.batchNormReLU(h, gamma: g.param(gammas[0]), beta: g.param(betas[0]), running: stats[0])
                h = try g.conv2d(h, weight: g.param(conv2), padding: 1)
                h = try g.batchNorm(h, gamma: g.param(gammas[1]), beta: g.param(betas[1]), running: stats[1])
                h = try g.maxPool2d(g.relu(h), kernel: 2)
                h = try g.conv2d(h, weight: g.param(conv3), padding: 1)
                h = try g.batchNormReLU(h, gamma: g.param(gammas[2]), beta: g.param(betas[2]), running: stats[2])
                let loss = try g.add(g.meanSquaredError(h, g.constant(target)), g.mean(h))
                try g.backward(from: loss)
                losses.append(loss.value.data[0])
                opt.step()
            }
            return params.map { $0.value.array } + stats.map { $0.mean.array + $0.variance.array } + [losses]
        }
    }

    func testEveryPathTrainsToTheBaselinesBits() throws {
        // both Winograd algorithms, whichever the BLAS core running would choose
        let savedLarge = Graph.winogradLargeTileMinOutputSide
        defer { Graph.winogradLargeTileMinOutputSide = savedLarge }
        Graph.winogradLargeTileMinOutputSide = 16
        XCTAssertEqual(Graph.winogradTile(outH: 16, outW: 16), 4, "the first Winograd layer takes F(4×4)")
        XCTAssertEqual(Graph.winogradTile(outH: 8, outW: 8), 2, "the second takes F(2×2)")
        // the Winograd GEMMs on OpenBLAS on every path: the panel kernel that some builds prefer
        // has bits of its own (PanelGemmTests checks it across builds), and is compared below
        let savedPanels = Graph.winogradPanelGemm
        defer { Graph.winogradPanelGemm = savedPanels }
        Graph.winogradPanelGemm = false
        let baseline = try train(on: .baseline)
        for set in runnablePaths() where set != .baseline {
            let other = try train(on: set)
            XCTAssertEqual(baseline.map(\.count), other.map(\.count))
            for (i, (a, b)) in zip(baseline, other).enumerated() {
                let differing = zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
                XCTAssertEqual(differing, 0, "\(set.rawValue): \(differing) of tensor \(i)'s \(a.count) values differ from the baseline build's")
            }
        }
        // with the panel kernel where a build prefers it: the same training within rounding (three
        // steps of SGD and Adam carry each GEMM's last bits into the next step, far below a wrong
        // kernel's error); the builds that keep OpenBLAS still give the baseline's bits
        Graph.winogradPanelGemm = true
        for set in runnablePaths() where set != .baseline {
            let other = try train(on: set)
            for (i, (a, b)) in zip(baseline, other).enumerated() {
                if KernelPath.build(set).prefersPanelGemm {
                    let scale = a.map(abs).max() ?? 0
                    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
                    XCTAssertLessThanOrEqual(worst, 1e-4 * max(scale, 1), "\(set.rawValue) on panels: tensor \(i) off by \(worst) (largest value \(scale))")
                } else {
                    XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), "\(set.rawValue): tensor \(i)")
                }
            }
        }
    }

    func testGradientsCheckOnEveryPath() throws {
        let saved = (Graph.winogradMinOutputSide, Graph.winogradLargeTileMinOutputSide)
        defer { (Graph.winogradMinOutputSide, Graph.winogradLargeTileMinOutputSide) = saved }
        Graph.winogradMinOutputSide = 1
        for set in runnablePaths() {
            KernelPath.using(set) {
                for large in [Int.max, 1] {  // F(2×2), then F(4×4)
                    Graph.winogradLargeTileMinOutputSide = large
                    let x = Fixtures.random([2, 8, 5, 9], seed: 300), w = Fixtures.random([3, 8, 3, 3], seed: 301)
                    assertGradients([("x", x), ("w", w)]) { g, v in try g.conv2d(v[0], weight: v[1], padding: 1) }
                    // rows of one or two tiles, narrower than a lane, many of them: a whole-lane store
                    // must not run past the plane's last tile into the next plane's
                    let narrow = Fixtures.random([2, 8, 13, 4], seed: 309)
                    assertGradients([("x", narrow), ("w", w)]) { g, v in try g.conv2d(v[0], weight: v[1], padding: 1) }
                }
                let image = Fixtures.random([2, 1, 6, 7], seed: 302), filter = Fixtures.random([4, 1, 3, 3], seed: 303)
                assertGradients([("x", image), ("w", filter)]) { g, v in try g.conv2d(v[0], weight: v[1], padding: 1) }
                let h = Fixtures.distinct([3, 4, 4, 18], seed: 304)
                let gamma = Fixtures.random([4], seed: 305, low: 0.5, high: 1.5), beta = Fixtures.random([4], seed: 306)
                assertGradients([("x", h), ("gamma", gamma), ("beta", beta)]) { g, v in
                    try g.maxPool2d(g.batchNormReLU(v[0], gamma: v[1], beta: v[2], running: nil), kernel: 2)
                }
                let a = Fixtures.distinct([2, 3, 5, 17], seed: 307), b = Fixtures.random([2, 3, 5, 17], seed: 308)
                assertGradients([("a", a), ("b", b)]) { g, v in try g.add(g.meanSquaredError(g.relu(v[0]), v[1]), g.mean(v[0])) }
            }
        }
    }

    func testTheReportNamesThePathAndWhoChoseIt() {
        let line = MachineReport.lines[2]
        XCTAssertTrue(line.hasPrefix("engine kernels: "), line)
        XCTAssertTrue(line.contains(KernelPath.choice.chosenBy), line)
        let entry = MachineReport.json["kernels"] as? [String: Any]
        XCTAssertEqual(entry?["instruction_set"] as? String, KernelPath.choice.instructionSet.rawValue)
        // and which Winograd algorithm the BLAS core running makes the engine take
        let savedLarge = Graph.winogradLargeTileMinOutputSide
        defer { Graph.winogradLargeTileMinOutputSide = savedLarge }
        Graph.winogradLargeTileMinOutputSide = 16
        XCTAssertTrue(MachineReport.lines[2].contains("; Winograd F(4×4) from 16×16 outputs, F(2×2) below, its GEMMs on "), MachineReport.lines[2])
        XCTAssertEqual((MachineReport.json["kernels"] as? [String: Any])?["winograd_f4_from"] as? Int, 16)
        Graph.winogradLargeTileMinOutputSide = Int.max
        XCTAssertTrue(MachineReport.lines[2].contains("; Winograd F(2×2) at every size, its GEMMs on "), MachineReport.lines[2])
        XCTAssertTrue((MachineReport.json["kernels"] as? [String: Any])?["winograd_f4_from"] is NSNull)
        // and where the Winograd GEMMs run: the path's preference, or OpenBLAS where switched off
        for set in runnablePaths() {
            KernelPath.using(set) {
                let panels = KernelPath.build(set).prefersPanelGemm
                XCTAssertEqual((MachineReport.json["kernels"] as? [String: Any])?["winograd_gemms"] as? String, panels ? "panel" : "openblas", set.rawValue)
                XCTAssertTrue(MachineReport.lines[2].hasSuffix(panels ? "its GEMMs on the engine's panel kernel (filter gradients on OpenBLAS)"
                                                                      : "its GEMMs on OpenBLAS"), MachineReport.lines[2])
            }
        }
        XCTAssertEqual(KernelPath.build(.avx2).prefersPanelGemm, KernelPath.available.contains(.avx2),
                       "the AVX2 build, where this binary has one, prefers the panel kernel (measured faster than OpenBLAS's Haswell and Zen kernels)")
        XCTAssertFalse(KernelPath.build(.baseline).prefersPanelGemm)
        let savedPanels = Graph.winogradPanelGemm
        defer { Graph.winogradPanelGemm = savedPanels }
        Graph.winogradPanelGemm = false
        XCTAssertTrue(MachineReport.lines[2].hasSuffix("its GEMMs on OpenBLAS"), MachineReport.lines[2])
    }
}
