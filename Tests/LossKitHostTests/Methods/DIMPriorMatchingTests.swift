import Foundation
import LossKitCore
import LossKitHost
import LossKitPlugins
import LossKitTraining
import XCTest

/// Where DIM's prior matching stops gradients (Hjelm et al., as METHODS.md states it): the prior
/// discriminator D learns only from its own loss, which reads the encoder's features detached;
/// the encoder learns only from the adversarial term, which reads D frozen. With prior samples
/// s_i (made again from the plugin's generator state) and features f_i:
///     L_D(θ) = mean_i sp(−D_θ(s_i)) + mean_i sp(D_θ(f_i)),   L_E(f) = mean_i sp(−D_θ(f_i))
/// so ∂L/∂θ = γ ∂L_D/∂θ and ∂L/∂f − ∂L|_{γ=0}/∂f = γ ∂L_E/∂f, both compared with finite
/// differences of an independent double-precision D.
final class DIMPriorMatchingTests: XCTestCase {
    private func softplus(_ x: Double) -> Double { x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)) }

    /// The term's value on fixed taps, the gradient of the features leaf, and the trainer.
    private func run(gamma: Double) throws -> (trainer: Trainer, fGrad: [Float], f: Tensor, state: [UInt64], h: MethodHarness) {
        let h = try MethodHarness(plugins: ["DIM"], data: try SyntheticData.makeFolder(train: 64, test: 8))
        let t = try h.make(h.config(loss: "dim(width=16, gamma=\(gamma))", steps: 1))
        let run = t.run
        let B = 6
        let images = run.testAssembler.images(Array(0..<B), augmentation: .none, random: RandomGenerator(seed: 5))
        let encoded = try run.model.encode(PluginGraph(graph: Graph(training: false, random: t.random), encoder: run.model),
                                           images: Graph(training: false, random: t.random).constant(images))
        let g = Graph(training: false, random: t.random)
        let pg = PluginGraph(graph: g, encoder: run.model)
        let f = try XCTUnwrap(encoded["features"]).value
        let features = g.variable(f)
        let taps = TapSet()
        taps.emit("features", features)
        taps.emit("conv4", g.constant(try XCTUnwrap(encoded["conv4"]).value))
        let batch = BatchView(images: g.constant(images), labels: [Int32](repeating: -1, count: B), labelled: [UInt8](repeating: 0, count: B),
                              indices: (0..<B).map(Int64.init), datasetSize: run.train.count, numClasses: run.train.classCount,
                              pixelMin: run.setup.pixelMin, pixelMax: run.setup.pixelMax)
        let state = t.random.stateWords
        t.optimizer.zeroGrad()
        let value = try t.terms.first { $0.label == "dim" }!.value(pg, batch: batch, taps: taps)
        try g.backward(from: value)
        return (t, try XCTUnwrap(features.grad).array, f, state, h)
    }

    func testThePriorDiscriminatorAndTheEncoderEachLearnOnlyFromTheirOwnTerm() throws {
        let gamma = 0.7
        // the harnesses own the run folders: kept alive to the end of the test
        let (t, withPrior, f, state, harness) = try run(gamma: gamma)
        let (_, withoutPrior, f0, _, harness0) = try run(gamma: 0)
        defer { withExtendedLifetime((harness, harness0)) {} }
        XCTAssertEqual(f.array, f0.array, "the same encoder, so the same features")
        let (B, D) = (f.shape[0], f.shape[1])
        var samples = [Float](repeating: 0, count: B * D)
        RandomGenerator(state: state).fillUniform(&samples, B * D, low: 0, high: 1)
        func param(_ name: String) throws -> Parameter { try XCTUnwrap(t.parameters.first { $0.name == "dim.prior." + name }, name) }
        let (w1, b1, w2, b2) = (try param("fc1.weight"), try param("fc1.bias"), try param("fc2.weight"), try param("fc2.bias"))
        let H = b1.value.count
        // D_θ(x) in double, θ read from the parameters (perturbed in place for finite differences)
        func discriminate(_ x: [Double]) -> Double {
            var out = Double(b2.value.data[0])
            for j in 0..<H {
                let a = (0..<D).reduce(Double(b1.value.data[j])) { $0 + Double(w1.value.data[j * D + $1]) * x[$1] }
                out += Double(w2.value.data[j]) * max(a, 0)
            }
            return out
        }
        func row(_ v: [Float], _ i: Int) -> [Double] { (0..<D).map { Double(v[i * D + $0]) } }
        let fRows = (0..<B).map { row(f.array, $0) }, sRows = (0..<B).map { row(samples, $0) }
        func lossD() -> Double {
            sRows.map { softplus(-discriminate($0)) }.reduce(0, +) / Double(B) + fRows.map { softplus(discriminate($0)) }.reduce(0, +) / Double(B)
        }
        // (b) the discriminator's gradient is γ ∂L_D/∂θ only
        for p in [w1, b1, w2, b2] {
            for k in Swift.stride(from: 0, to: p.value.count, by: max(1, p.value.count / 12)) {
                let saved = p.value.data[k], step: Float = 1e-3
                p.value.data[k] = saved + step
                let up = lossD()
                p.value.data[k] = saved - step
                let down = lossD()
                p.value.data[k] = saved
                let numeric = gamma * (up - down) / Double(2 * step)
                XCTAssertEqual(Double(p.grad.data[k]), numeric, accuracy: 2e-3 * max(1, abs(numeric)), "\(p.name)[\(k)]")
            }
        }
        // (a) the encoder's features get γ ∂L_E/∂f from the prior terms, nothing from L_D
        for i in 0..<B {
            for d in Swift.stride(from: 0, to: D, by: max(1, D / 8)) {
                var up = fRows[i], down = fRows[i]
                up[d] += 1e-4
                down[d] -= 1e-4
                let numeric = gamma * (softplus(-discriminate(up)) - softplus(-discriminate(down))) / 2e-4 / Double(B)
                let host = Double(withPrior[i * D + d] - withoutPrior[i * D + d])
                XCTAssertEqual(host, numeric, accuracy: 2e-3 * max(1e-2, abs(numeric)), "f[\(i), \(d)]")
            }
        }
    }
}
