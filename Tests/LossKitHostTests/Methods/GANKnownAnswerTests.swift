import Foundation
import LossKitCore
import LossKitHost
import XCTest

/// The GAN losses against Salimans et al. (semi-supervised, feature matching) and Radford et al.
/// (DCGAN) as METHODS.md states them, with the generator's last convolution zeroed so that
/// G(z) is the same image x_c for every z — the draws of z then do not matter — and its bias
/// set so that x_c = lo + (tanh β + 1)(hi − lo)/2 is a chosen constant image. With l(x) the
/// head's logits, f(x) the features, LSE the log-sum-exp over classes, sp the softplus:
///
///     semi:  L_D = ½ [ −mean_i LSE(l(x_i)) + mean_i sp(LSE(l(x_i))) + sp(LSE(l(x_c))) ]
///            L_G = ‖ mean_i f(x_i) − f(x_c) ‖²
///     dcgan: L_D = mean_i sp(−d(x_i)) + sp(d(x_c)),  L_G = sp(−d(x_c)),  d(x) = w·f(x) + b
///
/// (evaluation mode, so batch-norm reads each image alone). `part` picks L_D, L_G or their sum;
/// the gradient with respect to the real images' taps is L_D's (semi: the logits; DCGAN: the features).
final class GANKnownAnswerTests: XCTestCase {
    private func softplus(_ x: Double) -> Double { x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)) }
    private func lse(_ x: [Double]) -> Double { let m = x.max()!; return m + log(x.map { exp($0 - m) }.reduce(0, +)) }

    private func check(mode: String, part: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let h = try MethodHarness(plugins: ["GAN"], data: try SyntheticData.makeFolder(train: 64, test: 8))
        let t = try h.make(h.config(loss: "gan(mode=\(mode), part=\(part), width=4, latent=8)", steps: 1))
        let run = t.run
        let weight = try XCTUnwrap(t.parameters.first { $0.name == "gan.generator.conv2.weight" }).value
        let bias = try XCTUnwrap(t.parameters.first { $0.name == "gan.generator.conv2.bias" }).value
        for k in 0..<weight.count { weight.data[k] = 0 }
        bias.data[0] = 0.3
        let (lo, hi) = (Double(run.setup.pixelMin), Double(run.setup.pixelMax))
        let constant = lo + (tanh(0.3) + 1) * (hi - lo) / 2

        let e = try h.evaluate(t, term: "gan", count: 6, taps: ReferenceGradient.leaves)
        let (images, taps, pg) = (e.images, e.taps, PluginGraph(graph: e.graph, encoder: run.model))
        let got = Double(e.value.value.scalar)

        // the encoder's view of x_c, and of the real images, read from the host
        let xc = Tensor(uninitialized: [1] + Array(images.shape.dropFirst()))
        for k in 0..<xc.count { xc.data[k] = Float(constant) }
        let fakeTaps = try run.model.encode(PluginGraph(graph: Graph(training: false, random: t.random), encoder: run.model), images: pg.graph.constant(xc))
        func rows(_ tensor: Tensor) -> [[Double]] {
            let width = tensor.count / tensor.shape[0]
            return (0..<tensor.shape[0]).map { i in (0..<width).map { Double(tensor.data[i * width + $0]) } }
        }
        let fakeLogits = rows(try XCTUnwrap(fakeTaps["logits"]).value)[0], fakeFeatures = rows(try XCTUnwrap(fakeTaps["features"]).value)[0]
        let mean = { (xs: [Double]) in xs.reduce(0, +) / Double(xs.count) }
        let w = try t.parameters.first { $0.name == "gan.discriminator.weight" }.map(\.value)
        let b = try t.parameters.first { $0.name == "gan.discriminator.bias" }.map { Double($0.value.data[0]) }
        // (L_D, L_G) as functions of the real images' taps
        func losses(_ taps: [String: Tensor]) -> (d: Double, g: Double) {
            let logits = rows(taps["logits"]!), features = rows(taps["features"]!)
            if mode == "semi" {
                let lseReal = logits.map(lse)
                return (0.5 * (-mean(lseReal) + mean(lseReal.map(softplus)) + softplus(lse(fakeLogits))),
                        (0..<fakeFeatures.count).map { k in pow(mean(features.map { $0[k] }) - fakeFeatures[k], 2) }.reduce(0, +))
            }
            let d = { (f: [Double]) in zip(f, (0..<w!.count).map { Double(w!.data[$0]) }).reduce(b!) { $0 + $1.0 * $1.1 } }
            return (mean(features.map { softplus(-d($0)) }) + softplus(d(fakeFeatures)), softplus(-d(fakeFeatures)))
        }
        var values: [String: Tensor] = [:]
        for name in taps.names { values[name] = taps[name]!.value }
        let (lossD, lossG) = losses(values)
        let want = part == "discriminator" ? lossD : part == "generator" ? lossG : lossD + lossG
        XCTAssertEqual(got, want, accuracy: 1e-4 * max(1, abs(want)), "\(mode), \(part)", file: file, line: line)
        // Gradients with respect to the real images' taps: L_D's alone. L_G trains the generator
        // only, so the real features it matches (semi) reach the discriminator as constants.
        if part == "generator" {
            try e.graph.backward(from: e.value)
            for name in taps.names { XCTAssertFalse(taps[name]!.grad?.buffer.contains { $0 != 0 } ?? false, "L_G reaches the tap \(name)", file: file, line: line) }
        } else {
            try ReferenceGradient.assertAgrees(e.value, graph: e.graph, taps: taps, names: mode == "semi" ? ["logits"] : ["features"],
                                               file: file, line: line) { losses($0).d }
        }
    }

    func testSemiSupervisedDiscriminator() throws { try check(mode: "semi", part: "discriminator") }
    func testFeatureMatching() throws { try check(mode: "semi", part: "generator") }
    func testSemiSupervisedBoth() throws { try check(mode: "semi", part: "both") }
    func testDCGANDiscriminator() throws { try check(mode: "dcgan", part: "discriminator") }
    func testDCGANGenerator() throws { try check(mode: "dcgan", part: "generator") }
}
