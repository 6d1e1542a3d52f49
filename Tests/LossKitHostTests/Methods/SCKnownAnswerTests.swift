import Foundation
import LossKitCore
import LossKitHost
import LossKitPlugins
import XCTest

/// Spatial contrasting's loss against its closed form (Hoffer et al. 2016, as METHODS.md states
/// it), on maps chosen so the random regions do not matter:
///
/// - `region = 1`: both regions are the whole map, so a_i = b_i = g_i, the map's mean over H·W;
/// - a map constant over H and W (F_i[c, y, x] = φ_i[c]): every region's mean is φ_i.
///
/// With d_ik = ‖g_i − g_k‖ (√ of the squared distance + 1e-6, as the plugin keeps sqrt finite at 0)
/// or ‖g_i − g_k‖² when `squared`:
///     L = mean_i [ d_ii + log Σ_k exp(−d_ik) ]
/// (the log-softmax over −d with the positive on the diagonal); `symmetric` averages it with
/// the transpose, which is the same here since d is symmetric.
final class SCKnownAnswerTests: XCTestCase {
    /// The term's value on `map` as its `conv5` tap, and (with `reference`) its gradient with
    /// respect to the map against the reference's.
    private func value(_ loss: String, map: Tensor, reference: ((Tensor) -> Double)? = nil) throws -> Double {
        let h = try MethodHarness(plugins: ["SC"], data: try SyntheticData.makeFolder(train: 32, test: 8))
        let t = try h.make(h.config(loss: loss, steps: 1))
        let B = map.shape[0]
        let pg = PluginGraph(graph: Graph(training: true, random: t.random), encoder: t.run.model)
        let taps = TapSet()
        taps.emit("conv5", pg.graph.variable(map.copy()))
        let images = pg.graph.constant(Tensor(zeros: [B, 1, 12, 12]))
        let batch = BatchView(images: images, labels: [Int32](repeating: -1, count: B), labelled: [UInt8](repeating: 0, count: B),
                              indices: (0..<B).map(Int64.init), datasetSize: 32, numClasses: 4, pixelMin: 0, pixelMax: 1)
        let state = t.random.stateWords
        let value = try t.terms.first { $0.label == "sc" }!.value(pg, batch: batch, taps: taps)
        if let reference {
            // the regions are drawn again the same for every nudge: the reference is a function of the map alone
            t.random.restore(from: RandomGenerator(state: state))
            try ReferenceGradient.assertAgrees(value, graph: pg.graph, taps: taps, names: ["conv5"]) { reference($0["conv5"]!) }
        }
        return Double(value.value.scalar)
    }

    /// g_i, the mean over H·W of each channel of image i.
    private func means(_ map: Tensor) -> [[Double]] {
        let (B, C, P) = (map.shape[0], map.shape[1], map.shape[2] * map.shape[3])
        return (0..<B).map { i in (0..<C).map { c in (0..<P).reduce(0.0) { $0 + Double(map.data[(i * C + c) * P + $1]) } / Double(P) } }
    }

    private func closedForm(_ g: [[Double]], squared: Bool) -> Double {
        let B = g.count
        var total = 0.0
        for i in 0..<B {
            let d = (0..<B).map { k -> Double in
                let sq = zip(g[i], g[k]).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                return squared ? sq : (sq + 1e-6).squareRoot()
            }
            total += d[i] + log(d.map { exp(-$0) }.reduce(0, +))
        }
        return total / Double(B)
    }

    func testTheWholeMapAsBothRegionsMatchesTheClosedForm() throws {
        let (B, C, H, W) = (6, 5, 3, 3)
        let map = Tensor(uninitialized: [B, C, H, W])
        RandomGenerator(seed: 21).fillUniform(map.data, map.count, low: -1, high: 1)
        for squared in [false, true] {
            let got = try value("sc(region=1, squared=\(squared))", map: map) { self.closedForm(self.means($0), squared: squared) }
            let want = closedForm(means(map), squared: squared)
            XCTAssertEqual(got, want, accuracy: 1e-4 * max(1, abs(want)), "squared \(squared)")
        }
    }

    func testRandomRegionsOfAMapConstantInSpaceMatchTheClosedForm() throws {
        let (B, C, H, W) = (6, 5, 6, 6)
        var phi = [Float](repeating: 0, count: B * C)
        RandomGenerator(seed: 22).fillUniform(&phi, phi.count, low: -1, high: 1)
        let map = Tensor(uninitialized: [B, C, H, W])
        for i in 0..<B { for c in 0..<C { for p in 0..<(H * W) { map.data[(i * C + c) * H * W + p] = phi[i * C + c] } } }
        let g = (0..<B).map { i in (0..<C).map { Double(phi[i * C + $0]) } }
        for loss in ["sc(region=0.5)", "sc(region=0.5, symmetric=false)", "sc(region=0.34, squared=true)"] {
            let want = closedForm(g, squared: loss.contains("squared"))
            XCTAssertEqual(try value(loss, map: map), want, accuracy: 1e-4 * max(1, abs(want)), loss)
        }
    }
}
