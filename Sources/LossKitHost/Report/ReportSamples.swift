import Foundation
import LossKitEvaluation
import LossKitRun

extension ReportBuilder {
    /// The sample scores of each GAN run that has them (`losskit eval samples`), beside its grid.
    func samplesSection(_ runs: [(name: String, path: String)], out: String) throws -> String {
        let fm = FileManager.default
        var body = ""
        for r in runs {
            guard let scores = SampleScores.read(folder: r.path) else { continue }
            body += "<p><b>\(html(r.name))</b> (step \(scores.step)): \(scores.count) samples, inception score <b>\(String(format: "%.3f", scores.inceptionScore))</b> "
                + "(real test images \(String(format: "%.3f", scores.realInceptionScore))), Fréchet distance <b>\(String(format: "%.3f", scores.frechetDistance))</b>, "
                + "judged by <code>\(html(scores.classifier))</code></p>\n"
            let source = "\(r.path)/\(SampleScores.folderName)/\(SampleScores.gridName)"
            if fm.fileExists(atPath: source) {
                let target = "\(RunFolder.fileName(r.name))--samples.png"
                try? fm.removeItem(atPath: "\(out)/\(target)")
                try fm.copyItem(atPath: source, toPath: "\(out)/\(target)")
                body += "<figure><img class=\"grid\" src=\"\(target)\" alt=\"samples\"><figcaption>\(html(r.name)) — samples</figcaption></figure>\n"
            }
        }
        guard !body.isEmpty else { return "" }
        return "<h2>Samples</h2>\n<p>Generated images scored by a classifier trained on the same data (<code>losskit eval samples</code>): the Inception Score's formula exp(E KL(p(y|x) ‖ p(y))) on its head, and the Fréchet distance between its features of the samples and of real test images.</p>\n" + body
    }
}
