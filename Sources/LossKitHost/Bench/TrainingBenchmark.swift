import Foundation
import LossKitCore
import LossKitFormats
import LossKitPlugins
import LossKitRun
import LossKitTraining

/// Training and inference throughput of the reference encoder, as `losskit bench` prints it:
/// images/s per loss (median of timed windows), achieved GFLOP/s of the step's matrix products,
/// each op kind's share of step time, buffer-pool allocations in the steady state, peak memory.
public struct TrainingBenchmark {
    public var batchSize = 128
    public var stepsPerWindow = 10
    public var windows = 5
    public var warmupSteps = 3
    /// Steps timed op by op after the warm-up, for the shares and the FLOP count.
    public static let profiledSteps = 3
    public var threads = 2
    /// Whether the profiled steps also time each op at each set of operand shapes (`Row.shapes`).
    public var byShape = false

    public init() {}

    /// The counts every row divides by or takes a median over.
    func checkCounts() throws(BenchmarkError) {
        try BenchmarkError.requirePositive(windows, "windows")
        try BenchmarkError.requirePositive(stepsPerWindow, "steps per window")
        try BenchmarkError.requirePositive(batchSize, "batch size")
    }

    public struct Row {
        public let name: String
        public let imagesPerSecond: (median: Double, min: Double, max: Double)
        public let gflopsPerSecond: Double
        public let flopsPerImage: Double
        /// Seconds per step by op kind (one profiled step), with "other" for plugin and host code.
        public let shares: [(kind: String, fraction: Double)]
        /// New float buffers allocated per step once warm (0: every buffer was reused).
        public let allocationsPerStep: Double
        /// With `byShape`: per op and operand shapes, seconds per step forward and backward, calls
        /// per step and share of the step; the largest first. Empty otherwise.
        public let shapes: [ShapeRow]
    }

    public struct ShapeRow {
        /// `OpProfiler.shapeLabel`: "conv [128, 32, 28, 28] · [32, 32, 3, 3] → [128, 32, 28, 28]".
        public let label: String
        /// Per step; `forwardSeconds` nil for an op whose forward is not timed (a reshape, a slice).
        public let forwardSeconds: Double?, backwardSeconds: Double
        public let callsPerStep: Double
        public let fraction: Double
    }

    /// A training-set folder of random 28×28 images (speed only: content does not matter),
    /// 60 000 of them so memory banks have the real size.
    public static func makeData(count: Int = 60_000, size: Int = 28) throws -> String {
        let dir = NSTemporaryDirectory() + "losskit-bench-\(count)x\(size)"
        let fm = FileManager.default
        if fm.fileExists(atPath: dir + "/t10k-labels-idx1-ubyte") { return dir }
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let random = RandomGenerator(seed: 9)
        for (prefix, n) in [("train", count), ("t10k", 1000)] {
            var pixels = [UInt8](repeating: 0, count: n * size * size)
            for i in 0..<pixels.count { pixels[i] = UInt8(truncatingIfNeeded: random.next()) }
            let labels = (0..<n).map { UInt8($0 % 10) }
            try Data(IDXFile.encode(IDXArray(dims: [n, size, size], bytes: pixels))).write(to: URL(fileURLWithPath: "\(dir)/\(prefix)-images-idx3-ubyte"))
            try Data(IDXFile.encode(IDXArray(dims: [n], bytes: labels))).write(to: URL(fileURLWithPath: "\(dir)/\(prefix)-labels-idx1-ubyte"))
        }
        return dir
    }

    /// Times training steps of `loss` on `data`.
    public func training(loss: String, data: String, encoder: String = "convnet-s", loader: PluginLoader) throws -> Row {
        try checkCounts()
        var config = TrainingConfig()
        config.data = "idx:" + data
        config.encoder = encoder
        config.loss = loss
        // every row labelled, as the PyTorch peer's cross-entropy reads all 128: the `ce` row
        // then times a step of the whole batch, as before `ce` alone drew labelled rows only
        config.batchSize = batchSize
        config.labelledPerBatch = batchSize
        config.labelsPerClass = nil
        config.steps = 1_000_000
        config.threads = threads
        config.cropPadding = 0
        let out = NSTemporaryDirectory() + "losskit-bench-run-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let trainer = try Trainer(config: config, runDirectory: out, loader: loader, resume: false, log: { _ in })
        for _ in 0..<warmupSteps { try trainer.trainStep() }
        // profiled steps: op shares and FLOPs (several, so one step's hiccup does not set the shares)
        let profiler = OpProfiler(byShape: byShape)
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<TrainingBenchmark.profiledSteps { try trainer.trainStep(profiler: profiler) }
        let profiled = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        let pool = BufferPool.shared
        let allocationsBefore = pool.allocations
        var rates: [Double] = []
        for _ in 0..<windows {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<stepsPerWindow { try trainer.trainStep() }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            rates.append(Double(stepsPerWindow * batchSize) / seconds)
        }
        let allocations = Double(pool.allocations - allocationsBefore) / Double(windows * stepsPerWindow)
        rates.sort()
        let median = rates[rates.count / 2]
        let stepSeconds = Double(batchSize) / median
        var shares = profiler.seconds.map { (kind: $0.key, fraction: $0.value / profiled) }.sorted { $0.fraction > $1.fraction }
        let measured = profiler.seconds.values.reduce(0, +)
        shares.append((kind: "other (plugin code, host glue, data)", fraction: max(0, profiled - measured) / profiled))
        let stepFlops = profiler.flops / Double(TrainingBenchmark.profiledSteps)
        let steps = Double(TrainingBenchmark.profiledSteps)
        let shapes = profiler.shapes.map {
            ShapeRow(label: $0.key, forwardSeconds: $0.value.forward.map { $0 / steps }, backwardSeconds: $0.value.backward / steps,
                     callsPerStep: Double($0.value.calls) / steps, fraction: (($0.value.forward ?? 0) + $0.value.backward) / profiled)
        }.sorted { ($0.fraction, $0.label) > ($1.fraction, $1.label) }
        return Row(name: loss, imagesPerSecond: (median, rates.first!, rates.last!), gflopsPerSecond: stepFlops / stepSeconds / 1e9,
                   flopsPerImage: stepFlops / Double(batchSize), shares: shares, allocationsPerStep: allocations, shapes: shapes)
    }

    /// Forward passes in evaluation mode at batch 256.
    public func inference(data: String, encoder: String = "convnet-s", loader: PluginLoader) throws -> (median: Double, min: Double, max: Double) {
        try checkCounts()
        Threads.set(threads)
        var config = TrainingConfig()
        config.data = "idx:" + data
        config.encoder = encoder
        let run = try RunSetup(config: config, loader: loader, random: RandomGenerator(seed: 0), log: { _ in })
        let images = run.trainAssembler.images(Array(0..<256), augmentation: .none, random: RandomGenerator(seed: 0))
        func pass() throws {
            let pg = PluginGraph(graph: Graph(training: false, random: RandomGenerator(seed: 0)), encoder: run.model)
            _ = try run.model.encode(pg, images: pg.graph.constant(images))
        }
        for _ in 0..<2 { try pass() }
        var rates: [Double] = []
        for _ in 0..<windows {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<stepsPerWindow { try pass() }
            rates.append(Double(stepsPerWindow * 256) / (Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9))
        }
        rates.sort()
        return (rates[rates.count / 2], rates.first!, rates.last!)
    }

    /// Peak resident memory of this process so far, in MiB.
    public static func peakResidentMiB() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
