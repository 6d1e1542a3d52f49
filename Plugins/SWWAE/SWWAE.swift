import Foundation
import LossKitPluginSDK

/// Stacked what-where auto-encoder (Zhao, Mathieu, Goroshin & LeCun, 2015), with the decoder
/// family of Zhang, Lee & Lee (2016).
///
/// A decoder mirrors the encoder, built from the tap shapes. `decoder=first` and `all` go from
/// the top map down through the max-pools in reverse; at pool j a conv3×3-BN-ReLU maps to pool
/// j's channels and the result is un-pooled, compared with the encoder's map x_m that fed pool j
/// (x̂_m), then passed through a second conv3×3-BN-ReLU; a last conv reconstructs the image x̂:
///
///     all:   L = λ_rec · mean (x - x̂)² + λ_mid · Σ_m mean (x_m - x̂_m)²
///     first: L = λ_rec · mean (x - x̂)²                (the intermediate maps are not compared)
///
/// `decoder=layerwise` instead gives each encoder layer (each conv and each pool, in order) a
/// one-layer decoder of its own that reconstructs the layer's input from its output — a conv3×3
/// (BN-ReLU unless the input is the image) for a conv, an un-pooling followed by a conv3×3-BN-ReLU
/// for a pool — with λ_rec on the image's term and λ_mid on the others'.
///
/// `swwae@features` (a global feature [B, D]) starts with a linear layer to the deepest pool's
/// output shape, then decodes as from that map.
///
/// Un-pooling (`unpool`): `known` puts each value back where its maximum came from (pool j's
/// **switches**, the "where" of SWWAE); `fixed` puts it in the top-left of its window (the
/// ordinary stacked auto-encoder's un-pooling); `upsample` copies it to all four.
///
/// The decoder's parameters are their own optimiser group, Adam at `lr` (1e-3) by default: the
/// last conv writes pixels with no batch-norm after it, and under the run's SGD at P1's lr 0.05
/// its updates are larger than its weights — a swwae-only run diverged in 8 steps and a P1
/// `ce + 0.5*swwae` run never got below the mean image's error. `lr=0` keeps the run's optimiser.
final class SWWAE: Objective {
    enum Unpool: String, CaseIterable { case known, fixed, upsample }
    enum Architecture: String, CaseIterable { case first, all, layerwise }
    var lambdaReconstruction = 1.0
    var lambdaMiddle = 0.1
    var unpool = Unpool.known
    var architecture = Architecture.all
    var learningRate = 1e-3
    var showEvery = 50
    /// The ABI 1.2 spelling of `unpool`: true is `known`, false `upsample`.
    var useSwitches: Bool {
        get { unpool == .known }
        set { unpool = newValue ? .known : .upsample }
    }
    private var context: Context
    private var top = "conv5"
    /// Per pool, top-down: the pool tap, the map that fed it, and the decoder's two convs.
    private var stages: [(pool: String, input: String, into: Conv, after: Conv)] = []
    private var last: (weight: Param, bias: Param)?
    /// A global feature tap [B, D] as the top (the invertibility study's `features`): a linear
    /// layer to the deepest pool's output shape starts the decoder.
    private var fromVector: (weight: Param, bias: Param, shape: [Int])?
    /// decoder=layerwise: per encoder layer, its input ("" for the image), output, and decoder.
    private var layers: [(input: String, output: String, isPool: Bool, conv: Conv?, image: (weight: Param, bias: Param)?)] = []
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

    private func imageConv(_ name: String, _ cin: Int, _ channels: Int) throws -> (weight: Param, bias: Param) {
        (try context.param("\(name).weight", [channels, cin, 3, 3], .kaimingNormal, group: group),
         try context.param("\(name).bias", [channels], .zeros, group: group, decay: false))
    }

    func prepare(context: Context, setup: Setup) throws {
        self.context = context
        top = setup.tap ?? "conv5"
        var topShape = context.tapShape(top)
        guard topShape.count == 4 || (topShape.count == 2 && architecture != .layerwise) else {
            throw PluginError("swwae decodes from a spatial map or a global feature; tap '\(top)' has shape \(topShape)")
        }
        let pools = (1...16).map { "pool\($0)" }.filter { context.tapShape($0).count == 4 }
        guard !pools.isEmpty else { throw PluginError("swwae needs the encoder's max-pool taps (pool1, pool2, ...)") }
        let convs = (1...64).map { "conv\($0)" }.filter { context.tapShape($0).count == 4 }
        // the map that fed each pool: same channels, twice the size (the last such conv)
        var fed: [String: String] = [:]
        for pool in pools {
            let p = context.tapShape(pool)
            guard let input = convs.last(where: { let s = context.tapShape($0); return s[1] == p[1] && s[2] == 2 * p[2] && s[3] == 2 * p[3] }) else {
                throw PluginError("swwae: no conv tap of shape [\(p[1]), \(2 * p[2]), \(2 * p[3])] feeds \(pool)")
            }
            fed[pool] = input
        }
        if topShape.count == 2, let deepest = pools.last {
            let shape = Array(context.tapShape(deepest).dropFirst())
            fromVector = (try context.param("dec.from.weight", [shape.reduce(1, *), topShape[1]], .xavierUniform, group: group),
                          try context.param("dec.from.bias", [shape.reduce(1, *)], .zeros, group: group, decay: false), shape)
            topShape = [topShape[0]] + shape
        }
        if architecture == .layerwise {
            try prepareLayerwise(convs: convs, pools: pools, fed: fed, setup: setup)
        } else {
            try prepareChain(pools: pools, fed: fed, topShape: topShape, setup: setup)
        }
        if learningRate > 0 { try context.setOptimizer(group: group, adamLearningRate: Float(learningRate)) }
    }

    /// first / all: one decoder from the top map down to the image.
    private func prepareChain(pools allPools: [String], fed: [String: String], topShape: [Int], setup: Setup) throws {
        // the pools below the top map: those whose output is no smaller than it (swwae@pool1 decodes through pool1 only)
        let pools = allPools.filter { context.tapShape($0)[2] >= topShape[2] }
        var channels = topShape[1]
        var size = (topShape[2], topShape[3])
        for (j, pool) in pools.enumerated().reversed() {
            let p = context.tapShape(pool)
            guard (p[2], p[3]) == size else {
                throw PluginError("swwae: \(pool) is \(p[2])×\(p[3]) but the decoder is at \(size.0)×\(size.1): read a map just above it with swwae@TAP")
            }
            stages.append((pool, fed[pool]!, try conv("dec\(j + 1).into", channels, p[1]), try conv("dec\(j + 1).after", p[1], p[1])))
            channels = p[1]
            size = (2 * p[2], 2 * p[3])
        }
        guard size == (setup.height, setup.width) else {
            throw PluginError("swwae: the decoder ends at \(size.0)×\(size.1), the images are \(setup.height)×\(setup.width)")
        }
        last = try imageConv("dec0", channels, setup.channels)
    }

    /// layerwise: the encoder's layers in order — image → conv1 → conv2 → pool1 → conv3 … — each
    /// conv reading the layer before it, each pool following the conv that fed it.
    private func prepareLayerwise(convs: [String], pools: [String], fed: [String: String], setup: Setup) throws {
        var previous = ""  // the image
        for name in convs where convs.firstIndex(of: name)! <= convs.firstIndex(of: top) ?? convs.count - 1 {
            let cin = previous.isEmpty ? setup.channels : context.tapShape(previous)[1], cout = context.tapShape(name)[1]
            let k = layers.count + 1
            layers.append((previous, name, false, previous.isEmpty ? nil : try conv("lw\(k)", cout, cin),
                           previous.isEmpty ? try imageConv("lw\(k)", cout, cin) : nil))
            previous = name
            if let pool = pools.first(where: { fed[$0] == name }) {
                let c = context.tapShape(pool)[1]
                layers.append((name, pool, true, try conv("lw\(layers.count + 1)", c, c), nil))
                previous = pool
            }
        }
    }

    func loss(_ g: GraphBuilder, batch: Batch, taps: Taps) throws -> Value {
        func block(_ x: Value, _ c: Conv) -> Value {
            x.conv2d(g(c.weight), padding: 1).batchNormReLU(g(c.gamma), g(c.beta), running: nil)
        }
        func unpooled(_ x: Value, _ pool: String) -> Value {
            switch unpool {
            case .known: return x.maxUnpool(switchesOf: taps[pool])
            case .upsample: return x.upsample(2)
            case .fixed:
                // the top-left of each 2×2 window: upsample, then a mask of ones at even rows and columns
                let (h, w) = (2 * x.shape[2], 2 * x.shape[3])
                let mask = (0..<(h * w)).map { p -> Float in (p / w) % 2 == 0 && (p % w) % 2 == 0 ? 1 : 0 }
                return x.upsample(2) * g.constant(mask, shape: [1, 1, h, w])
            }
        }
        calls += 1
        if architecture == .layerwise {
            var rec: Value?, middle: Value?
            for layer in layers {
                let out = taps[layer.output]
                if let image = layer.image {
                    let r = out.conv2d(g(image.weight), g(image.bias), padding: 1).meanSquaredError(batch.images)
                    rec = r
                } else {
                    let x = layer.isPool ? unpooled(out, layer.output) : out
                    let e = block(x, layer.conv!).meanSquaredError(taps[layer.input])
                    middle = middle.map { $0 + e } ?? e
                }
            }
            guard let rec else { throw PluginError("swwae was not prepared") }
            reconstructionError = Double(rec.scalar)
            var loss = Float(lambdaReconstruction) * rec
            if let middle, lambdaMiddle > 0 { loss = loss + Float(lambdaMiddle) * middle }
            return loss
        }
        guard let last else { throw PluginError("swwae was not prepared") }
        var h = taps[top]
        if let v = fromVector { h = h.linear(g(v.weight), g(v.bias)).reshaped([batch.size] + v.shape) }
        var middle: Value?
        for stage in stages {
            h = unpooled(block(h, stage.into), stage.pool)
            if architecture == .all {
                let error = h.meanSquaredError(taps[stage.input])
                middle = middle.map { $0 + error } ?? error
            }
            h = block(h, stage.after)
        }
        let reconstruction = h.conv2d(g(last.weight), g(last.bias), padding: 1)
        let rec = reconstruction.meanSquaredError(batch.images)
        reconstructionError = Double(rec.scalar)
        if showEvery > 0 && (calls - 1) % showEvery == 0 && g.isTraining { show(batch: batch, reconstruction: reconstruction) }
        var loss = Float(lambdaReconstruction) * rec
        if let middle, lambdaMiddle > 0 { loss = loss + Float(lambdaMiddle) * middle }
        return loss
    }

    /// Inputs above their reconstructions, for the run's report.
    private func show(batch: Batch, reconstruction: Value) {
        let n = min(8, batch.size), per = batch.channels * batch.height * batch.width
        let inputs = Array(batch.images.values.prefix(n * per)), outputs = Array(reconstruction.values.prefix(n * per))
        guard inputs.count == n * per, outputs.count == n * per else { return }
        context.reportImage(unpool == .known ? "reconstructions (with switches)" : "reconstructions (\(unpool.rawValue) un-pooling)", inputs + outputs,
                            count: 2 * n, channels: batch.channels, height: batch.height, width: batch.width,
                            low: batch.pixelMin, high: batch.pixelMax)
    }
}

private let plugins = makePluginList([
    describe(
        SWWAE.self, kind: LK_KIND_OBJECTIVE, name: "swwae", version: "1.3.0",
        summary: "stacked what-where auto-encoder: unpools with the encoder's switches (Zhao et al. 2015)",
        // pool taps give their switches, and the conv maps are compared only with decoder=all
        tapsRead: ["conv5", "pool*", "conv*"], tapsReadWithoutGradient: ["pool*", "conv*"], defaultTap: "conv5",
        options: [
            .double("lambda_rec", \.lambdaReconstruction, default: 1, .atLeast(0), doc: "weight of the image reconstruction error"),
            .double("lambda_mid", \.lambdaMiddle, default: 0.1, .atLeast(0), doc: "weight of the intermediate (pool input) reconstruction errors"),
            .bool("switches", \.useSwitches, default: true, doc: "the ABI 1.2 spelling of unpool: true = known, false = upsample"),
            .choice("unpool", \.unpool, default: .known,
                    doc: "known: to the max-pool switches (SWWAE); fixed: to each window's top-left (stacked AE); upsample: ×2 copies"),
            .choice("decoder", \.architecture, default: .all,
                    doc: "first: image loss only; all: also each pool input (λ_mid); layerwise: a one-layer decoder per encoder layer"),
            .double("lr", \.learningRate, default: 0.001, .atLeast(0), doc: "decoder's Adam learning rate (its own group); 0: the run's optimiser"),
            .int("show_every", \.showEvery, default: 50, .within(0, 1_000_000), doc: "hand the report inputs and reconstructions every N training calls; 0: never"),
        ],
        probes: [Probe("reconstruction_error", \.reconstructionError, doc: "mean (x - x̂)² of the last batch")],
        create: { Runtime.create(SWWAE.self, $0, $1, $2) }),
])

@_cdecl("losskit_plugin_entry")
public func losskitPluginEntry(_ major: UInt16, _ minor: UInt16) -> UnsafePointer<lk_plugin_list>? {
    servesHost(major, minor) ? plugins : nil
}
