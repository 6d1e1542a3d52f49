import Foundation
import LossKitEvaluation
import LossKitRun

extension ReportBuilder {
    /// The invertibility study of each run that has one (`losskit invert`): held-out error per
    /// layer and un-pooling, and the reconstructions side by side, un-poolings in columns.
    func inversionSection(_ runs: [(name: String, path: String)], out: String) throws -> String {
        let fm = FileManager.default
        var body = ""
        for r in runs {
            guard let record = InversionRecord.read(folder: r.path) else { continue }
            let layers = record.rows.map(\.layer).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            let unpools = record.rows.map(\.unpool).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
            body += "<h3>\(html(r.name)) (step \(record.step), \(record.rows.first?.steps ?? 0) decoder steps each)</h3>\n"
            body += "<table><tr><th>from</th>" + unpools.map { "<th>\(html($0)) switches: held-out error</th>" }.joined() + "</tr>\n"
            for layer in layers {
                body += "<tr><td>\(html(layer))</td>"
                for u in unpools {
                    let row = record.rows.first { $0.layer == layer && $0.unpool == u }
                    body += "<td>\(row.map { String(format: "%.4f", $0.testError) } ?? "—")</td>"
                }
                body += "</tr>\n"
            }
            body += "</table>\n"
            for layer in layers {
                body += "<div class=\"pair\">"
                for u in unpools {
                    guard let row = record.rows.first(where: { $0.layer == layer && $0.unpool == u }) else { continue }
                    let source = "\(r.path)/\(InversionRecord.folderName)/\(InversionRecord.imageName(row))"
                    guard fm.fileExists(atPath: source) else { continue }
                    let target = "\(RunFolder.fileName(r.name))--inversion--\(InversionRecord.imageName(row))"
                    try? fm.removeItem(atPath: "\(out)/\(target)")
                    try fm.copyItem(atPath: source, toPath: "\(out)/\(target)")
                    body += "<figure><img class=\"grid\" src=\"\(target)\" alt=\"from \(html(layer)), \(html(u))\"><figcaption>from \(html(layer)), \(html(u)) switches</figcaption></figure>"
                }
                body += "</div>\n"
            }
        }
        guard !body.isEmpty else { return "" }
        return "<h2>Invertibility</h2>\n<p>A decoder trained on each layer of the frozen encoder (<code>losskit invert</code>): how much of the image the layer holds, with the pooling switches known (SWWAE) or fixed (the stacked auto-encoder). Top rows held-out images, bottom rows their reconstructions.</p>\n" + body
    }
}
