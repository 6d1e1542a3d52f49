import Foundation
import LossKitCore
import LossKitHost
import LossKitPlugins
import LossKitTraining
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
        let (images, state) = (e.images, e.stateBefore)

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
        try assertDecodes(t, e, warped: warped, in: g, targets: targets, message: options)
    }

    /// The rest of AET's loss, the same for both families: the warped images' features from the
    /// encoder's own pass, then p̂_i = tanh(W [f_i, f'_i] + b) and L = mean (p − p̂)², value and
    /// gradient with respect to the features tap.
    private func assertDecodes(_ t: Trainer, _ e: (value: Node, taps: TapSet, images: Tensor, stateBefore: [UInt64], graph: Graph),
                               warped: Node, in g: Graph, targets: [[Double]], message: String = "",
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let run = t.run
        let other = try XCTUnwrap(run.model.encode(PluginGraph(graph: g, encoder: run.model), images: warped)["features"]).value
        let (B, D, k) = (targets.count, other.shape[1], targets[0].count)
        let w = try XCTUnwrap(t.parameters.first { $0.name == "aet.decoder.weight" }).value
        let b = try XCTUnwrap(t.parameters.first { $0.name == "aet.decoder.bias" }).value
        func reference(_ f: Tensor) -> Double {
            var total = 0.0
            for i in 0..<B {
                let both = (0..<D).map { Double(f.data[i * D + $0]) } + (0..<D).map { Double(other.data[i * D + $0]) }
                for j in 0..<k {
                    let p = tanh((0..<(2 * D)).reduce(Double(b.data[j])) { $0 + Double(w.data[j * 2 * D + $1]) * both[$1] })
                    total += pow(targets[i][j] - p, 2)
                }
            }
            return total / Double(B * k)
        }
        let want = reference(try XCTUnwrap(e.taps["features"]).value)
        XCTAssertEqual(Double(e.value.value.scalar), want, accuracy: 1e-4 * max(1, abs(want)), message, file: file, line: line)
        try ReferenceGradient.assertAgrees(e.value, graph: e.graph, taps: e.taps, names: ["features"], file: file, line: line) { reference($0["features"]!) }
    }

    func testTheDefaultTransformations() throws {
        try check("", rotation: 180, translation: 0.2, scale: (0.7, 1.3), shear: 30)
    }

    func testNarrowerRanges() throws {
        try check("(rotation=45, translation=0.1, scale_min=0.9, scale_max=1.1, shear=10)", rotation: 45, translation: 0.1, scale: (0.9, 1.1), shear: 10)
    }

    /// The projective family (METHODS.md, AET's second family): ten uniforms per image — rotation,
    /// scale, then a shift per corner coordinate — move the corners c_k of the square [-1, 1]² to
    /// m_k = s·R(r)·c_k + δ_k; the image is warped by the homography taking the moved corners back
    /// to the square (content moves to the m_k), and the targets are the m_k divided by the largest
    /// coordinate reachable, s_max·√2 + 2·shift. The homography here is Heckbert's closed form for
    /// the unit square → quadrilateral map, composed with [-1, 1]² → [0, 1]² and inverted — not the
    /// plugin's linear solve.
    func testTheProjectiveFamily() throws {
        let (rotation, scale, shift) = (60.0, (0.8, 1.2), 0.1)
        let h = try MethodHarness(plugins: ["AET"], data: try SyntheticData.makeOrientedFolder(train: 64, test: 8))
        let t = try h.make(h.config(loss: "aet(transform=projective, rotation=\(rotation), scale_min=\(scale.0), scale_max=\(scale.1), corner_shift=\(shift))", steps: 1))
        let run = t.run
        let B = 5
        let e = try h.evaluate(t, term: "aet", count: B, taps: ReferenceGradient.leaves)
        let draws = RandomGenerator(state: e.stateBefore)
        let bound = scale.1 * 2.0.squareRoot() + 2 * shift
        var warps: [Float] = [], targets: [[Double]] = []
        for _ in 0..<B {
            var u = [Float](repeating: 0, count: 10)
            draws.fillUniform(&u, 10, low: -1, high: 1)
            let r = Double(u[0]) * rotation * .pi / 180, s = scale.0 + (Double(u[1]) + 1) / 2 * (scale.1 - scale.0)
            let moved = [(-1.0, -1.0), (1, -1), (1, 1), (-1, 1)].enumerated().map { k, c in
                (s * (cos(r) * c.0 - sin(r) * c.1) + Double(u[2 + 2 * k]) * shift * 2, s * (sin(r) * c.0 + cos(r) * c.1) + Double(u[3 + 2 * k]) * shift * 2)
            }
            targets.append(moved.flatMap { [$0.0 / bound, $0.1 / bound] })
            warps += inverse(multiply(heckbert(moved), [[0.5, 0, 0.5], [0, 0.5, 0.5], [0, 0, 1]])).map { Float($0) }
        }
        let g = Graph(training: false, random: RandomGenerator(seed: 0))
        let warped = try g.homographyWarp(g.constant(e.images), h: warps, fill: run.setup.pixelMin)
        try assertDecodes(t, e, warped: warped, in: g, targets: targets)
    }

    /// Heckbert (1989): the projective map of the unit square's corners (0,0), (1,0), (1,1), (0,1)
    /// to q₀…q₃, as a 3×3 matrix on [u, v, 1].
    private func heckbert(_ q: [(Double, Double)]) -> [[Double]] {
        let (dx1, dx2, dx3) = (q[1].0 - q[2].0, q[3].0 - q[2].0, q[0].0 - q[1].0 + q[2].0 - q[3].0)
        let (dy1, dy2, dy3) = (q[1].1 - q[2].1, q[3].1 - q[2].1, q[0].1 - q[1].1 + q[2].1 - q[3].1)
        let den = dx1 * dy2 - dx2 * dy1
        let gg = (dx3 * dy2 - dx2 * dy3) / den, hh = (dx1 * dy3 - dx3 * dy1) / den
        return [[q[1].0 - q[0].0 + gg * q[1].0, q[3].0 - q[0].0 + hh * q[3].0, q[0].0],
                [q[1].1 - q[0].1 + gg * q[1].1, q[3].1 - q[0].1 + hh * q[3].1, q[0].1],
                [gg, hh, 1]]
    }

    private func multiply(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
        (0..<3).map { i in (0..<3).map { j in (0..<3).reduce(0.0) { $0 + a[i][$1] * b[$1][j] } } }
    }

    /// The inverse by the adjugate, scaled so its last entry is 1 (the plugin's normalisation).
    private func inverse(_ m: [[Double]]) -> [Double] {
        let c = { (i: Int, j: Int) -> Double in
            let r = [0, 1, 2].filter { $0 != j }, k = [0, 1, 2].filter { $0 != i }
            let minor = m[r[0]][k[0]] * m[r[1]][k[1]] - m[r[0]][k[1]] * m[r[1]][k[0]]
            return (i + j) % 2 == 0 ? minor : -minor
        }
        let adj = (0..<3).flatMap { i in (0..<3).map { j in c(i, j) } }
        return adj.map { $0 / adj[8] }
    }
}
