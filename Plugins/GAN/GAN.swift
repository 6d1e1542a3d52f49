import Foundation
import LossKitPluginSDK

/// Adversarial objectives with a plugin-owned DCGAN-style generator G: z ~ N(0, I) (dim 100) →
/// linear → reshape [4c, H/4, W/4] → BN-ReLU → (upsample ×2 → conv3×3 → BN-ReLU) → upsample ×2
/// → conv3×3 → tanh, scaled to the data's normalised range. G's parameters are their own group
/// with Adam (lr 2e-4, β1 0.5) and N(0, 0.02) weights, as in DCGAN.
///
/// mode `semi` (Salimans et al. 2016): the discriminator is the encoder with the host's K-class
/// head (the fake class is the implicit zero logit): D(x) = Z/(Z+1), Z = Σ_k exp l_k(x). With
/// LSE = logsumexp of the logits,
///
///     L_D = ½ (-mean LSE(l(x_unl)) + mean sp(LSE(l(x_unl))) + mean sp(LSE(l(G(z)))))   (G(z) detached)
///     L_G = ‖mean_i f(x_i) - mean_j f(G(z_j))‖²   (feature matching, encoder read frozen)
///
/// mode `dcgan` (Radford et al. 2016): a plugin-owned binary head d on the global feature;
/// L_D = mean sp(-d(x)) + mean sp(d(G(z))), L_G = mean sp(-d(G(z))) through the frozen
/// encoder and head (non-saturating). The term's value is L_D + L_G.
final class GAN: Objective {
    var mode = "semi"
    var latent = 100
    var learningRate = 2e-4
    var beta1 = 0.5
    var width = 32
    /// Which part the term returns: "both" (L_D + L_G), "discriminator" or "generator" — for
    /// alternating schedules, and to show each part trains only its own player.
    var part = "both"
    private var context: Context
    private var matchTap = "features"
    private var generator: (fc: Param, fcBias: Param, bn0: (Param, Param), conv1: Param, bn1: (Param, Param), conv2: Param, conv2Bias: Param)?
    private var dcganHead: (weight: Param, bias: Param)?
    private var shape = (channels: 1, height: 28, width: 28)
    private var range: (Float, Float) = (-1, 1)
    private var calls = 0
    private(set) var realAccuracy = Double.nan
    private(set) var fakeAccuracy = Double.nan
    private(set) var featureDistance = Double.nan

    required init(context: Context) throws { self.context = context }

    func prepare(context: Context, setup: Setup) throws {
        self.context = context
        matchTap = setup.tap ?? "features"
        guard setup.height % 4 == 0, setup.width % 4 == 0 else {
            throw PluginError("the generator doubles twice: image sides must be divisible by 4, got \(setup.height)×\(setup.width)")
        }
        shape = (setup.channels, setup.height, setup.width)
        range = (setup.pixelMin, setup.pixelMax)
        let c0 = 4 * width, c1 = 2 * width, h0 = setup.height / 4, w0 = setup.width / 4
        let group = "generator"
        generator = (
            fc: try context.param("generator.fc.weight", [c0 * h0 * w0, latent], .normal(std: 0.02), group: group),
            fcBias: try context.param("generator.fc.bias", [c0 * h0 * w0], .zeros, group: group, decay: false),
            bn0: (try context.param("generator.bn0.weight", [c0], .constant(1), group: group, decay: false),
                  try context.param("generator.bn0.bias", [c0], .zeros, group: group, decay: false)),
            conv1: try context.param("generator.conv1.weight", [c1, c0, 3, 3], .normal(std: 0.02), group: group),
            bn1: (try context.param("generator.bn1.weight", [c1], .constant(1), group: group, decay: false),
                  try context.param("generator.bn1.bias", [c1], .zeros, group: group, decay: false)),
            conv2: try context.param("generator.conv2.weight", [setup.channels, c1, 3, 3], .normal(std: 0.02), group: group),
            conv2Bias: try context.param("generator.conv2.bias", [setup.channels], .zeros, group: group, decay: false))
        try context.setOptimizer(group: group, adamLearningRate: Float(learningRate), beta1: Float(beta1))
        if mode == "dcgan" {
            let D = context.tapShape("features")[1]
            dcganHead = (try context.param("discriminator.weight", [1, D], .normal(std: 0.02)),
                         try context.param("discriminator.bias", [1], .zeros, decay: false))
        }
    }

    /// G(z) for a fresh z, in the data's normalised range.
    private func generate(_ g: GraphBuilder, count: Int) -> Value {
        let G = generator!
        let h0 = shape.height / 4, w0 = shape.width / 4
        let z = g.constant(context.normal(count * latent), shape: [count, latent])
        var h = z.linear(g(G.fc), g(G.fcBias)).reshaped([count, 4 * width, h0, w0])
        h = h.batchNormReLU(g(G.bn0.0), g(G.bn0.1), running: nil)
        h = h.upsample(2).conv2d(g(G.conv1), padding: 1).batchNormReLU(g(G.bn1.0), g(G.bn1.1), running: nil)
        let t = h.upsample(2).conv2d(g(G.conv2), g(G.conv2Bias), padding: 1).tanh()
        return (t + 1) * ((range.1 - range.0) / 2) + range.0
    }

    func loss(_ g: GraphBuilder, batch: Batch, taps: Taps) throws -> Value {
        guard generator != nil else { throw PluginError("gan was not prepared") }
        let B = batch.size
        let fake = generate(g, count: B)
        let loss: Value
        if mode == "dcgan" {
            guard let head = dcganHead else { throw PluginError("gan was not prepared") }
            let real = taps["features"].linear(g(head.weight), g(head.bias))
            let fakeForD = g.encode(fake.detached(), frozen: false)["features"].linear(g(head.weight), g(head.bias))
            let fakeForG = g.encode(fake, frozen: true)["features"].linear(g.frozen(head.weight), g.frozen(head.bias))
            let lossD = (-real).softplus().mean() + fakeForD.softplus().mean()
            let lossG = (-fakeForG).softplus().mean()
            realAccuracy = fraction(real.values) { $0 > 0 }
            fakeAccuracy = fraction(fakeForD.values) { $0 < 0 }
            loss = combine(lossD, lossG)
        } else {
            // the unlabelled rows are the real data of the discriminator (all rows if none)
            let rows = (0..<B).filter { !batch.labelled[$0] }
            let logits = rows.isEmpty ? taps["logits"] : taps["logits"].gatherRows(rows)
            let lseReal = logits.logSumExp()
            let fakeForD = g.encode(fake.detached(), frozen: false)
            let lseFake = fakeForD["logits"].logSumExp()
            let lossD = 0.5 * (-lseReal.mean() + lseReal.softplus().mean() + lseFake.softplus().mean())
            // feature matching through the frozen encoder: only G moves
            let fakeForG = g.encode(fake, frozen: true)
            let difference = taps[matchTap].detached().mean(axes: [0]) - fakeForG[matchTap].mean(axes: [0])
            let lossG = difference.square().sum()
            featureDistance = Double(lossG.scalar)
            realAccuracy = fraction(lseReal.values) { $0 > 0 }   // D(x) > ½ ⟺ LSE > 0
            fakeAccuracy = fraction(lseFake.values) { $0 < 0 }
            loss = combine(lossD, lossG)
        }
        calls += 1
        if calls % 50 == 1 && g.isTraining {
            let n = min(32, B), per = shape.channels * shape.height * shape.width
            context.reportImage("generated samples", Array(fake.values.prefix(n * per)), count: n, channels: shape.channels,
                                height: shape.height, width: shape.width, low: range.0, high: range.1)
        }
        return loss
    }

    private func combine(_ d: Value, _ g: Value) -> Value {
        part == "discriminator" ? d : part == "generator" ? g : d + g
    }

    private func fraction(_ values: UnsafeBufferPointer<Float>, _ test: (Float) -> Bool) -> Double {
        values.isEmpty ? .nan : Double(values.filter(test).count) / Double(values.count)
    }
}

private let plugins = makePluginList([
    describe(
        GAN.self, kind: LK_KIND_OBJECTIVE, name: "gan", version: "1.1.0",
        summary: "semi-supervised GAN with feature matching (Salimans et al. 2016), or DCGAN (Radford et al. 2016)",
        // dcgan mode scores with a head of its own on the features: the class logits go unread
        tapsRead: ["features", "logits"], tapsReadWithoutGradient: ["logits"], defaultTap: "features",
        options: [
            .string("mode", \.mode, default: "semi", choices: ["semi", "dcgan"],
                    doc: "semi: K-class head as discriminator + feature matching; dcgan: binary head"),
            .int("latent", \.latent, default: 100, .within(1, 4096), doc: "dimension of z ~ N(0, I)"),
            .double("lr", \.learningRate, default: 0.0002, .above(0), doc: "generator's Adam learning rate"),
            .double("beta1", \.beta1, default: 0.5, .from(0, below: 1), doc: "generator's Adam β1"),
            .int("width", \.width, default: 32, .within(1, 1024), doc: "generator base width c (layers 4c, 2c)"),
            .string("part", \.part, default: "both", choices: ["both", "discriminator", "generator"],
                    doc: "return L_D + L_G (both), or only the discriminator's or generator's loss"),
        ],
        probes: [
            Probe("real_accuracy", \.realAccuracy, doc: "fraction of real images the discriminator calls real"),
            Probe("fake_accuracy", \.fakeAccuracy, doc: "fraction of generated images it calls fake"),
            Probe("feature_distance", \.featureDistance, doc: "feature-matching distance (semi)"),
        ],
        create: { Runtime.create(GAN.self, $0, $1, $2) }),
])

@_cdecl("losskit_plugin_entry")
public func losskitPluginEntry(_ major: UInt16, _ minor: UInt16) -> UnsafePointer<lk_plugin_list>? {
    servesHost(major, minor) ? plugins : nil
}
