import Foundation
import LossKitCore
import LossKitPlugins
import LossKitRun
import LossKitTraining

/// What a step pays for computing an objective behind the C ABI (issue 12: under 1 %). Two
/// trainers with the same seed and loss `ce + sc` run side by side: one calls the SC plugin
/// through `losskit.h`, the other the in-process `SpatialContrastingTwin`. Their steps are
/// timed in alternating order, so load from elsewhere on the machine falls on both alike.
///
/// Whole steps differ by ±1 % from run to run at 2 threads (OpenBLAS's threads), more than the
/// boundary costs, so the figure that counts is sharper: the ABI can cost only while the term
/// builds its part of the graph (its ops cross the table; the backward pass runs the same host
/// closures in both), so each trainer also clocks its `sc` term's forward call, and the
/// overhead is the difference of those medians over the in-process step's median.
public struct BoundaryBenchmark {
    public var batchSize = 128
    public var pairs = 30
    public var warmupSteps = 3
    public var threads = 2

    public init() {}

    public struct Result {
        public let pluginStepSeconds: Double
        public let inProcessStepSeconds: Double
        /// Median seconds of the `sc` term's forward call (building its graph) in each trainer.
        public let pluginTermSeconds: Double
        public let inProcessTermSeconds: Double
        /// (plugin term − in-process term) / in-process step: what the boundary adds to a step.
        public let overhead: Double
        /// Median of (plugin step − in-process step) over the pairs, over the in-process step:
        /// the same quantity measured on whole steps, with their noise.
        public let stepDifference: Double
        /// Largest |difference| between the two trainers' parameters after every step ran:
        /// 0 when the twin does the plugin's arithmetic exactly.
        public let parameterDifference: Float
        public let pairs: Int
    }

    /// Seconds spent in one term's forward call, one entry per step.
    final class TermClock {
        var seconds: [Double] = []
        func time(_ body: () throws -> Node) rethrows -> Node {
            let start = DispatchTime.now().uptimeNanoseconds
            defer { seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9) }
            return try body()
        }
    }

    /// The two trainers, the second with its `sc` term computed in-process; both terms clocked.
    func trainers(data: String, loader: PluginLoader) throws -> (plugin: Trainer, inProcess: Trainer, clocks: (TermClock, TermClock)) {
        var config = TrainingConfig()
        config.data = "idx:" + data
        config.loss = "ce + sc"
        config.batchSize = batchSize
        config.labelledPerBatch = batchSize / 4
        config.steps = 1_000_000
        config.threads = threads
        config.cropPadding = 0
        func make() throws -> Trainer {
            let out = NSTemporaryDirectory() + "losskit-boundary-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: out) }
            return try Trainer(config: config, runDirectory: out, loader: loader, resume: false, log: { _ in })
        }
        let plugin = try make(), inProcess = try make()
        guard let i = inProcess.terms.firstIndex(where: { $0.plugin == "sc" }), plugin.terms[i].instance != nil else {
            throw BenchmarkError("the boundary benchmark needs the sc plugin")
        }
        let clocks = (TermClock(), TermClock())
        let twin = SpatialContrastingTwin(random: inProcess.random)
        let term = inProcess.terms[i]
        plugin.terms[i].measured = { try clocks.0.time($0) }
        let replaced = ObjectiveTerm(label: term.label, weight: term.weight, plugin: "sc (in-process twin)",
                                     computation: .builtIn(InProcessTerm { pg, batch, taps in try twin.loss(pg, batch: batch, taps: taps) }))
        replaced.measured = { try clocks.1.time($0) }
        inProcess.terms[i] = replaced
        return (plugin, inProcess, clocks)
    }

    public func run(data: String, loader: PluginLoader) throws -> Result {
        try BenchmarkError.requirePositive(pairs, "pairs")
        let (plugin, inProcess, clocks) = try trainers(data: data, loader: loader)
        for _ in 0..<warmupSteps {
            try plugin.trainStep()
            try inProcess.trainStep()
        }
        func timed(_ t: Trainer) throws -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            try t.trainStep()
            return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        }
        var a: [Double] = [], b: [Double] = []
        clocks.0.seconds = []
        clocks.1.seconds = []
        for k in 0..<pairs {
            if k % 2 == 0 {
                a.append(try timed(plugin)); b.append(try timed(inProcess))
            } else {
                b.append(try timed(inProcess)); a.append(try timed(plugin))
            }
        }
        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        let difference = zip(plugin.parameters, inProcess.parameters).map { p, q in
            zip(p.value.array, q.value.array).map { abs($0 - $1) }.max() ?? 0
        }.max() ?? 0
        let b0 = median(b), termA = median(clocks.0.seconds), termB = median(clocks.1.seconds)
        return Result(pluginStepSeconds: median(a), inProcessStepSeconds: b0, pluginTermSeconds: termA, inProcessTermSeconds: termB,
                      overhead: (termA - termB) / b0, stepDifference: median(zip(a, b).map { $0 - $1 }) / b0,
                      parameterDifference: difference, pairs: pairs)
    }
}
