import LossKitCore
import LossKitEvaluation
import LossKitHost
import XCTest

/// NCE alone learns to recognise instances: an image's projected feature finds its own memory
/// bank row among all of them, far above chance, and the loss falls.
///
/// The exact non-parametric softmax (negatives = 0) is used here: on a 160-image set the bank
/// fills with the untrained encoder's near-identical vectors within five steps, and NCE's Z,
/// fixed from the first (random) bank, then overstates every noise row, so the noise-sampled
/// loss first rises for ~50 steps (as on real data it does not, where one pass over the bank
/// takes hundreds of steps). `MethodGradientTests` checks the noise-sampled loss itself.
final class NCEPropertyTests: XCTestCase {
    func testNCEAloneLearnsToRecogniseInstances() throws {
        try checkInstanceRecognition(loss: "nce(negatives=0, tau=0.1)")
    }

    /// The same with a second, warped view of each image as an in-batch positive (`views = 2`):
    /// the two terms together still learn to find each image's own bank row.
    func testNCEWithASecondViewLearnsToRecogniseInstances() throws {
        try checkInstanceRecognition(loss: "nce(negatives=0, tau=0.1, views=2)")
    }

    private func checkInstanceRecognition(loss: String) throws {
        let h = try MethodHarness(plugins: ["NCE"], data: try SyntheticData.makeFolder(train: 160, test: 16))
        var config = h.config(loss: loss, steps: 60)
        config.learningRate = 0.01
        let (trainer, lines) = try h.train(config)
        let losses = MethodHarness.series(lines, term: "nce")
        XCTAssertLessThan(MethodHarness.mean(losses.suffix(10)), MethodHarness.mean(losses.prefix(10)) * 0.8, "the loss falls: \(losses)")

        // v_i = normalise(W f_i + b) on un-augmented images; nearest bank row by cosine
        let run = trainer.run
        let out = try FeatureExtractor.run(model: run.model, assembler: run.trainAssembler, count: run.train.count)
        let w = trainer.parameters.first { $0.name == "nce.proj.weight" }!, b = trainer.parameters.first { $0.name == "nce.proj.bias" }!
        let bank = trainer.states.first { $0.name == "nce.bank" }!.value
        let g = Graph(training: false, random: RandomGenerator(seed: 0))
        let v = try g.l2Normalize(g.linear(g.constant(out.features), weight: g.constant(w.value), bias: g.constant(b.value)))
        let scores = try g.matmul(v, g.constant(bank), transposeB: true).value
        let N = run.train.count
        var own = 0
        for i in 0..<N {
            var best = 0
            for j in 1..<N where scores[i * N + j] > scores[i * N + best] { best = j }
            if best == i { own += 1 }
        }
        let rate = Double(own) / Double(N)
        XCTAssertGreaterThan(rate, 20.0 / Double(N), "own bank row is the nearest for \(own)/\(N) images (chance 1/\(N))")
    }
}
