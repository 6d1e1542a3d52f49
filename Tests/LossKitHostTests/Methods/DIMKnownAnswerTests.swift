import Foundation
import LossKitCore
import LossKitHost
import XCTest

/// Deep InfoMax's three estimators (and the global term `alpha`), value and gradient with respect
/// to both taps, against an independent double-precision implementation of Hjelm et al.'s formulas as METHODS.md states them, from
/// the same taps and the plugin's own scorer parameters:
///
///     e_i  = G₂ relu(G₁ f_i + g₁) + g₂                    the global feature's scorer
///     l_jp = L₂ relu(L₁ c_j[·, p] + ℓ₁) + ℓ₂              the local scorer, a pair of 1×1 convolutions
///     S_ijp = e_i · l_jp / √W                              positives i = j
///     JSD:     mean_{i,p} sp(−S_iip) + mean_{i≠j,p} sp(S_ijp)
///     InfoNCE: mean_{i,p} [ −S_iip + log Σ_j exp S_ijp ]
///     DV:      −mean_{i,p} S_iip + log mean_{i≠j,p} exp S_ijp
///     alpha:   + α · JSD of T_ij = (A f_i) · (Λ vec c_j)   (the whole local map against the global feature)
final class DIMKnownAnswerTests: XCTestCase {
    private func softplus(_ x: Double) -> Double { x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)) }

    private func check(_ loss: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let h = try MethodHarness(plugins: ["DIM"], data: try SyntheticData.makeFolder(train: 64, test: 8))
        let t = try h.make(h.config(loss: loss, steps: 1))
        let evaluated = try h.evaluate(t, term: "dim", count: 5, taps: ReferenceGradient.leaves)
        let taps = evaluated.taps
        let got = Double(evaluated.value.value.scalar)

        func param(_ name: String) throws -> Tensor { try XCTUnwrap(t.parameters.first { $0.name == "dim." + name }, name).value }
        let (c0, f0) = (try XCTUnwrap(taps["conv4"]).value, try XCTUnwrap(taps["features"]).value)
        let (B, C, P, D) = (c0.shape[0], c0.shape[1], c0.shape[2] * c0.shape[3], f0.shape[1])
        let (l1, a1, l2, a2) = (try param("local.conv1.weight"), try param("local.conv1.bias"), try param("local.conv2.weight"), try param("local.conv2.bias"))
        let (g1, b1, g2, b2) = (try param("global.fc1.weight"), try param("global.fc1.bias"), try param("global.fc2.weight"), try param("global.fc2.bias"))
        let W = a1.count
        // y = M x + b, M [rows, cols] row-major
        func affine(_ m: Tensor, _ x: [Double], _ b: Tensor?) -> [Double] {
            let cols = x.count
            return (0..<(m.count / cols)).map { r in (0..<cols).reduce(b.map { Double($0.data[r]) } ?? 0) { $0 + Double(m.data[r * cols + $1]) * x[$1] } }
        }
        let relu = { (x: [Double]) in x.map { max($0, 0) } }
        let alpha = loss.range(of: "alpha=").map { Double(loss[$0.upperBound...].prefix { $0 != "," && $0 != ")" })! }
        let (wl, wg) = alpha == nil ? (nil, nil) : (try param("whole.local.weight"), try param("whole.global.weight"))
        // the loss as a function of the two taps
        func reference(_ c: Tensor, _ f: Tensor) -> Double {
        let e = (0..<B).map { i in affine(g2, relu(affine(g1, (0..<D).map { Double(f.data[i * D + $0]) }, b1)), b2) }
        let l = (0..<B).map { j in (0..<P).map { p in affine(l2, relu(affine(l1, (0..<C).map { Double(c.data[(j * C + $0) * P + p]) }, a1)), a2) } }
        var S = [[[Double]]](repeating: [[Double]](repeating: [Double](repeating: 0, count: P), count: B), count: B)
        for i in 0..<B { for j in 0..<B { for p in 0..<P { S[i][j][p] = zip(e[i], l[j][p]).reduce(0) { $0 + $1.0 * $1.1 } / Double(W).squareRoot() } } }
        func jsd(_ s: (Int, Int, Int) -> Double, positions: Int) -> Double {
            var pos = 0.0, neg = 0.0
            for i in 0..<B { for j in 0..<B { for p in 0..<positions { if i == j { pos += softplus(-s(i, j, p)) } else { neg += softplus(s(i, j, p)) } } } }
            return pos / Double(B * positions) + neg / Double(B * (B - 1) * positions)
        }
        var want: Double
        if loss.contains("infonce") {
            want = 0
            for i in 0..<B { for p in 0..<P { want += -S[i][i][p] + log((0..<B).map { exp(S[i][$0][p]) }.reduce(0, +)) } }
            want /= Double(B * P)
        } else if loss.contains("dv") {
            var pos = 0.0, negExp = 0.0
            for i in 0..<B { for j in 0..<B { for p in 0..<P { if i == j { pos += S[i][j][p] } else { negExp += exp(S[i][j][p]) } } } }
            want = -pos / Double(B * P) + log(negExp / Double(B * (B - 1) * P))
        } else {
            want = jsd({ S[$0][$1][$2] }, positions: P)
        }
        if let alpha, let wl, let wg {
            let flat = (0..<B).map { j in affine(wl, (0..<(C * P)).map { Double(c.data[j * C * P + $0]) }, nil) }
            let ge = (0..<B).map { i in affine(wg, (0..<D).map { Double(f.data[i * D + $0]) }, nil) }
            want += alpha * jsd({ i, j, _ in zip(ge[i], flat[j]).reduce(0) { $0 + $1.0 * $1.1 } }, positions: 1)
        }
        return want
        }
        let want = reference(c0, f0)
        XCTAssertEqual(got, want, accuracy: 1e-4 * max(1, abs(want)), loss, file: file, line: line)
        try ReferenceGradient.assertAgrees(evaluated.value, graph: evaluated.graph, taps: taps, names: ["conv4", "features"],
                                           file: file, line: line) { reference($0["conv4"]!, $0["features"]!) }
    }

    func testJensenShannon() throws { try check("dim(width=16)") }
    func testInfoNCE() throws { try check("dim(width=16, estimator=infonce)") }
    func testDonskerVaradhan() throws { try check("dim(width=16, estimator=dv)") }
    func testTheGlobalTermAlpha() throws { try check("dim(width=16, alpha=0.5)") }
}
