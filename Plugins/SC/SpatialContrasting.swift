import Foundation
import LossKitPluginSDK

/// Spatial contrasting (Hoffer, Hubara & Ailon, 2016): two regions of one image should have
/// closer deep features than regions of different images.
///
/// On a spatial tap F [B, C, H, W] each image gets two random regions (a `region` fraction of the
/// map's height and width), average-pooled to a_i, b_i ∈ R^C. With d(u, v) = ‖u - v‖ (or ‖u - v‖²
/// when `squared`):
///
///     L = mean_i -log( exp(-d(a_i, b_i)) / Σ_k exp(-d(a_i, b_k)) )
///
/// a log-softmax over the batch's B² distances with the positive pair on the diagonal; with
/// `symmetric` the same with a and b swapped, averaged. Region pooling is one batched product
/// F_i [C, HW] · m_i [HW, 1] with a mask m_i that is 1/area inside the region, so any region
/// of any size costs one host op.
final class SpatialContrasting: Objective {
    var region = 0.5
    var squared = false
    var symmetric = true
    private var context: Context
    private var tap = "conv5"
    private(set) var positiveDistance = Double.nan
    private(set) var negativeDistance = Double.nan

    required init(context: Context) throws { self.context = context }

    func prepare(context: Context, setup: Setup) throws {
        self.context = context
        tap = setup.tap ?? "conv5"
        let shape = context.tapShape(tap)
        guard shape.count == 4 else {
            throw PluginError("sc needs a spatial map [B, C, H, W]; tap '\(tap)' has shape \(shape): choose one with sc@conv4")
        }
    }

    /// Region-averaging masks [B, H·W, 1]: one random region per image.
    private func masks(batch: Int, height: Int, width: Int) -> [Float] {
        let rh = max(1, Int((Double(height) * region).rounded())), rw = max(1, Int((Double(width) * region).rounded()))
        let w = 1 / Float(rh * rw)
        var m = [Float](repeating: 0, count: batch * height * width)
        for i in 0..<batch {
            let top = context.integer(below: height - rh + 1), left = context.integer(below: width - rw + 1)
            for y in top..<(top + rh) { for x in left..<(left + rw) { m[i * height * width + y * width + x] = w } }
        }
        return m
    }

    func loss(_ g: GraphBuilder, batch: Batch, taps: Taps) throws -> Value {
        let f = taps[tap]
        let s = f.shape
        guard s.count == 4 else { throw PluginError("tap '\(tap)' is not a spatial map") }
        let (B, C, H, W) = (s[0], s[1], s[2], s[3])
        let flat = f.reshaped([B, C, H * W])
        let a = flat.batchedMatmul(g.constant(masks(batch: B, height: H, width: W), shape: [B, H * W, 1])).reshaped([B, C])
        let b = flat.batchedMatmul(g.constant(masks(batch: B, height: H, width: W), shape: [B, H * W, 1])).reshaped([B, C])
        // pairwise squared distances ‖a_i‖² + ‖b_k‖² - 2 a_i·b_k, clamped at 0 against rounding
        let sq = (a.square().sum(axes: [1], keepDims: true) + b.square().sum(axes: [1]).reshaped([1, B])
            - 2 * a.matmul(b, transposeOther: true)).relu()
        let d = squared ? sq : (sq + 1e-6).sqrt()
        let own = (0..<B).map { Int32($0) }
        var loss = (-d).crossEntropy(labels: own)
        if symmetric { loss = 0.5 * (loss + (-d.transposed).crossEntropy(labels: own)) }
        let values = d.values
        if values.count == B * B && B > 1 {
            var pos = 0.0, neg = 0.0
            for i in 0..<B { for k in 0..<B { if i == k { pos += Double(values[i * B + k]) } else { neg += Double(values[i * B + k]) } } }
            positiveDistance = pos / Double(B)
            negativeDistance = neg / Double(B * (B - 1))
        }
        return loss
    }
}

private let plugins = makePluginList([
    describe(
        SpatialContrasting.self, kind: LK_KIND_OBJECTIVE, name: "sc", version: "1.1.0",
        summary: "spatial contrasting: regions of one image closer than regions of others (Hoffer et al. 2016)",
        tapsRead: ["conv5"], defaultTap: "conv5",
        options: [
            .double("region", \.region, default: 0.5, .above(0, upTo: 1), doc: "region size as a fraction of the map's height and width"),
            .bool("squared", \.squared, default: false, doc: "use squared Euclidean distance"),
            .bool("symmetric", \.symmetric, default: true, doc: "average with the a/b-swapped term"),
        ],
        probes: [
            Probe("positive_distance", \.positiveDistance, doc: "mean d(a_i, b_i) in the last batch"),
            Probe("negative_distance", \.negativeDistance, doc: "mean d(a_i, b_k), i ≠ k, in the last batch"),
        ],
        create: { Runtime.create(SpatialContrasting.self, $0, $1, $2) }),
])

@_cdecl("losskit_plugin_entry")
public func losskitPluginEntry(_ major: UInt16, _ minor: UInt16) -> UnsafePointer<lk_plugin_list>? {
    servesHost(major, minor) ? plugins : nil
}
