import ArgumentParser
import Foundation
import LossKitCore
import LossKitHost

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Speed of the reference encoder convnet-s at batch 128: training images/s per loss, inference, GFLOP/s, op shares, memory.",
        discussion: """
        Rows: ce alone, ce + each installed objective at its defaults (weight 1), inference at batch 256. \
        Images are random (speed only). Each figure is the median of --windows timed windows of \
        --steps steps after a warm-up; the op shares and GFLOP/s come from three steps timed op by op \
        between the warm-up and the windows; --by-shape lists those steps' time per op at each set of operand \
        shapes (the layers of one op and shapes together), forward and backward apart. --conv adds convolution forward/backward GFLOP/s at the encoder's \
        layer shapes, on each path (im2col + GEMM; direct summation for 3×3 stride-1 layers with up to 3 input \
        or output channels, the default for 1 input or 1 output channel; Winograd F(2×2,3×3) and F(4×4,3×3) for \
        3×3 stride-1 layers with 8+ input channels, the default there from 4×4 outputs up, F(4×4,3×3) from \
        16×16 where OpenBLAS runs kernels below AVX-512, from 14×14 where their GEMMs run on the engine's own \
        kernel, as on AVX2, and then also timed on OpenBLAS's), next to plain sgemm at the same thread count. --boundary-only times `ce + sc` \
        steps through the SC plugin against the same steps with an in-process twin of SC (alternating, \
        paired), clocks each sc term's forward call, and prints what the C ABI costs per step. --loops-only times \
        what starting a parallel loop costs (the engine's worker threads against Dispatch's), for shares of 50 and \
        500 µs after 0, 100 and 2000 µs of serial work; it needs --threads 2 or more. Every run first prints the CPU \
        model and features, the OpenBLAS core and who chose it, and the kernel build that runs (also in the \
        JSON, under "machine"). Record results in docs/BENCHMARKS.md \
        with the machine and the command.
        """)

    @OptionGroup var plugins: PluginOptions
    @Option(parsing: .unconditional, help: "Threads for OpenBLAS and the engine.") var threads = 2
    @Option(help: "Comma-separated rows: ce, ce+NAME, inference; default: ce, every objective, inference.") var rows: String?
    @Option(parsing: .unconditional, help: "Steps per timed window.") var steps = 10
    @Option(parsing: .unconditional, help: "Timed windows (the median is reported).") var windows = 5
    @Flag(help: "Also list each training row's time per op at each set of operand shapes, forward and backward apart.") var byShape = false
    @Option(parsing: .unconditional, help: "Lines of the --by-shape table per row, largest first (all of them go to --json; default 15).") var top: Int?
    @Flag(help: "Also benchmark convolution against sgemm on the encoder's layer shapes.") var conv = false
    @Flag(help: "Only the convolution benchmark.") var convOnly = false
    @Flag(help: "Only the plugin-boundary benchmark: `ce + sc` through the C ABI against an in-process twin.") var boundaryOnly = false
    @Option(parsing: .unconditional, help: "Step pairs of the boundary benchmark.") var pairs = 30
    @Flag(help: "Only the parallel-loop benchmark: what starting a loop costs, the engine's threads against Dispatch's.") var loopsOnly = false
    @Option(help: "Write the results as JSON to this file.") var json: String?

    private var threadsText: String { threads == 1 ? "1 thread" : "\(threads) threads" }

    func validate() throws {
        for (value, flag) in [(steps, "--steps"), (windows, "--windows"), (pairs, "--pairs"), (top ?? 1, "--top")] where value < 1 {
            throw ValidationError("\(flag) must be at least 1, got \(value)")
        }
        try validateThreads(threads)
        if top != nil, !byShape { throw ValidationError("--top goes with --by-shape") }
        if byShape, let only = [(convOnly, "--conv-only"), (boundaryOnly, "--boundary-only"), (loopsOnly, "--loops-only")].first(where: \.0) {
            throw ValidationError("--by-shape profiles the training rows, which \(only.1) skips")
        }
        if loopsOnly, threads < 2 { throw ValidationError("--loops-only needs --threads 2 or more (one thread runs loops inline)") }
        // checked before the minutes of timing, not after
        if let json {
            let folder = URL(fileURLWithPath: json).deletingLastPathComponent().path
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                throw ValidationError("--json \(json): no folder \(folder) to write it in")
            }
        }
    }

    func run() throws {
        Threads.set(threads)
        // what every figure below depends on: said first, in the table and in the JSON
        MachineReport.lines.forEach { print($0) }
        var report: [String: Any] = ["threads": threads, "batch": 128, "machine": MachineReport.json]
        if conv || convOnly {
            let rows = try ConvBenchmark.run()
            print("convolution (batch 128, 3×3, padding 1), \(threadsText):")
            print(Table.render([["LAYER", "PATH", "FWD GFLOP/s", "BWD GFLOP/s", "SGEMM GFLOP/s", "FWD+BWD / SGEMM"]] + rows.map {
                [$0.layer.name, $0.path + ($0.isDefault ? " *" : ""), String(format: "%.1f", $0.forwardGFlops),
                 String(format: "%.1f", $0.backwardGFlops), String(format: "%.1f", $0.sgemmGFlops), String(format: "%.0f%%", $0.ratio * 100)]
            }, indent: 2))
            print("  * the path training takes; rates count the direct convolution's FLOPs (Winograd's are effective rates); the first layer's backward, like training's, computes no input gradient")
            report["conv"] = rows.map { ["layer": $0.layer.name, "path": $0.path, "default": $0.isDefault, "forward_gflops": $0.forwardGFlops,
                                         "backward_gflops": $0.backwardGFlops, "sgemm_gflops": $0.sgemmGFlops, "ratio": $0.ratio] }
            if convOnly { try write(report); return }
        }
        if loopsOnly {
            let loops = 1000
            let rows = try LoopOverheadBenchmark.run(loops: loops)
            print("starting a parallel loop of \(threads) shares, \(loops) loops each (overhead = loop time − one share's work):")
            print(Table.render([["PATH", "SHARE µs", "SERIAL GAP µs", "OVERHEAD µs (median)", "p90"]] + rows.map {
                [$0.path, String(format: "%.0f", $0.shareMicroseconds), String(format: "%.0f", $0.gapMicroseconds),
                 String(format: "%.1f", $0.medianOverheadMicroseconds), String(format: "%.1f", $0.p90OverheadMicroseconds)]
            }, indent: 2))
            print("  engine: parallelWorkers (its own threads, spinning \(String(format: "%g", Threads.workerSpinMicroseconds)) µs after a loop; LOSSKIT_SPIN_US); dispatch: DispatchQueue.concurrentPerform")
            report["loops"] = rows.map { ["path": $0.path, "share_us": $0.shareMicroseconds, "gap_us": $0.gapMicroseconds,
                                          "median_overhead_us": $0.medianOverheadMicroseconds, "p90_overhead_us": $0.p90OverheadMicroseconds] }
            try write(report)
            return
        }
        let loader = plugins.load()
        let data = try TrainingBenchmark.makeData()
        if boundaryOnly {
            var bench = BoundaryBenchmark()
            bench.threads = threads
            bench.pairs = pairs
            let r = try bench.run(data: data, loader: loader)
            print("ce + sc, convnet-s, batch 128, \(threadsText), \(r.pairs) alternating step pairs:")
            print(String(format: "  through the C ABI (plugin sc):   %.2f ms/step (median)", r.pluginStepSeconds * 1e3))
            print(String(format: "  in-process twin of sc:           %.2f ms/step (median)", r.inProcessStepSeconds * 1e3))
            print(String(format: "  sc term's forward call: plugin %.3f ms, twin %.3f ms (medians)", r.pluginTermSeconds * 1e3, r.inProcessTermSeconds * 1e3))
            print(String(format: "  boundary overhead per step: %+.3f %% (term difference / step)", r.overhead * 100))
            print(String(format: "  whole-step paired difference: %+.2f %% (includes run-to-run noise)", r.stepDifference * 100))
            print(String(format: "  largest parameter difference after the run: %g", r.parameterDifference))
            report["boundary"] = ["plugin_step_s": r.pluginStepSeconds, "in_process_step_s": r.inProcessStepSeconds,
                                  "plugin_term_s": r.pluginTermSeconds, "in_process_term_s": r.inProcessTermSeconds,
                                  "overhead": r.overhead, "step_difference": r.stepDifference, "parameter_difference": r.parameterDifference, "pairs": r.pairs]
            try write(report)
            return
        }
        var bench = TrainingBenchmark()
        bench.threads = threads
        bench.stepsPerWindow = steps
        bench.windows = windows
        bench.byShape = byShape
        var shapeTables: [String] = []
        let names = rows.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
            ?? (["ce"] + loader.plugins.filter { $0.kind == .objective }.map { "ce+\($0.name)" } + ["inference"])
        var table = [["ROW", "IMAGES/S (median)", "MIN", "MAX", "GFLOP/s", "MFLOP/IMAGE", "ALLOCS/STEP", "TOP OP SHARES"]]
        var jsonRows: [String: Any] = [:]
        for name in names {
            if name == "inference" {
                let r = try bench.inference(data: data, loader: loader)
                table.append([name, String(format: "%.1f", r.median), String(format: "%.1f", r.min), String(format: "%.1f", r.max), "", "", "", "batch 256"])
                jsonRows[name] = ["images_per_s_median": r.median, "min": r.min, "max": r.max]
                continue
            }
            let loss = name.replacingOccurrences(of: "+", with: " + ")
            let r = try bench.training(loss: loss, data: data, loader: loader)
            let shares = r.shares.prefix(4).map { String(format: "%@ %.0f%%", $0.kind, $0.fraction * 100) }.joined(separator: ", ")
            table.append([name, String(format: "%.1f", r.imagesPerSecond.median), String(format: "%.1f", r.imagesPerSecond.min),
                          String(format: "%.1f", r.imagesPerSecond.max), String(format: "%.1f", r.gflopsPerSecond),
                          String(format: "%.1f", r.flopsPerImage / 1e6), String(format: "%.1f", r.allocationsPerStep), shares])
            var entry: [String: Any] = ["images_per_s_median": r.imagesPerSecond.median, "min": r.imagesPerSecond.min, "max": r.imagesPerSecond.max,
                                        "gflops": r.gflopsPerSecond, "flops_per_image": r.flopsPerImage, "allocations_per_step": r.allocationsPerStep,
                                        "shares": Dictionary(uniqueKeysWithValues: r.shares.map { ($0.kind, $0.fraction) })]
            if byShape {
                let lines = top ?? 15
                shapeTables.append("\(name), per op and operand shapes (ms per step, of \(TrainingBenchmark.profiledSteps) profiled steps; largest \(min(lines, r.shapes.count)) of \(r.shapes.count); fwd — : not timed, a view or copy):\n"
                    + Table.render([["OP OPERANDS → RESULT", "CALLS", "FWD ms", "BWD ms", "SHARE"]] + r.shapes.prefix(lines).map {
                        [$0.label, String(format: "%g", $0.callsPerStep), $0.forwardSeconds.map { String(format: "%.2f", $0 * 1e3) } ?? "—",
                         String(format: "%.2f", $0.backwardSeconds * 1e3), String(format: "%.1f%%", $0.fraction * 100)]
                    }, indent: 2))
                entry["by_shape"] = r.shapes.map { ["op_shapes": $0.label, "calls_per_step": $0.callsPerStep, "forward_ms": $0.forwardSeconds.map { $0 * 1e3 as Any } ?? NSNull(),
                                                    "backward_ms": $0.backwardSeconds * 1e3, "share": $0.fraction] }
            }
            jsonRows[name] = entry
            FileHandle.standardError.write(Data(String(format: "%@: %.1f images/s\n", name, r.imagesPerSecond.median).utf8))
        }
        print("training steps of convnet-s at batch 128 (every row labelled, as the PyTorch peer's), \(threadsText); median of \(windows) windows of \(steps) steps:")
        print(Table.render(table, indent: 2))
        shapeTables.forEach { print($0) }
        let peak = TrainingBenchmark.peakResidentMiB()
        print(String(format: "peak resident memory: %.0f MiB; plugins loaded in %.1f ms", peak, loader.loadMilliseconds))
        report["rows"] = jsonRows
        report["peak_rss_mib"] = peak
        report["plugin_load_ms"] = loader.loadMilliseconds
        try write(report)
    }

    private func write(_ report: [String: Any]) throws {
        guard let json else { return }
        let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
        do {
            try data.write(to: URL(fileURLWithPath: json))
        } catch {
            throw CommandFailure("cannot write --json \(json): \(error.localizedDescription)")
        }
    }
}
