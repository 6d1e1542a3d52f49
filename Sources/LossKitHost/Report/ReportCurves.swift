import Foundation
import LossKitRun

extension ReportBuilder {
    /// What the curves are drawn from: each run, or — where some method has several seeds —
    /// each method, whose curve is the mean over its runs at the steps every one of them
    /// logged (24 runs of eight methods drawn one by one are a tangle nobody reads).
    struct CurveSource {
        let name: String
        let lines: [[[String: Any]]]

        /// (step, mean over the source's runs) of `value`, at the steps all its runs logged it.
        func points(_ value: ([String: Any]) -> Double?) -> [(x: Double, y: Double)] {
            var byStep: [Int: [Double]] = [:]
            for run in lines {
                for l in run { if let s = l["step"] as? Int, let v = value(l) { byStep[s, default: []].append(v) } }
            }
            return byStep.filter { $0.value.count == lines.count }.sorted { $0.key < $1.key }
                .map { (Double($0.key), $0.value.reduce(0, +) / Double($0.value.count)) }
        }
    }

    /// The training-curve charts (file stem, SVG): loss terms, weights where scheduled, total
    /// loss, each probe, the learning rate.
    func curveCharts(_ runs: [Run], comparison: MethodComparison) -> [(String, String)] {
        let training = runs.map { $0.lines.filter { $0["loss"] != nil } }
        let byMethod = comparison.groups.contains { $0.members.count > 1 }
        let sources = byMethod ? comparison.groups.map { g in CurveSource(name: g.label, lines: g.members.map { training[$0] }) }
            : zip(runs, training).map { CurveSource(name: $0.name, lines: [$1]) }
        let note = byMethod ? " — mean over each method's runs" : ""
        func keys(_ field: String) -> [String] {
            Set(training.flatMap { $0.flatMap { ($0[field] as? [String: Any])?.keys.map { $0 } ?? [] } }).sorted()
        }
        // One curve per term (and source) of a per-term field of the training lines.
        func perTerm(_ field: String) -> [SVGChart.Series] {
            let terms = keys(field)
            return sources.flatMap { source in
                terms.map { t in SVGChart.Series(name: sources.count > 1 ? "\(source.name): \(t)" : t,
                                                 points: source.points { ($0[field] as? [String: Any])?[t] as? Double }) }
            }.filter { !$0.points.isEmpty }
        }
        func each(_ value: @escaping ([String: Any]) -> Double?) -> [SVGChart.Series] {
            sources.map { SVGChart.Series(name: $0.name, points: $0.points(value)) }.filter { !$0.points.isEmpty }
        }
        var charts: [(String, String)] = []
        charts.append(("terms", SVGChart.lines(title: "loss terms (unweighted)\(note)", xLabel: "step", series: perTerm("terms"), logY: true)))
        // Logged only by runs whose loss has schedules ([from=…, ramp=…]).
        let weights = perTerm("weights")
        if !weights.isEmpty { charts.append(("weights", SVGChart.lines(title: "term weights (schedules)", xLabel: "step", series: weights))) }
        charts.append(("loss", SVGChart.lines(title: "total weighted loss\(note)", xLabel: "step", series: each { $0["loss"] as? Double }, logY: true)))
        for p in keys("probes") {
            charts.append(("probe-\(RunFolder.fileName(p))", SVGChart.lines(title: "probe \(p)\(note)", xLabel: "step",
                                                                          series: each { ($0["probes"] as? [String: Any])?[p] as? Double })))
        }
        charts.append(("lr", SVGChart.lines(title: "learning rate", xLabel: "step", series: each { $0["lr"] as? Double })))
        return charts
    }
}
