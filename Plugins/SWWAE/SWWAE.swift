import Foundation
import LossKitPluginSDK

/// Stacked what-where auto-encoder (Zhao, Mathieu, Goroshin & LeCun, 2015), with the
/// all-layers reconstruction of Zhang, Lee & Lee (2016).
///
/// A decoder mirrors the encoder, built from the tap shapes: from the top map it goes down
/// through the max-pools in reverse; at pool j a conv3×3-BN-ReLU maps to pool j's channels and
/// the result is un-pooled with pool j's **switches** ("where": each value goes back to the
/// position its maximum came from) — or upsampled ×2 when `switches` is off, the plain stacked
/// auto-encoder the papers compare against. The un-pooled map x̂_m is compared with the
/// encoder's map x_m that fed pool j; a last conv reconstructs the image x̂:
///
///     L = λ_rec · mean (x - x̂)² + λ_mid · Σ_m mean (x_m - x̂_m)²
///
/// The decoder's parameters are their own optimiser group, Adam at `lr` (1e-3) by default: the
/// last conv writes pixels with no batch-norm after it, and under the run's SGD at P1's lr 0.05
/// its updates are larger than its weights — a swwae-only run diverged in 8 steps and a P1
/// `ce + 0.5*swwae` run never got below the mean image's error. `lr=0` keeps the run's optimiser.
final class SWWAE: Objective {
    var lambdaReconstruction = 1.0
    var lambdaMiddle = 0.1
    var useSwitches = true
    var learningRate = 1e-3
    private var context: Context
    private var top = "conv5"
    /// Per pool, top-down: the pool tap, the map that fed it, and the decoder's two convs.
    private var stages: [(pool: String, input: String, into: Conv, after: Conv)] = []
    private var last: (weight: Param, bias: Param)?
    private var calls = 0
    private(set) var reconstructionError = Double.nan

    struct Conv {
        let weight: Param, gamma: Param, beta: Param
    }

    required init(context: Context) throws { self.context = context }

    private var group: String { learningRate > 0 ? "decoder" : "default" }

    private func conv(_ name: String, _ cin: Int, _ cout: Int) throws -> Conv {
        Conv(weight: try context.param("\(name).weight", [cout, cin, 3, 3], .kaimingNormal, group: group),
             gamma: try context.param("\(name).bn.weight", [cout], .constant(1), group: group, decay: false),
             beta: try context.param("\(name).bn.bias", [cout], .zeros, group: group, decay: false))
    }

    func prepare(context: Context, setup: Setup) throws {
        self.context = context
        top = setup.tap ?? "conv5"
        let topShape = context.tapShape(top)
        guard topShape.count == 4 else { throw PluginError("swwae decodes from a spatial map; tap '\(top)' has shape \(topShape)") }
        let pools = (1...16).map { "pool\($0)" }.filter { context.tapShape($0).count == 4 }
        guard !pools.isEmpty else { throw PluginError("swwae needs the encoder's max-pool taps (pool1, pool2, ...)") }
        let convs = (1...64).map { "conv\($0)" }.filter { context.tapShape($0).count == 4 }
        var channels = topShape[1]
        var size = (topShape[2], topShape[3])
        for (j, pool) in pools.enumerated().reversed() {
            let p = context.tapShape(pool)
            guard (p[2], p[3]) == size else {
                throw PluginError("swwae: \(pool) is \(p[2])×\(p[3]) but the decoder is at \(size.0)×\(size.1): read a map just above it with swwae@TAP")
            }
            // the map that fed this pool: same channels, twice the size (the last such conv)
            guard let input = convs.last(where: { let s = context.tapShape($0); return s[1] == p[1] && s[2] == 2 * p[2] && s[3] == 2 * p[3] }) else {
                throw PluginError("swwae: no conv tap of shape [\(p[1]), \(2 * p[2]), \(2 * p[3])] feeds \(pool)")
            }
            stages.append((pool, input, try conv("dec\(j + 1).into", channels, p[1]), try conv("dec\(j + 1).after", p[1], p[1])))
            channels = p[1]
            size = (2 * p[2], 2 * p[3])
        }
        guard size == (setup.height, setup.width) else {
            throw PluginError("swwae: the decoder ends at \(size.0)×\(size.1), the images are \(setup.height)×\(setup.width)")
        }
        last = (try context.param("dec0.weight", [setup.channels, channels, 3, 3], .kaimingNormal, group: group),
                try context.param("dec0.bias", [setup.channels], .zeros, group: group, decay: false))
        if learningRate > 0 { try context.setOptimizer(group: group, adamLearningRate: Float(learningRate)) }
    }

    func loss(_ g: GraphBuilder, batch: Batch, taps: Taps) throws -> Value {
        guard let last else { throw PluginError("swwae was not prepared") }
        func block(_ x: Value, _ c: Conv) -> Value {
            x.conv2d(g(c.weight), padding: 1).batchNormReLU(g(c.gamma), g(c.beta), running: nil)
        }
        var h = taps[top]
        var middle: Value?
        for stage in stages {
            h = block(h, stage.into)
            h = useSwitches ? h.maxUnpool(switchesOf: taps[stage.pool]) : h.upsample(2)
            let error = h.meanSquaredError(taps[stage.input])
            middle = middle.map { $0 + error } ?? error
            h = block(h, stage.after)
        }
        let reconstruction = h.conv2d(g(last.weight), g(last.bias), padding: 1)
        let rec = reconstruction.meanSquaredError(batch.images)
        reconstructionError = Double(rec.scalar)
        calls += 1
        if calls % 50 == 1 && g.isTraining { show(batch: batch, reconstruction: reconstruction) }
        var loss = Float(lambdaReconstruction) * rec
        if let middle, lambdaMiddle > 0 { loss = loss + Float(lambdaMiddle) * middle }
        return loss
    }

    /// Inputs above their reconstructions, for the run's report.
    private func show(batch: Batch, reconstruction: Value) {
        let n = min(8, batch.size), per = batch.channels * batch.height * batch.width
        let inputs = Array(batch.images.values.prefix(n * per)), outputs = Array(reconstruction.values.prefix(n * per))
        guard inputs.count == n * per, outputs.count == n * per else { return }
        context.reportImage(useSwitches ? "reconstructions (with switches)" : "reconstructions (no switches)", inputs + outputs,
                            count: 2 * n, channels: batch.channels, height: batch.height, width: batch.width,
                            low: batch.pixelMin, high: batch.pixelMax)
    }
}

private let plugins = makePluginList([
    describe(
        SWWAE.self, kind: LK_KIND_OBJECTIVE, name: "swwae", version: "1.2.0",
        summary: "stacked what-where auto-encoder: unpools with the encoder's switches (Zhao et al. 2015)",
        tapsRead: ["conv5", "pool*", "conv*"], tapsReadWithoutGradient: ["pool*"], defaultTap: "conv5",
        options: [
            .double("lambda_rec", \.lambdaReconstruction, default: 1, .atLeast(0), doc: "weight of the image reconstruction error"),
            .double("lambda_mid", \.lambdaMiddle, default: 0.1, .atLeast(0), doc: "weight of the intermediate (pool input) reconstruction errors"),
            .bool("switches", \.useSwitches, default: true, doc: "unpool with the max-pool switches; false: upsample ×2"),
            .double("lr", \.learningRate, default: 0.001, .atLeast(0), doc: "decoder's Adam learning rate (its own group); 0: the run's optimiser"),
        ],
        probes: [Probe("reconstruction_error", \.reconstructionError, doc: "mean (x - x̂)² of the last batch")],
        create: { Runtime.create(SWWAE.self, $0, $1, $2) }),
])

@_cdecl("losskit_plugin_entry")
public func losskitPluginEntry(_ major: UInt16, _ minor: UInt16) -> UnsafePointer<lk_plugin_list>? {
    servesHost(major, minor) ? plugins : nil
}
