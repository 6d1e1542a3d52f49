import CLossKitABI
import Foundation
import LossKitCore
import LossKitEvaluation
import LossKitFormats
import LossKitPlugins
import LossKitRun

/// `losskit report`: one self-contained HTML page (and the SVG and PNG files beside it) from one
/// or more run folders — each method's accuracy over its seeds against the baseline
/// (`MethodComparison`), loss curves overlaid across runs, probes, learning rate, accuracy,
/// the images plugins handed over, PCA and t-SNE maps of test features by class, kNN and head accuracy
/// with a confusion matrix, the resolved config, plugin versions, machine and wall time.
public struct ReportBuilder {
    public var evaluate = true
    public var linearProbe = false
    public var mapPoints = 2000
    /// Test points of the t-SNE map beside the PCA one (exact t-SNE is O(N²) a step); 0: none.
    public var tsnePoints = 1000
    /// Whose plugin versions are not compared when runs are grouped into methods (see `MethodComparison`).
    public var mergePluginVersions = MethodComparison.VersionMerging.none
    /// Threads for evaluating each run; nil keeps each run's own.
    public var threads: Int?

    public init() {}

    struct Run {
        let path: String
        let name: String
        let config: [String: Any]
        let lines: [[String: Any]]
    }

    /// Writes `out/index.html` and its files; returns the page's path.
    @discardableResult
    public func build(runs paths: [String], out: String, loader: PluginLoader?) throws -> String {
        guard !paths.isEmpty else { throw RunError("give at least one run folder") }
        let fm = FileManager.default
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
        var names = Set<String>()
        let runs: [Run] = try paths.map { path in
            guard let data = fm.contents(atPath: RunFolder(path).config),
                  let config = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw RunError("\(path) is not a run folder (no config.json)")
            }
            var name = (path as NSString).lastPathComponent
            while names.contains(name) { name += "'" }
            names.insert(name)
            let lines = (try? MetricsLog.read(RunFolder(path).metrics)) ?? []
            return Run(path: path, name: name, config: config, lines: lines)
        }
        var body = "<h1>LossKit report</h1>\n<p>\(runs.map { "<b>\(html($0.name))</b>: <code>\(html($0.config["loss"] as? String ?? "?"))</code>" }.joined(separator: " · "))</p>\n"

        // Methods over seeds first: with several seeds per method it is what the page is for
        let finalAccuracy = runs.map { r in
            r.lines.compactMap { ($0["eval"] as? [String: Any])?["test_accuracy"] as? Double }.last
        }
        let comparison = MethodComparison(runs: zip(runs, finalAccuracy).map { run, accuracy in
            let versions = RunPlugins.read(folder: run.path).map { Dictionary($0.plugins.map { ($0.name, $0.version) }) { first, _ in first } }
            return (run.config, versions, accuracy)
        }, mergingVersions: mergePluginVersions)
        body += comparison.html(escape: html)

        // Curves
        body += "<h2>Training curves</h2>\n"
        var charts = curveCharts(runs, comparison: comparison)
        func evaluations(_ key: String) -> [SVGChart.Series] {
            runs.map { r in SVGChart.Series(name: r.name, points: r.lines.compactMap { l in
                guard let s = l["step"] as? Int, let v = (l["eval"] as? [String: Any])?[key] as? Double else { return nil }
                return (Double(s), v * 100)
            }) }
        }
        let evals = evaluations("test_accuracy"), knn = evaluations("knn_accuracy")
        if evals.contains(where: { $0.points.count > 1 }) {
            charts.append(("accuracy", SVGChart.lines(title: "test accuracy of the head (%)", xLabel: "step", series: evals)))
        }
        if knn.contains(where: { $0.points.count > 1 }) {
            charts.append(("knn", SVGChart.lines(title: "kNN accuracy of the encoder's features during training (%)", xLabel: "step",
                                                 series: knn.filter { !$0.points.isEmpty })))
        }
        for (file, svg) in charts {
            try svg.write(toFile: "\(out)/\(file).svg", atomically: true, encoding: .utf8)
            body += "<img src=\"\(file).svg\" alt=\"\(html(file))\">\n"
        }
        // a single evaluation per run reads better as a number than as a one-point chart
        body += "<table><tr><th>run</th><th>step</th><th>test accuracy of the head</th></tr>\n"
        for e in evals { if let last = e.points.last { body += "<tr><td>\(html(e.name))</td><td>\(Int(last.x))</td><td>\(String(format: "%.2f%%", last.y))</td></tr>\n" } }
        body += "</table>\n"

        // Where methods have several seeds, their images and feature maps are the first run's
        // (the seeds' accuracies are all in the table)
        let byMethod = comparison.groups.contains { $0.members.count > 1 }
        let shown = byMethod ? comparison.groups.map { runs[$0.members[0]] } : runs

        // Images plugins handed over
        var imageHTML = ""
        for r in shown {
            let dir = RunFolder(r.path).images
            for f in ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).filter({ $0.hasSuffix(".png") }).sorted() {
                let target = "\(RunFolder.fileName(r.name))--\(f)"
                try? fm.removeItem(atPath: "\(out)/\(target)")
                try fm.copyItem(atPath: "\(dir)/\(f)", toPath: "\(out)/\(target)")
                let caption = f.dropLast(4).replacingOccurrences(of: "--", with: ": ").replacingOccurrences(of: "_", with: " ")
                imageHTML += "<figure><img class=\"grid\" src=\"\(target)\" alt=\"\(html(caption))\"><figcaption>\(html(r.name)) — \(html(caption))</figcaption></figure>\n"
            }
        }
        if !imageHTML.isEmpty { body += "<h2>Images</h2>\n<p>Grids: top rows the inputs, bottom rows what the plugin made of them (reconstructions, warps); generated samples fill the grid.\(byMethod ? " The first run of each method." : "")</p>\n" + imageHTML }
        body += try samplesSection(runs.map { ($0.name, $0.path) }, out: out)
        body += try inversionSection(runs.map { ($0.name, $0.path) }, out: out)

        // Evaluation of each run's encoder (of each method's first run)
        if evaluate, let loader {
            body += "<h2>Features of the test set</h2>\n"
            if byMethod { body += "<p>The first run of each method (the others' accuracies are in the table above).</p>\n" }
            for r in shown {
                body += try evaluation(r, loader: loader, out: out)
            }
        }

        // Config, versions, machine
        body += "<h2>Runs</h2>\n"
        for r in runs {
            let meta = (try? Checkpoint.read(path: RunFolder(r.path).checkpoint))?.file.metadata ?? [:]
            let wall = r.lines.compactMap { $0["wall_seconds"] as? Double }.last
            body += "<h3>\(html(r.name))</h3>\n<table>\n"
            body += "<tr><th>encoder</th><td>\(html(meta["encoder"] ?? "?"))</td></tr>\n<tr><th>plugins</th><td>\(html(meta["plugins"] ?? "none"))</td></tr>\n"
            body += "<tr><th>host ABI</th><td>\(LOSSKIT_HOST_ABI)</td></tr>\n<tr><th>wall time</th><td>\(wall.map { String(format: "%.0f s", $0) } ?? "unfinished")</td></tr>\n"
            body += "<tr><th>computed on</th><td>\(computedOn(RunMachine.read(folder: r.path)))</td></tr>\n"
            body += "</table>\n<p>Resolved config (<code>config.json</code>):</p>\n<pre>\(html((try? String(contentsOfFile: RunFolder(r.path).config, encoding: .utf8)) ?? ""))</pre>\n"
        }
        body += "<h2>Machine</h2>\n<p>This page was made on <code>\(html(machineDescription()))</code></p>\n"
        let page = """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>LossKit report</title>
        <style>body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}img{margin:4px;border:1px solid #ddd;vertical-align:top}
        img.grid{image-rendering:pixelated;width:min(100%,640px)}figure{display:inline-block;margin:8px}div.pair img.grid{width:min(100%,460px)}table{border-collapse:collapse;margin:8px 0}
        th,td{border:1px solid #ddd;padding:2px 6px;text-align:left;font-size:13px}td.c{text-align:right;min-width:2.5em}</style></head>
        <body>
        \(body)</body></html>

        """
        let index = out + "/index.html"
        try page.write(toFile: index, atomically: true, encoding: .utf8)
        return index
    }

    private func evaluation(_ r: Run, loader: PluginLoader, out: String) throws -> String {
        let folder = try TrainedRun(path: r.path, loader: loader, threads: threads)
        let s = folder.setup
        let test = try FeatureExtractor.run(model: s.model, assembler: s.testAssembler, count: s.test.count)
        let train = try FeatureExtractor.run(model: s.model, assembler: s.trainAssembler, count: s.train.count)
        let head = FeatureExtractor.predictions(test.logits)
        let confusion = ConfusionMatrix(truth: s.test.labels, predicted: head, classes: s.test.classCount)
        let knn = try KNNClassifier.evaluate(train: train.features, trainLabels: s.train.labels, test: test.features,
                                             testLabels: s.test.labels, classes: s.test.classCount, k: min(200, s.train.count))
        let headText = s.config.trainsTheHead ? "head accuracy <b>\(String(format: "%.2f%%", confusion.accuracy * 100))</b>" : "head not trained"
        var html = "<h3>\(self.html(r.name)) (step \(folder.step))</h3>\n<p>\(headText) · weighted kNN (k = 200, τ = 0.07) <b>\(String(format: "%.2f%%", knn.accuracy * 100))</b>"
        if linearProbe {
            let probe = try LinearProbe().evaluate(train: train.features, trainLabels: s.train.labels, test: test.features,
                                                   testLabels: s.test.labels, classes: s.test.classCount)
            html += " · linear probe <b>\(String(format: "%.2f%%", probe.testAccuracy * 100))</b>"
        }
        html += "</p>\n"
        // PCA map of a deterministic sample of the test features
        let n = min(mapPoints, s.test.count)
        let stride = max(1, s.test.count / n)
        let rows = (0..<n).map { $0 * stride }
        let D = test.features.shape[1]
        let sample = Tensor(uninitialized: [n, D])
        for (i, r) in rows.enumerated() { (sample.data + i * D).update(from: test.features.data + r * D, count: D) }
        let (projected, explained) = try PCA.project(sample, components: 2)
        let points = rows.enumerated().map { (x: projected[$0.offset * 2], y: projected[$0.offset * 2 + 1], label: Int(s.test.labels[$0.element])) }
        let file = "pca-\(RunFolder.fileName(r.name)).svg"
        try SVGChart.scatter(title: String(format: "PCA of test features (%.0f%% + %.0f%% of variance)", explained[0] * 100, explained[1] * 100),
                             points: points, classNames: s.test.classNames).write(toFile: "\(out)/\(file)", atomically: true, encoding: .utf8)
        html += "<img src=\"\(file)\" alt=\"PCA map\">"
        if min(tsnePoints, n) >= 5 {
            // t-SNE of the first tsnePoints of the same sample (evenly spread over the test set too)
            let m = min(tsnePoints, n), every = max(1, n / m)
            let picked = (0..<m).map { $0 * every }
            let subset = Tensor(uninitialized: [m, D])
            for (i, r) in picked.enumerated() { (subset.data + i * D).update(from: sample.data + r * D, count: D) }
            var tsne = TSNE()
            tsne.perplexity = min(30, Double(m - 2))
            let (map, divergence) = try tsne.embed(subset)
            let tsnePoints = picked.enumerated().map { (x: Float(map[2 * $0.offset]), y: Float(map[2 * $0.offset + 1]), label: points[$0.element].label) }
            let tsneFile = "tsne-\(RunFolder.fileName(r.name)).svg"
            try SVGChart.scatter(title: String(format: "t-SNE of %d test features (perplexity %.0f, KL %.2f)", m, tsne.perplexity, divergence),
                                 points: tsnePoints, classNames: s.test.classNames).write(toFile: "\(out)/\(tsneFile)", atomically: true, encoding: .utf8)
            html += "<img src=\"\(tsneFile)\" alt=\"t-SNE map\">"
        }
        html += "\n"
        guard s.config.trainsTheHead else { return html }
        // confusion matrix of the head, shaded by row share
        html += "<table><tr><th>true \\ predicted</th>" + (0..<confusion.classes).map { "<th>\($0)</th>" }.joined() + "</tr>\n"
        for t in 0..<confusion.classes {
            let total = max(1, (0..<confusion.classes).reduce(0) { $0 + confusion[truth: t, predicted: $1] })
            html += "<tr><th>\(self.html(s.test.classNames[safe: t] ?? "\(t)"))</th>"
            for p in 0..<confusion.classes {
                let c = confusion[truth: t, predicted: p]
                let shade = 255 - Int(Double(c) / Double(total) * 180)
                html += "<td class=\"c\" style=\"background:rgb(\(shade),\(shade),255)\">\(c)</td>"
            }
            html += "</tr>\n"
        }
        return html + "</table>\n"
    }

    func html(_ s: String) -> String { SVGChart.escape(s).replacingOccurrences(of: "\"", with: "&quot;") }

    /// A run's CPU path per segment (machine.json), as HTML: the start and each resume.
    func computedOn(_ record: RunMachine?) -> String {
        guard let record, !record.segments.isEmpty else { return "not recorded (a run written before machine.json was kept)" }
        return record.segments.map { s in
            let winograd = MachineReport.winogradTiles(f4From: s.winogradF4From)
            return html("from step \(s.fromStep): \(s.cpuModel), OpenBLAS \(s.blasCore) (\(s.blasChosenBy)), engine kernels \(s.kernels), "
                        + "\(winograd), \(s.threads) thread\(s.threads == 1 ? "" : "s")\(s.ranks > 1 ? ", \(s.ranks) ranks" : "")")
        }.joined(separator: "<br>")
    }

    func machineDescription() -> String {
        var u = utsname()
        uname(&u)
        func field<T>(_ t: T) -> String { withUnsafeBytes(of: t) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) } }
        return "\(field(u.sysname)) \(field(u.release)) \(field(u.machine)), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory >> 30) GiB"
    }
}

/// The host's ABI version as text.
public let LOSSKIT_HOST_ABI = "\(LOSSKIT_ABI_MAJOR).\(LOSSKIT_ABI_MINOR)"

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
