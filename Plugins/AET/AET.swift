import Foundation
import LossKitPluginSDK

/// Auto-encoding transformations (Zhang, Qi, Wang & Luo, 2019): predict a random affine map
/// from the features of an image and of its transformed copy.
///
/// Per image: rotation r ∈ ±`rotation`°, translation t ∈ ±`translation`·side, isotropic scale
/// s ∈ [`scale_min`, `scale_max`], shear h ∈ ±`shear`°. The image is warped by the host
/// (bilinear, filled with the background value) and encoded again with the same encoder; a
/// plugin-owned layer (linear → tanh) decodes the concatenated features [E(x), E(t(x))] to
/// p̂, and the target is p = [cos r, sin r, tx/(a·W), ty/(a·H), scale and shear mapped to [-1, 1]]:
///
///     L = mean_i ‖p(t_i) - p̂_i‖² / 6
final class AET: Objective {
    var rotation = 180.0, translation = 0.2, scaleMin = 0.7, scaleMax = 1.3, shear = 30.0
    private var context: Context
    private var decoder: (weight: Param, bias: Param)?
    private var calls = 0
    private(set) var parameterError = Double.nan
    private(set) var rotationErrorDegrees = Double.nan

    required init(context: Context) throws { self.context = context }

    func prepare(context: Context, setup: Setup) throws {
        self.context = context
        guard scaleMin > 0, scaleMin <= scaleMax else { throw PluginError("need 0 < scale_min ≤ scale_max, got \(scaleMin)...\(scaleMax)") }
        let D = context.tapShape("features")[1]
        decoder = (try context.param("decoder.weight", [6, 2 * D], .xavierUniform), try context.param("decoder.bias", [6], .zeros, decay: false))
    }

    /// One draw: the warp matrix (output → input, normalised coordinates) and its 6 targets.
    private func draw() -> (theta: [Float], target: [Float]) {
        let u = context.uniform(5, -1, 1)
        let r = Double(u[0]) * rotation * .pi / 180
        let tx = Double(u[1]) * translation * 2, ty = Double(u[2]) * translation * 2  // normalised: the side spans 2
        let s = scaleMin + (Double(u[3]) + 1) / 2 * (scaleMax - scaleMin)
        let h = Double(u[4]) * shear * .pi / 180
        // forward map A = R(r) · Shear(h) · s, then translate; the warp needs its inverse
        let a = [cos(r) * s, (cos(r) * tan(h) - sin(r)) * s, sin(r) * s, (sin(r) * tan(h) + cos(r)) * s]
        let det = a[0] * a[3] - a[1] * a[2]
        let inv = [a[3] / det, -a[1] / det, -a[2] / det, a[0] / det]
        let theta = [inv[0], inv[1], -(inv[0] * tx + inv[1] * ty), inv[2], inv[3], -(inv[2] * tx + inv[3] * ty)].map { Float($0) }
        let half = (scaleMax - scaleMin) / 2
        let target = [cos(r), sin(r), Double(u[1]), Double(u[2]), half > 0 ? (s - (scaleMin + half)) / half : 0, Double(u[4])].map { Float($0) }
        return (theta, target)
    }

    func loss(_ g: GraphBuilder, batch: Batch, taps: Taps) throws -> Value {
        guard let decoder else { throw PluginError("aet was not prepared") }
        let B = batch.size
        var theta: [Float] = [], target: [Float] = []
        for _ in 0..<B {
            let d = draw()
            theta += d.theta
            target += d.target
        }
        let warped = batch.images.affineWarp(theta, fill: batch.pixelMin)
        let transformed = g.encode(warped, frozen: false)
        let both = concat([taps["features"], transformed["features"]], axis: 1)
        let predicted = both.linear(g(decoder.weight), g(decoder.bias)).tanh()
        let loss = (predicted - g.constant(target, shape: [B, 6])).square().mean()
        parameterError = Double(loss.scalar)
        let p = predicted.values
        if p.count == B * 6 {
            var total = 0.0
            for i in 0..<B {
                let truth = atan2(Double(target[i * 6 + 1]), Double(target[i * 6]))
                let guess = atan2(Double(p[i * 6 + 1]), Double(p[i * 6]))
                var d = abs(truth - guess) * 180 / .pi
                if d > 180 { d = 360 - d }
                total += d
            }
            rotationErrorDegrees = total / Double(B)
        }
        calls += 1
        if calls % 50 == 1 && g.isTraining {
            let n = min(8, B), per = batch.channels * batch.height * batch.width
            context.reportImage("warped inputs", Array(batch.images.values.prefix(n * per)) + Array(warped.values.prefix(n * per)),
                                count: 2 * n, channels: batch.channels, height: batch.height, width: batch.width,
                                low: batch.pixelMin, high: batch.pixelMax)
        }
        return loss
    }
}

private let plugins = makePluginList([
    describe(
        AET.self, kind: LK_KIND_OBJECTIVE, name: "aet", version: "1.1.0",
        summary: "auto-encoding transformations: predict a random affine warp from features (Zhang et al. 2019)",
        tapsRead: ["features"], defaultTap: "features",
        options: [
            .double("rotation", \.rotation, default: 180, .within(0, 180), doc: "rotation range ± degrees"),
            .double("translation", \.translation, default: 0.2, .within(0, 1), doc: "translation range ± fraction of the side"),
            .double("scale_min", \.scaleMin, default: 0.7, .within(0.05, 10), doc: "smallest isotropic scale"),
            .double("scale_max", \.scaleMax, default: 1.3, .within(0.05, 10), doc: "largest isotropic scale"),
            .double("shear", \.shear, default: 30, .within(0, 60), doc: "shear range ± degrees"),
        ],
        probes: [
            Probe("parameter_error", \.parameterError, doc: "mean squared error of the 6 predicted parameters"),
            Probe("rotation_error", \.rotationErrorDegrees, doc: "mean absolute rotation error in degrees"),
        ],
        create: { Runtime.create(AET.self, $0, $1, $2) }),
])

@_cdecl("losskit_plugin_entry")
public func losskitPluginEntry(_ major: UInt16, _ minor: UInt16) -> UnsafePointer<lk_plugin_list>? {
    servesHost(major, minor) ? plugins : nil
}
