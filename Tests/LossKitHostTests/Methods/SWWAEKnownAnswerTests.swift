import Foundation
import LossKitCore
import LossKitHost
import XCTest

/// SWWAE's loss (and its gradient with respect to the pooled maps) against Zhao et al.'s what-where reconstruction as METHODS.md states it, with the
/// decoder's convolutions zeroed so every stage's output is known without running a decoder:
/// a zero convolution followed by batch-norm on batch statistics and ReLU gives relu(β_c) in
/// every position of channel c. So, top-down over the pools (x_m the map that fed pool m):
///
///     known switches: x̂_m[c, y, x] = relu(β^into_c) where (y, x) is the maximum of its 2×2 window
///                     of x_m[c] (the first in row order among ties, as the max-pool records it),
///                     0 elsewhere
///     upsampling:     x̂_m[c, y, x] = relu(β^into_c) everywhere
///     x̂ = b₀ (the last convolution's bias, its weights zero)
///     L = λ_rec · mean (x − x̂)² + λ_mid · Σ_m mean (x_m − x̂_m)²
final class SWWAEKnownAnswerTests: XCTestCase {
    /// `unpool`: "known", "fixed" or "upsample"; `middle`: whether the pool inputs are compared (decoder=all).
    private func check(_ loss: String, switches: Bool, rec: Double, mid: Double, unpool: String? = nil, middle: Bool = true,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let unpool = unpool ?? (switches ? "known" : "upsample")
        let h = try MethodHarness(plugins: ["SWWAE"], data: try SyntheticData.makeFolder(train: 64, test: 8))
        let t = try h.make(h.config(loss: loss, steps: 1))
        func param(_ name: String) throws -> Tensor { try XCTUnwrap(t.parameters.first { $0.name == "swwae." + name }, name).value }
        // zero every decoder convolution; give each batch-norm shift and the last bias known values
        for p in t.parameters where p.name.hasPrefix("swwae.") && p.name.hasSuffix(".weight") && !p.name.hasSuffix("bn.weight") {
            for k in 0..<p.value.count { p.value.data[k] = 0 }
        }
        for p in t.parameters where p.name.hasSuffix("bn.bias") { for k in 0..<p.value.count { p.value.data[k] = 0.1 * Float(k + 1) - 0.15 } }
        let b0 = try param("dec0.bias")
        for k in 0..<b0.count { b0.data[k] = 0.25 }

        let B = 4
        let e = try h.evaluate(t, term: "swwae", count: B, training: true, taps: ReferenceGradient.leaves)
        let (images, taps) = (e.images, e.taps)
        let got = Double(e.value.value.scalar)

        // the loss as a function of the taps; the switches stay where the pools recorded them,
        // which is where the reference's argmax finds them while no nudge breaks a tie (the
        // taps are after ReLU: a window's zeros tie, so zeros are not nudged)
        func reference(_ taps: [String: Tensor]) throws -> Double {
        // λ_rec · mean (x − b₀)²
        var want = rec * (0..<images.count).map { pow(Double(images.data[$0]) - 0.25, 2) }.reduce(0, +) / Double(images.count)
        // each pool's stage: the conv tap that fed it, against relu(β^into) at the switches (or everywhere)
        for (pool, input) in [("pool1", "conv2"), ("pool2", "conv4")] where middle {
            let x = try XCTUnwrap(taps[input])
            let (C, H, W) = (x.shape[1], x.shape[2], x.shape[3])
            let stage = pool == "pool1" ? "dec1" : "dec2"
            let beta = try param("\(stage).into.bn.bias")
            var error = 0.0
            for i in 0..<B {
                for c in 0..<C {
                    let plane = (i * C + c) * H * W
                    let value = max(0, Double(beta.data[c]))
                    var rebuilt = [Double](repeating: unpool == "upsample" ? value : 0, count: H * W)
                    if unpool == "fixed" {
                        for oy in 0..<(H / 2) { for ox in 0..<(W / 2) { rebuilt[2 * oy * W + 2 * ox] = value } }
                    }
                    if unpool == "known" {
                        for oy in 0..<(H / 2) {
                            for ox in 0..<(W / 2) {
                                var best = -Double.infinity, at = 0
                                for p in [2 * oy * W + 2 * ox, 2 * oy * W + 2 * ox + 1, (2 * oy + 1) * W + 2 * ox, (2 * oy + 1) * W + 2 * ox + 1]
                                where Double(x.data[plane + p]) > best { best = Double(x.data[plane + p]); at = p }
                                rebuilt[at] = value
                            }
                        }
                    }
                    for p in 0..<(H * W) { error += pow(Double(x.data[plane + p]) - rebuilt[p], 2) }
                }
            }
            want += mid * error / Double(x.count)
        }
        return want
        }
        var values: [String: Tensor] = [:]
        for name in taps.names { values[name] = taps[name]!.value }
        let want = try reference(values)
        if middle { try ReferenceGradient.assertAgrees(e.value, graph: e.graph, taps: taps, names: ["conv2", "conv4"],
                                           atKink: { $1 == 0 }, file: file, line: line) { try reference($0) } }
        XCTAssertEqual(got, want, accuracy: 1e-4 * max(1, abs(want)), loss, file: file, line: line)
    }

    func testKnownSwitchesPutEachValueWhereItsMaximumWas() throws { try check("swwae", switches: true, rec: 1, mid: 0.1) }
    func testUpsamplingWithoutSwitches() throws { try check("swwae(switches=false)", switches: false, rec: 1, mid: 0.1) }
    func testTheWeightsOfTheTwoTerms() throws { try check("swwae(lambda_rec=0.5, lambda_mid=2)", switches: true, rec: 0.5, mid: 2) }
    func testFixedSwitchesPutEachValueInItsWindowsTopLeft() throws {
        try check("swwae(unpool=fixed)", switches: false, rec: 1, mid: 0.1, unpool: "fixed")
    }
    func testTheFirstDecoderComparesTheImageOnly() throws {
        try check("swwae(decoder=first, lambda_mid=3)", switches: true, rec: 1, mid: 3, middle: false)
    }

    /// decoder=layerwise, its convs zeroed: every non-image layer's decoder gives relu(β) of its
    /// conv, everywhere (an un-pooled pool output goes through a zeroed conv too); the image
    /// layer's gives its bias b. So L = λ_rec · mean (x − b)² + λ_mid · Σ_layers mean (input − relu(β))².
    func testLayerwiseReconstructsEachLayersInputFromItsOutput() throws {
        let h = try MethodHarness(plugins: ["SWWAE"], data: try SyntheticData.makeFolder(train: 64, test: 8))
        let t = try h.make(h.config(loss: "swwae(decoder=layerwise, lambda_mid=0.5)", steps: 1))
        for p in t.parameters where p.name.hasPrefix("swwae.") && p.name.hasSuffix(".weight") && !p.name.hasSuffix("bn.weight") {
            for k in 0..<p.value.count { p.value.data[k] = 0 }
        }
        for p in t.parameters where p.name.hasSuffix("bn.bias") { for k in 0..<p.value.count { p.value.data[k] = 0.1 * Float(k + 1) - 0.15 } }
        let b = try XCTUnwrap(t.parameters.first { $0.name == "swwae.lw1.bias" }).value
        for k in 0..<b.count { b.data[k] = 0.25 }
        let e = try h.evaluate(t, term: "swwae", count: 4, training: true)
        // the layers in order and their decoders' names: lw1 image ← conv1, lw2 conv1 ← conv2, lw3 conv2 ← pool1, ...
        let chain = [("conv1", "conv2"), ("conv2", "pool1"), ("pool1", "conv3"), ("conv3", "conv4"), ("conv4", "pool2"), ("pool2", "conv5")]
        var want = (0..<e.images.count).map { pow(Double(e.images.data[$0]) - 0.25, 2) }.reduce(0, +) / Double(e.images.count)
        for (k, (input, _)) in chain.enumerated() {
            let x = try XCTUnwrap(e.taps[input]).value, beta = try XCTUnwrap(t.parameters.first { $0.name == "swwae.lw\(k + 2).bn.bias" }).value
            let (C, P) = (x.shape[1], x.shape[2] * x.shape[3])
            var error = 0.0
            for i in 0..<x.shape[0] { for c in 0..<C { for p in 0..<P { error += pow(Double(x.data[(i * C + c) * P + p]) - max(0, Double(beta.data[c])), 2) } } }
            want += 0.5 * error / Double(x.count)
        }
        XCTAssertEqual(Double(e.value.value.scalar), want, accuracy: 1e-4 * max(1, want))
    }
}
