import Foundation
import LossKitCore
import LossKitHost
import XCTest

/// AET's loss (and its gradient with respect to the features tap) against METHODS.md's definition, with the plugin's random draws made again from the
/// same generator state (five uniforms in [-1, 1] per image: rotation, x and y translation, scale,
/// shear), so the test knows each transformation t_i. The transformation moves the *content*:
/// x' = A x + τ with A = s · R(r) · Shear(h), R(r) = [[cos r, −sin r], [sin r, cos r]],
/// Shear(h) = [[1, tan h], [0, 1]], τ in normalised coordinates (the side spans 2); the host's
/// warp reads the input at θ·[p, 1], so θ = [A⁻¹ | −A⁻¹τ]. Then, with E the encoder,
///     p̂_i = tanh(W [E(x_i), E(t_i(x_i))] + b),   p(t) = [cos r, sin r, u_x, u_y, scale ↦ [−1, 1], u_shear]
///     L = mean_{i,k} (p(t_i)_k − p̂_ik)²
/// An inverted warp (content moved by A⁻¹ instead of A) changes E(t(x)), so the loss.
final class AETKnownAnswerTests: XCTestCase {
    private func check(_ options: String, rotation: Double, translation: Double, scale: (Double, Double), shear: Double) throws {
        let h = try MethodHarness(plugins: ["AET"], data: try SyntheticData.makeOrientedFolder(train: 64, test: 8))
        let t = try h.make(h.config(loss: "aet\(options)", steps: 1))
        let run = t.run
        let B = 5
        let e = try h.evaluate(t, term: "aet", count: B, taps: ReferenceGradient.leaves)
        let (images, state, taps) = (e.images, e.stateBefore, e.taps)
        let got = Double(e.value.value.scalar)

        // the same draws, and each transformation from its definition
        let draws = RandomGenerator(state: state)
        var theta: [Float] = [], targets: [[Double]] = []
        let mid = (scale.0 + scale.1) / 2, half = (scale.1 - scale.0) / 2
        for _ in 0..<B {
            var u = [Float](repeating: 0, count: 5)
            draws.fillUniform(&u, 5, low: -1, high: 1)
            let r = Double(u[0]) * rotation * .pi / 180, hs = Double(u[4]) * shear * .pi / 180
            let s = mid + Double(u[3]) * half
            let (tx, ty) = (Double(u[1]) * translation * 2, Double(u[2]) * translation * 2)
            // A = s · R · Shear
            let rot = [[cos(r), -sin(r)], [sin(r), cos(r)]], sh = [[1, tan(hs)], [0, 1]]
            let a = (0..<2).map { i in (0..<2).map { j in s * (rot[i][0] * sh[0][j] + rot[i][1] * sh[1][j]) } }
            let det = a[0][0] * a[1][1] - a[0][1] * a[1][0]
            let inv = [[a[1][1] / det, -a[0][1] / det], [-a[1][0] / det, a[0][0] / det]]
            theta += [inv[0][0], inv[0][1], -(inv[0][0] * tx + inv[0][1] * ty), inv[1][0], inv[1][1], -(inv[1][0] * tx + inv[1][1] * ty)].map { Float($0) }
            targets.append([cos(r), sin(r), Double(u[1]), Double(u[2]), half > 0 ? (s - mid) / half : 0, Double(u[4])])
        }
        let g = Graph(training: false, random: RandomGenerator(seed: 0))
        let warped = try g.affineWarp(g.constant(images), theta: theta, fill: run.setup.pixelMin)
        let other = try XCTUnwrap(run.model.encode(PluginGraph(graph: g, encoder: run.model), images: warped)["features"]).value
        let D = try XCTUnwrap(taps["features"]).value.shape[1]
        let w = try XCTUnwrap(t.parameters.first { $0.name == "aet.decoder.weight" }).value
        let b = try XCTUnwrap(t.parameters.first { $0.name == "aet.decoder.bias" }).value
        // the loss as a function of the features tap (the warped images' features are the encoder's own pass)
        func reference(_ f: Tensor) -> Double {
        var total = 0.0
        for i in 0..<B {
            let both = (0..<D).map { Double(f.data[i * D + $0]) } + (0..<D).map { Double(other.data[i * D + $0]) }
            for k in 0..<6 {
                let p = tanh((0..<(2 * D)).reduce(Double(b.data[k])) { $0 + Double(w.data[k * 2 * D + $1]) * both[$1] })
                total += pow(targets[i][k] - p, 2)
            }
        }
        return total / Double(B * 6)
        }
        let want = reference(try XCTUnwrap(taps["features"]).value)
        XCTAssertEqual(got, want, accuracy: 1e-4 * max(1, abs(want)), options)
        try ReferenceGradient.assertAgrees(e.value, graph: e.graph, taps: taps, names: ["features"]) { reference($0["features"]!) }
    }

    func testTheDefaultTransformations() throws {
        try check("", rotation: 180, translation: 0.2, scale: (0.7, 1.3), shear: 30)
    }

    func testNarrowerRanges() throws {
        try check("(rotation=45, translation=0.1, scale_min=0.9, scale_max=1.1, shear=10)", rotation: 45, translation: 0.1, scale: (0.9, 1.1), shear: 10)
    }
}
