import Foundation
import LossKitPluginSDK

/// Auto-encoding transformations (Zhang, Qi, Wang & Luo, 2019): predict a random transformation
/// from the features of an image and of its transformed copy.
///
/// Per image a transformation t is drawn (`transform`: the affine family — rotation, translation,
/// scale, shear — or the projective one — rotation, scale and a shift of each corner; see
/// Transformations.swift). The image is warped by the host (bilinear, filled with the background
/// value) and encoded again with the same encoder; a plugin-owned layer (linear → tanh) decodes
/// the concatenated features [E(x), E(t(x))] to p̂, regressing t's parameters p(t) ∈ [-1, 1]^k
/// (k = 6 affine, 8 projective):
///
///     L = mean_i ‖p(t_i) - p̂_i‖² / k
final class AET: Objective {
    enum Family: String, CaseIterable { case affine, projective }
    var family = Family.affine
    var rotation = 180.0, translation = 0.2, scaleMin = 0.7, scaleMax = 1.3, shear = 30.0, cornerShift = 0.125
    private var context: Context
    private var decoder: (weight: Param, bias: Param)?
    private var calls = 0
    private(set) var parameterError = Double.nan
    private(set) var rotationErrorDegrees = Double.nan
    private(set) var cornerErrorPixels = Double.nan

    required init(context: Context) throws { self.context = context }

    private var affine: AffineFamily {
        AffineFamily(rotation: rotation, translation: translation, scaleMin: scaleMin, scaleMax: scaleMax, shear: shear)
    }
    private var projective: ProjectiveFamily {
        ProjectiveFamily(rotation: rotation, scaleMin: scaleMin, scaleMax: scaleMax, cornerShift: cornerShift)
    }
    private var parameterCount: Int { family == .affine ? 6 : 8 }

    func prepare(context: Context, setup: Setup) throws {
        self.context = context
        guard scaleMin <= scaleMax else { throw PluginError("need scale_min ≤ scale_max, got \(scaleMin)...\(scaleMax)") }
        let D = context.tapShape("features")[1], k = parameterCount
        decoder = (try context.param("decoder.weight", [k, 2 * D], .xavierUniform), try context.param("decoder.bias", [k], .zeros, decay: false))
    }

    func loss(_ g: GraphBuilder, batch: Batch, taps: Taps) throws -> Value {
        guard let decoder else { throw PluginError("aet was not prepared") }
        let B = batch.size, k = parameterCount
        var warps: [Float] = [], target: [Float] = []
        for _ in 0..<B {
            let t: Transformation
            switch family {
            case .affine: t = affine.make(context.uniform(AffineFamily.draws, -1, 1))
            case .projective:
                guard let made = projective.make(context.uniform(ProjectiveFamily.draws, -1, 1)) else {
                    throw PluginError("aet: a degenerate projective draw (corners collinear)")
                }
                t = made
            }
            warps += t.warp
            target += t.target
        }
        let warped = family == .affine ? batch.images.affineWarp(warps, fill: batch.pixelMin)
            : batch.images.homographyWarp(warps, fill: batch.pixelMin)
        let transformed = g.encode(warped, frozen: false)
        let both = concat([taps["features"], transformed["features"]], axis: 1)
        let predicted = both.linear(g(decoder.weight), g(decoder.bias)).tanh()
        let loss = (predicted - g.constant(target, shape: [B, k])).square().mean()
        parameterError = Double(loss.scalar)
        let p = predicted.values
        if p.count == B * k { measure(predicted: Array(p), target: target, batch: batch) }
        calls += 1
        if calls % 50 == 1 && g.isTraining {
            let n = min(8, B), per = batch.channels * batch.height * batch.width
            context.reportImage("warped inputs", Array(batch.images.values.prefix(n * per)) + Array(warped.values.prefix(n * per)),
                                count: 2 * n, channels: batch.channels, height: batch.height, width: batch.width,
                                low: batch.pixelMin, high: batch.pixelMax)
        }
        return loss
    }

    /// The probes: rotation error in degrees (both families) and, projective, the mean distance
    /// in pixels between predicted and true corners.
    private func measure(predicted p: [Float], target: [Float], batch: Batch) {
        let B = batch.size, k = parameterCount
        var rotationTotal = 0.0, cornerTotal = 0.0
        for i in 0..<B {
            let (truth, guess): (Double, Double)
            if family == .affine {
                truth = atan2(Double(target[i * 6 + 1]), Double(target[i * 6]))
                guess = atan2(Double(p[i * 6 + 1]), Double(p[i * 6]))
            } else {
                let bound = projective.bound
                let corners = { (v: [Float]) in (0..<4).map { (x: Double(v[i * k + 2 * $0]) * bound, y: Double(v[i * k + 2 * $0 + 1]) * bound) } }
                let (t, q) = (corners(target), corners(p))
                truth = ProjectiveFamily.rotation(of: t)
                guess = ProjectiveFamily.rotation(of: q)
                // normalised units to pixels: the side spans 2
                cornerTotal += zip(t, q).map { hypot(($0.x - $1.x) * Double(batch.width) / 2, ($0.y - $1.y) * Double(batch.height) / 2) }
                    .reduce(0, +) / 4
            }
            var d = abs(truth - guess) * 180 / .pi
            if d > 180 { d = 360 - d }
            rotationTotal += d
        }
        rotationErrorDegrees = rotationTotal / Double(B)
        cornerErrorPixels = family == .projective ? cornerTotal / Double(B) : .nan
    }
}

private let plugins = makePluginList([
    describe(
        AET.self, kind: LK_KIND_OBJECTIVE, name: "aet", version: "1.2.0",
        summary: "auto-encoding transformations: predict a random affine or projective warp from features (Zhang et al. 2019)",
        tapsRead: ["features"], defaultTap: "features",
        options: [
            .choice("transform", \.family, default: .affine,
                    doc: "affine: rotation, translation, scale, shear (6 parameters); projective: rotation, scale, corner shifts (8)"),
            .double("rotation", \.rotation, default: 180, .within(0, 180), doc: "rotation range ± degrees"),
            .double("translation", \.translation, default: 0.2, .within(0, 1), doc: "affine: translation range ± fraction of the side"),
            .double("scale_min", \.scaleMin, default: 0.7, .within(0.05, 10), doc: "smallest isotropic scale"),
            .double("scale_max", \.scaleMax, default: 1.3, .within(0.05, 10), doc: "largest isotropic scale"),
            .double("shear", \.shear, default: 30, .within(0, 60), doc: "affine: shear range ± degrees"),
            .double("corner_shift", \.cornerShift, default: 0.125, .within(0, 0.25),
                    doc: "projective: each corner's shift range ± fraction of the side"),
        ],
        probes: [
            Probe("parameter_error", \.parameterError, doc: "mean squared error of the predicted parameters"),
            Probe("rotation_error", \.rotationErrorDegrees, doc: "mean absolute rotation error in degrees (projective: of the best-fit rotation of the corners)"),
            Probe("corner_error", \.cornerErrorPixels, doc: "projective: mean distance in pixels between predicted and true corners"),
        ],
        create: { Runtime.create(AET.self, $0, $1, $2) }),
])

@_cdecl("losskit_plugin_entry")
public func losskitPluginEntry(_ major: UInt16, _ minor: UInt16) -> UnsafePointer<lk_plugin_list>? {
    servesHost(major, minor) ? plugins : nil
}
