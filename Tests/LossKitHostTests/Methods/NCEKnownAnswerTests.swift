import Foundation
import LossKitCore
import LossKitHost
import LossKitPlugins
import XCTest

/// NCE's loss value, and its gradient with respect to the features, against closed forms worked out from Wu et al. (2018) as METHODS.md states
/// them — not against the plugin's own code. The bank is set so the answer does not depend on
/// which rows the plugin draws:
///
/// Noise-sampled (m noise rows, noise probability 1/N), every bank row the same unit vector u:
/// each of the m + 1 candidates of image i scores s_i = u·v_i/τ, with v_i = normalise(W f_i + b).
///     Z    = N · mean_i exp(s_i)             (the first batch's estimate, B·(m+1) equal entries per row)
///     x_i  = s_i − log Z − log(m/N)          (h = σ(x): P/(P + m/N) with P = exp(s)/Z)
///     L    = mean_i [ −log h(i) − m · log(1 − h(noise)) ] = mean_i [ softplus(−x_i) + m · softplus(x_i) ]
///
/// Exact softmax (negatives = 0), rows alternating u (even index) and w (odd), N even:
///     L    = mean_i [ −v_i·M_{own(i)}/τ + log( N/2 · exp(u·v_i/τ) + N/2 · exp(w·v_i/τ) ) ]
///
/// The proximal term adds λ · mean_i ‖v_i − M_i‖². With the MLP head (`hidden = H`),
/// v_i = normalise(W₂ relu(BN(W₁ f_i)) + b₂), BN on the batch's statistics (biased variance, ε 1e-5).
final class NCEKnownAnswerTests: XCTestCase {
    private func softplus(_ x: Double) -> Double { x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)) }

    /// The term on 8 test images with the bank set by `fill(row)`: its value, v_i of the features
    /// it saw (and v'_i of the second views), and what its gradient check needs.
    private struct Evaluated {
        let value: Double, v: [[Double]], N: Int, second: [[Double]]
        /// v_i of any features, by the same projection
        let project: (Tensor) -> [[Double]]
        let node: Node, graph: Graph, taps: TapSet
    }

    /// The term's gradient with respect to its `features` tap against that of `expected(v)`.
    private func assertGradient(_ e: Evaluated, file: StaticString = #filePath, line: UInt = #line, expected: @escaping ([[Double]]) -> Double) throws {
        try ReferenceGradient.assertAgrees(e.node, graph: e.graph, taps: e.taps, names: ["features"], file: file, line: line) {
            expected(e.project($0["features"]!))
        }
    }

    /// As `evaluate`, also returning v'_i for the second views (`views = 2`), built by the test
    /// from the documented view: side √(0.5 + 0.5·u₀), centre (2u₁ − 1, 2u₂ − 1)·(1 − side),
    /// mirrored when u₃ < ½, the four uniforms made again from the plugin's generator state.
    private func evaluate(_ loss: String, fill: (Int) -> [Float]) throws -> Evaluated {
        let h = try MethodHarness(plugins: ["NCE"], data: try SyntheticData.makeFolder(train: 64, test: 16))
        let t = try h.make(h.config(loss: loss, steps: 1))
        let bank = try XCTUnwrap(t.states.first { $0.name == "nce.bank" }).value
        let N = bank.shape[0], D = bank.shape[1]
        for r in 0..<N { let row = fill(r); for k in 0..<D { bank.data[r * D + k] = row[k] } }
        try XCTUnwrap(t.states.first { $0.name == "nce.z" }).value.data[0] = 0
        let run = t.run
        let e = try h.evaluate(t, term: "nce", count: 8, taps: ReferenceGradient.leaves)
        let (images, state) = (e.images, e.stateBefore)
        let f = try XCTUnwrap(e.taps["features"]).value
        let value = Double(e.value.value.scalar)
        // v_i = normalise(W f_i + b), in double precision from the plugin's parameters; with the
        // MLP head, f_i is first replaced by relu(BN(W₁ f_i)) over the batch's statistics
        func param(_ name: String) throws -> Tensor { try XCTUnwrap(t.parameters.first { $0.name == "nce." + name }, name).value }
        let mlp = t.parameters.contains { $0.name == "nce.hidden.weight" }
        let (w1, gamma, beta) = mlp ? (try param("hidden.weight"), try param("hidden.bn.weight"), try param("hidden.bn.bias")) : (nil, nil, nil)
        func head(_ f: Tensor) -> [[Double]] {
        var inputs: [[Double]] = (0..<8).map { i in (0..<f.shape[1]).map { Double(f.data[i * f.shape[1] + $0]) } }
        if let w1, let gamma, let beta {
            let (H, F) = (gamma.count, inputs[0].count)
            let z = inputs.map { x in (0..<H).map { j in (0..<F).reduce(0.0) { $0 + Double(w1.data[j * F + $1]) * x[$1] } } }
            inputs = z.map { _ in [Double]() }
            for j in 0..<H {
                let column = z.map { $0[j] }
                let mean = column.reduce(0, +) / 8, variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 8
                for i in 0..<8 { inputs[i].append(max(0, (column[i] - mean) / (variance + 1e-5).squareRoot() * Double(gamma.data[j]) + Double(beta.data[j]))) }
            }
        }
        return inputs
        }
        let (w, b) = (try param("proj.weight"), try param("proj.bias"))
        func project(_ rows: [[Double]]) -> [[Double]] {
            rows.map { x in
                let raw = (0..<D).map { d in (0..<x.count).reduce(Double(b.data[d])) { $0 + Double(w.data[d * x.count + $1]) * x[$1] } }
                let norm = raw.reduce(0) { $0 + $1 * $1 }.squareRoot()
                return raw.map { $0 / norm }
            }
        }
        var second: [[Double]] = []
        if loss.contains("views=2") {
            let draws = RandomGenerator(state: state)
            var u = [Float](repeating: 0, count: 32)
            draws.fillUniform(&u, 32, low: 0, high: 1)
            var theta: [Float] = []
            for i in 0..<8 {
                let side = (0.5 + 0.5 * Double(u[4 * i])).squareRoot(), room = 1 - side
                let (cx, cy) = ((2 * Double(u[4 * i + 1]) - 1) * room, (2 * Double(u[4 * i + 2]) - 1) * room)
                theta += [Float((u[4 * i + 3] < 0.5 ? -1 : 1) * side), 0, Float(cx), 0, Float(side), Float(cy)]
            }
            let g = Graph(training: false, random: RandomGenerator(seed: 0))
            let warped = try g.affineWarp(g.constant(images), theta: theta, fill: run.setup.pixelMin)
            let f2 = try XCTUnwrap(run.model.encode(PluginGraph(graph: g, encoder: run.model), images: warped)["features"]).value
            second = project((0..<8).map { i in (0..<f2.shape[1]).map { Double(f2.data[i * f2.shape[1] + $0]) } })
        }
        return Evaluated(value: value, v: project(head(f)), N: N, second: second, project: { project(head($0)) },
                         node: e.value, graph: e.graph, taps: e.taps)
    }

    private func unit(_ seed: UInt64, _ D: Int) -> [Float] {
        var x = [Float](repeating: 0, count: D)
        RandomGenerator(seed: seed).fillNormal(&x, D)
        let n = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return x.map { $0 / n }
    }

    private func dot(_ a: [Double], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * Double($1.1) } }

    func testNoiseSampledLossMatchesItsClosedForm() throws {
        let u = unit(11, 128)
        for (m, tau) in [(16, 0.07), (48, 0.5)] {
            let e = try evaluate("nce(negatives=\(m), tau=\(tau))") { _ in u }
            // Z is a constant once estimated (Wu et al.): no gradient flows through it
            let Z = Double(e.N) * e.v.map { exp(dot($0, u) / tau) }.reduce(0, +) / Double(e.v.count)
            func expected(_ v: [[Double]]) -> Double {
                v.map { vi -> Double in
                    let x = dot(vi, u) / tau - log(Z) - log(Double(m) / Double(e.N))
                    return softplus(-x) + Double(m) * softplus(x)
                }.reduce(0, +) / Double(v.count)
            }
            XCTAssertEqual(e.value, expected(e.v), accuracy: 1e-4 * max(1, abs(expected(e.v))), "m \(m), τ \(tau)")
            try assertGradient(e, expected: expected)
        }
    }

    func testTheProximalTermAndTheMLPHead() throws {
        let u = unit(14, 128), m = 16, tau = 0.1
        for (loss, lambda) in [("nce(negatives=\(m), tau=\(tau), proximal=0.5)", 0.5), ("nce(negatives=\(m), tau=\(tau), hidden=16)", 0.0)] {
            let e = try evaluate(loss) { _ in u }
            let Z = Double(e.N) * e.v.map { exp(dot($0, u) / tau) }.reduce(0, +) / Double(e.v.count)
            func expected(_ v: [[Double]]) -> Double {
                v.map { vi -> Double in
                    let x = dot(vi, u) / tau - log(Z) - log(Double(m) / Double(e.N))
                    return softplus(-x) + Double(m) * softplus(x)
                }.reduce(0, +) / Double(v.count)
                    + lambda * v.map { vi in zip(vi, u).reduce(0) { $0 + pow($1.0 - Double($1.1), 2) } }.reduce(0, +) / Double(v.count)
            }
            XCTAssertEqual(e.value, expected(e.v), accuracy: 1e-4 * max(1, abs(expected(e.v))), loss)
            try assertGradient(e, expected: expected)
        }
    }

    /// views = 2 adds ½[CE(v·v'ᵀ/τ, diagonal) + CE(v'·vᵀ/τ, diagonal)] to the bank term.
    func testTheSecondViewsInBatchTerm() throws {
        let u = unit(15, 128), tau = 0.3
        let e = try evaluate("nce(negatives=0, tau=\(tau), views=2)") { _ in u }
        let w = e.second
        XCTAssertEqual(w.count, e.v.count)
        func crossEntropy(_ a: [[Double]], _ b: [[Double]]) -> Double {
            (0..<a.count).map { i in
                let logits = b.map { row in zip(a[i], row).reduce(0) { $0 + $1.0 * $1.1 } / tau }
                let m = logits.max()!
                return -logits[i] + m + log(logits.map { exp($0 - m) }.reduce(0, +))
            }.reduce(0, +) / Double(a.count)
        }
        // the bank term: all rows u, so each row's softmax is uniform: log N (and no gradient)
        func expected(_ v: [[Double]]) -> Double { log(Double(e.N)) + 0.5 * (crossEntropy(v, w) + crossEntropy(w, v)) }
        XCTAssertEqual(e.value, expected(e.v), accuracy: 1e-4 * max(1, abs(expected(e.v))))
        try assertGradient(e, expected: expected)
    }

    func testExactSoftmaxMatchesItsClosedForm() throws {
        let u = unit(12, 128), w = unit(13, 128), tau = 0.2
        let e = try evaluate("nce(negatives=0, tau=\(tau))") { $0 % 2 == 0 ? u : w }
        XCTAssertEqual(e.N % 2, 0)
        func expected(_ v: [[Double]]) -> Double {
            v.enumerated().map { i, vi -> Double in
                let own = (i % 2 == 0 ? dot(vi, u) : dot(vi, w)) / tau
                return -own + log(Double(e.N / 2) * exp(dot(vi, u) / tau) + Double(e.N / 2) * exp(dot(vi, w) / tau))
            }.reduce(0, +) / Double(v.count)
        }
        XCTAssertEqual(e.value, expected(e.v), accuracy: 1e-4 * max(1, abs(expected(e.v))))
        try assertGradient(e, expected: expected)
    }
}
