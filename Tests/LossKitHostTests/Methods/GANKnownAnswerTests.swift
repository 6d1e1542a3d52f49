import Foundation
import LossKitCore
import LossKitHost
import LossKitPlugins
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

    /// `smoothing`: the real target α; `minibatch`: kernels B and dimensions C of minibatch
    /// discrimination, whose o_b(x_i) = 1/(n−1) Σ_{j≠i} exp(−s_b ‖M_i,b − M_j,b‖₁), M = T f, adds
    /// H·o to the discriminator's decision (the K logits, or d) — here the fake batch is n copies
    /// of x_c, so its o_b is exactly 1; s is fitted on the first real batch, this one.
    private func check(mode: String, part: String, smoothing: Double = 1, minibatch: (kernels: Int, dims: Int)? = nil,
                       adversarialG: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        let h = try MethodHarness(plugins: ["GAN"], data: try SyntheticData.makeFolder(train: 64, test: 8))
        let extra = (smoothing < 1 ? ", label_smoothing=\(smoothing)" : "") + (minibatch.map { ", minibatch_kernels=\($0.kernels), minibatch_dims=\($0.dims)" } ?? "")
            + (adversarialG ? ", generator=adversarial" : "")
        let t = try h.make(h.config(loss: "gan(mode=\(mode), part=\(part), width=4, latent=8\(extra))", steps: 1))
        let run = t.run
        let weight = try XCTUnwrap(t.parameters.first { $0.name == "gan.generator.conv2.weight" }).value
        let bias = try XCTUnwrap(t.parameters.first { $0.name == "gan.generator.conv2.bias" }).value
        for k in 0..<weight.count { weight.data[k] = 0 }
        bias.data[0] = 0.3
        let (lo, hi) = (Double(run.setup.pixelMin), Double(run.setup.pixelMax))
        let constant = lo + (tanh(0.3) + 1) * (hi - lo) / 2

        let n = 6
        let e = try h.evaluate(t, term: "gan", count: n, taps: ReferenceGradient.leaves)
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
        // minibatch discrimination's o of a batch of features, and the head H applied to it
        let T = try t.parameters.first { $0.name == "gan.discriminator.minibatch.T" }.map(\.value)
        let H = try t.parameters.first { $0.name == "gan.discriminator.minibatch.head" }.map(\.value)
        let s = try t.states.first { $0.name == "gan.discriminator.minibatch.scale" }.map(\.value)
        /// s_b ‖M_i,b − M_j,b‖₁ for every pair
        func distances(_ f: [[Double]]) -> [[[Double]]] {
            guard let T, let s, let (B, C) = minibatch.map({ ($0.kernels, $0.dims) }) else { return [] }
            let D = f[0].count
            var m = [[Double]](repeating: [Double](repeating: 0, count: B * C), count: f.count)
            for i in f.indices { for r in 0..<(B * C) { for k in 0..<D { m[i][r] += Double(T.data[r * D + k]) * f[i][k] } } }
            return f.indices.map { i in f.indices.map { j in
                (0..<B).map { b in Double(s.data[b]) * (0..<C).reduce(0.0) { $0 + abs(m[i][b * C + $1] - m[j][b * C + $1]) } }
            } }
        }
        func o(_ f: [[Double]]) -> [[Double]] {
            distances(f).enumerated().map { i, row in
                (0..<row[0].count).map { b in row.indices.filter { $0 != i }.reduce(0.0) { $0 + exp(-row[$1][b]) } / Double(f.count - 1) }
            }
        }
        func shift(_ o: [Double]) -> [Double] {
            guard let H else { return [] }
            let B = o.count
            return (0..<(H.count / B)).map { k in (0..<B).reduce(0.0) { $0 + Double(H.data[k * B + $1]) * o[$1] } }
        }
        let fakeShift = minibatch.map { shift([Double](repeating: 1, count: $0.kernels)) }  // n identical rows: o_b = 1
        // (L_D, L_G) as functions of the real images' taps
        func losses(_ taps: [String: Tensor]) -> (d: Double, g: Double) {
            var logits = rows(taps["logits"]!)
            let features = rows(taps["features"]!)
            let realShifts = minibatch == nil ? nil : o(features).map(shift)
            let a = smoothing
            if mode == "semi" {
                if let realShifts { logits = zip(logits, realShifts).map { zip($0, $1).map(+) } }
                let fake = fakeShift.map { zip(fakeLogits, $0).map(+) } ?? fakeLogits
                let lseReal = logits.map(lse)
                // G: feature matching, or −log D(G(z)) = sp(−LSE) of the (identical) generated rows
                let lossG = adversarialG ? softplus(-lse(fake))
                    : (0..<fakeFeatures.count).map { k in pow(mean(features.map { $0[k] }) - fakeFeatures[k], 2) }.reduce(0, +)
                return (0.5 * (-a * mean(lseReal) + mean(lseReal.map(softplus)) + softplus(lse(fake))), lossG)
            }
            let d = { (f: [Double]) in zip(f, (0..<w!.count).map { Double(w!.data[$0]) }).reduce(b!) { $0 + $1.0 * $1.1 } }
            let real = features.indices.map { d(features[$0]) + (realShifts?[$0][0] ?? 0) }
            let fake = d(fakeFeatures) + (fakeShift?[0] ?? 0)
            return (mean(real.map { a * softplus(-$0) + (1 - a) * softplus($0) }) + softplus(fake), softplus(-fake))
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
            try ReferenceGradient.assertAgrees(e.value, graph: e.graph, taps: taps,
                                               names: mode == "semi" ? (minibatch == nil ? ["logits"] : ["logits", "features"]) : ["features"],
                                               file: file, line: line) { losses($0).d }
        }
        if let kernels = minibatch?.kernels {
            // the fitted scale: on the batch it was fitted on, a row's nearest other row is at 2 on average
            let d = distances(rows(values["features"]!))
            for b in 0..<kernels {
                let nearest = d.indices.map { i in d.indices.filter { $0 != i }.map { d[i][$0][b] }.min()! }
                XCTAssertEqual(mean(nearest), 2, accuracy: 1e-3, "kernel \(b)", file: file, line: line)
            }
            // what the technique is for: the collapsed fake batch's o_b is 1, the varied real one's near 0
            let realO = o(rows(values["features"]!)).flatMap { $0 }
            XCTAssertLessThan(mean(realO), 0.25, "real o: \(realO)", file: file, line: line)
        }
    }

    func testSemiSupervisedDiscriminator() throws { try check(mode: "semi", part: "discriminator") }
    func testFeatureMatching() throws { try check(mode: "semi", part: "generator") }
    func testSemiSupervisedBoth() throws { try check(mode: "semi", part: "both") }
    func testDCGANDiscriminator() throws { try check(mode: "dcgan", part: "discriminator") }
    func testDCGANGenerator() throws { try check(mode: "dcgan", part: "generator") }
    func testOneSidedLabelSmoothing() throws {
        try check(mode: "semi", part: "discriminator", smoothing: 0.9)
        try check(mode: "dcgan", part: "discriminator", smoothing: 0.8)
    }
    /// The paper's "training G with minibatch discrimination": G fools the discriminator, its
    /// minibatch term included, instead of matching features.
    func testAdversarialGeneratorThroughTheMinibatchTerm() throws {
        try check(mode: "semi", part: "generator", minibatch: (kernels: 4, dims: 2), adversarialG: true)
        try check(mode: "semi", part: "both", minibatch: (kernels: 4, dims: 2), adversarialG: true)
    }
    func testMinibatchDiscrimination() throws {
        try check(mode: "semi", part: "discriminator", minibatch: (kernels: 5, dims: 3))
        try check(mode: "dcgan", part: "both", minibatch: (kernels: 4, dims: 2))
        try check(mode: "dcgan", part: "generator", minibatch: (kernels: 4, dims: 2))
    }

    /// `discriminator_batch=joint` encodes the real and the generated rows as one batch. In
    /// evaluation batch-norm reads each image alone, so there the batch changes nothing: the joint
    /// term's value and its gradient on every parameter are the separate one's, which `check`
    /// holds to the formulas above (a wrong slice of the joint batch, or a generated half that
    /// reached the discriminator undetached, would show here).
    func testAJointDiscriminatorBatchComputesTheSameTermInEvaluation() throws {
        for mode in ["semi", "dcgan"] {
          for part in ["discriminator", "generator", "both"] {
            var values: [Double] = [], gradients: [[String: [Float]]] = []
            for batch in ["separate", "joint"] {
                let h = try MethodHarness(plugins: ["GAN"], data: try SyntheticData.makeFolder(train: 64, test: 8))
                let t = try h.make(h.config(loss: "gan(mode=\(mode), part=\(part), width=4, latent=8, discriminator_batch=\(batch))", steps: 1))
                let e = try h.evaluate(t, term: "gan", count: 6)
                t.optimizer.zeroGrad()
                try e.graph.backward(from: e.value)
                values.append(Double(e.value.value.scalar))
                gradients.append(Dictionary(uniqueKeysWithValues: t.parameters.map { ($0.name, Array($0.grad.buffer)) }))
            }
            XCTAssertEqual(values[0], values[1], accuracy: 1e-5 * max(1, abs(values[0])), "\(mode), \(part)")
            XCTAssertEqual(Set(gradients[0].keys), Set(gradients[1].keys))
            var moved = 0
            for (name, separate) in gradients[0] {
                let joint = try XCTUnwrap(gradients[1][name])
                let scale = max(1e-3, separate.map { abs($0) }.max() ?? 0)
                let worst = zip(separate, joint).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThan(worst, 1e-4 * scale, "\(mode), \(part): \(name)")
                if separate.contains(where: { $0 != 0 }) { moved += 1 }
            }
            XCTAssertGreaterThan(moved, 0, "\(mode), \(part): some parameter has a gradient to compare")
          }
        }
    }

    /// Historical averaging, λ‖θ − θ̄‖²: θ̄ starts at the first step's θ, follows the running mean
    /// of the values `loss` saw, and the penalty is exactly λ Σ (θ − θ̄)². With G's last conv
    /// zeroed, shifting G's first bias changes the penalty but not the feature-matching term.
    func testHistoricalAveragingOfTheGenerator() throws {
        let lambda = 0.3
        let h = try MethodHarness(plugins: ["GAN"], data: try SyntheticData.makeFolder(train: 64, test: 8))
        let t = try h.make(h.config(loss: "gan(mode=semi, part=generator, width=4, latent=8, history_g=\(lambda))", steps: 1))
        let weight = try XCTUnwrap(t.parameters.first { $0.name == "gan.generator.conv2.weight" }).value
        for k in 0..<weight.count { weight.data[k] = 0 }
        let bias = try XCTUnwrap(t.parameters.first { $0.name == "gan.generator.fc.bias" }).value
        let average = try XCTUnwrap(t.states.first { $0.name == "gan.history.generator.fc.bias" }).value
        let count = try XCTUnwrap(t.states.first { $0.name == "gan.history.generator.count" }).value
        let instance = try XCTUnwrap(t.terms.first { $0.label == "gan" }?.instance)
        func value() throws -> Double { Double(try h.evaluate(t, term: "gan", count: 6).value.value.scalar) }

        let first = try value()  // no history yet: no penalty
        instance.afterStep(step: 0, totalSteps: 2, learningRateFactor: 1)
        XCTAssertEqual(count.data[0], 1)
        XCTAssertEqual(Array(average.buffer), Array(bias.buffer), "θ̄ is the first step's θ")
        for k in 0..<bias.count { bias.data[k] += 0.5 }
        let second = try value()
        XCTAssertEqual(second - first, lambda * 0.25 * Double(bias.count), accuracy: 1e-4 * max(1, second))
        instance.afterStep(step: 1, totalSteps: 2, learningRateFactor: 1)
        XCTAssertEqual(count.data[0], 2)
        for k in 0..<bias.count { XCTAssertEqual(average.data[k], bias.data[k] - 0.25, accuracy: 1e-6) }
    }
}
