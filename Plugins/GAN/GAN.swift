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
/// or, with `generator=adversarial`, L_G = mean sp(−LSE(l(G(z)))) = −mean log D(G(z)) through the
/// frozen discriminator, its minibatch term included: the paper's "training G with minibatch
/// discrimination", which it reports does not work for semi-supervised learning.
///
/// mode `dcgan` (Radford et al. 2016): a plugin-owned binary head d on the global feature;
/// L_D = mean sp(-d(x)) + mean sp(d(G(z))), L_G = mean sp(-d(G(z))) through the frozen
/// encoder and head (non-saturating). The term's value is L_D + L_G.
///
/// Improved-GAN techniques (Salimans et al. 2016), each off by default:
/// - `minibatch_kernels` B > 0: minibatch discrimination (ImprovedTechniques.swift) — o(x) of each
///   batch (real, fake) adds a plugin-owned linear term to the discriminator's decision (to the
///   K logits in semi mode, to d in dcgan mode; the generator's dcgan loss sees it frozen);
/// - `label_smoothing` α < 1: one-sided — the real data's target is α, the fake's stays 0:
///   the real term −log D(x) becomes −α log D(x) − (1 − α) log(1 − D(x));
/// - `vbn` R > 0: virtual batch normalisation in the generator against a reference batch of R
///   latent vectors drawn once (ImprovedTechniques.swift);
/// - `noise` σ > 0: Gaussian noise on every image the discriminator sees, real and generated (the
///   paper's input noise layer; its hidden-layer noise and weight normalisation would be the
///   encoder's, out of a plugin's reach — the paper's CIFAR discriminator's dropout after each
///   stage is `--encoder 'convnet-s(dropout=0.5)'`); the real rows are then encoded again, noisy;
/// - `discriminator_batch=joint` (not one of the paper's techniques): the discriminator encodes
///   the real rows and the generated ones as one batch. Improved-GAN's discriminators had no
///   batch-norm, so a sample's decision did not depend on its batch; the encoder here has it, and
///   with separate batches (the default, as DCGAN trains) each batch-norm normalises the
///   generated batch with its own statistics, hiding from the discriminator the per-channel mean
///   and spread that tell it from the data. Joint, both are normalised alike; the generator's
///   loss (feature matching, or fooling the discriminator) then reads the generated half of
///   another joint pass as well. The real rows are encoded twice more a step;
/// - `history_g`, `history_d` λ > 0: historical averaging, λ‖θ − θ̄‖² added to the generator's
///   cost over its parameters, and to the discriminator's over the plugin's own discriminator
///   parameters (dcgan head, minibatch tensor) — the encoder's weights are the host's and out of
///   a plugin's reach.
final class GAN: Objective {
    var mode = "semi"
    var latent = 100
    var learningRate = 2e-4
    var beta1 = 0.5
    var width = 32
    /// Which part the term returns: "both" (L_D + L_G), "discriminator" or "generator" — for
    /// alternating schedules, and to show each part trains only its own player.
    var part = "both"
    var minibatchKernels = 0, minibatchDimensions = 5
    var labelSmoothing = 1.0
    var historyG = 0.0, historyD = 0.0
    var showEvery = 50, showCount = 32
    var vbnReference = 0
    var noise = 0.0
    var generatorLoss = "matching"
    /// "separate" (real and generated rows each their own batch) or "joint".
    var discriminatorBatch = "separate"
    private var reference: State?
    private var context: Context
    private var minibatch: (discrimination: MinibatchDiscrimination, head: Param)?
    private var historyOfG: HistoricalAverage?, historyOfD: HistoricalAverage?
    private var matchTap = "features"
    private var generator: (fc: Param, fcBias: Param, bn0: (Param, Param), conv1: Param, bn1: (Param, Param), conv2: Param, conv2Bias: Param)?
    private var dcganHead: (weight: Param, bias: Param)?
    private var shape = (channels: 1, height: 28, width: 28)
    private var range: (Float, Float) = (-1, 1)
    private var calls = 0
    private(set) var realAccuracy = Double.nan
    private(set) var fakeAccuracy = Double.nan
    private(set) var featureDistance = Double.nan
    private(set) var realCloseness = Double.nan, fakeCloseness = Double.nan
    private var minibatchRealRows = 0

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
        if vbnReference > 0 {
            // drawn once, here; a resumed run restores it from the checkpoint after prepare
            let state = try context.state("generator.vbn.reference", [vbnReference, latent])
            let z = context.normal(vbnReference * latent)
            for k in 0..<z.count { state.values[k] = z[k] }
            reference = state
        }
        let D = context.tapShape("features")[1]
        if mode == "dcgan" {
            dcganHead = (try context.param("discriminator.weight", [1, D], .normal(std: 0.02)),
                         try context.param("discriminator.bias", [1], .zeros, decay: false))
        }
        if minibatchKernels > 0 {
            let outputs = mode == "dcgan" ? 1 : setup.numClasses
            minibatch = (try MinibatchDiscrimination(context: context, features: D, kernels: minibatchKernels, dimensions: minibatchDimensions),
                         try context.param("discriminator.minibatch.head", [outputs, minibatchKernels], .normal(std: 0.02)))
        }
        if historyG > 0, let G = generator {
            let named: [(String, Param)] = [("fc.weight", G.fc), ("fc.bias", G.fcBias), ("bn0.weight", G.bn0.0), ("bn0.bias", G.bn0.1),
                                            ("conv1.weight", G.conv1), ("bn1.weight", G.bn1.0), ("bn1.bias", G.bn1.1),
                                            ("conv2.weight", G.conv2), ("conv2.bias", G.conv2Bias)]
            let shapes = [[c0 * h0 * w0, latent], [c0 * h0 * w0], [c0], [c0], [c1, c0, 3, 3], [c1], [c1], [setup.channels, c1, 3, 3], [setup.channels]]
            historyOfG = try HistoricalAverage(context: context, name: "generator",
                                               params: zip(named, shapes).map { ("generator.\($0.0.0)", $0.0.1, $0.1) })
        }
        if historyD > 0 {
            var own: [(String, Param, [Int])] = []
            if let head = dcganHead { own += [("discriminator.weight", head.weight, [1, D]), ("discriminator.bias", head.bias, [1])] }
            if let mb = minibatch {
                own += [("discriminator.minibatch.T", mb.discrimination.tensor, [minibatchKernels * minibatchDimensions, D]),
                        ("discriminator.minibatch.head", mb.head, [mode == "dcgan" ? 1 : setup.numClasses, minibatchKernels])]
            }
            guard !own.isEmpty else {
                throw PluginError("history_d averages the plugin's own discriminator parameters, and semi mode without minibatch discrimination has none (the encoder's are the host's)")
            }
            historyOfD = try HistoricalAverage(context: context, name: "discriminator", params: own)
        }
    }

    /// The minibatch-discrimination term of the discriminator's decision for features f, or nil.
    /// `closeness` receives mean o (0: every row unlike the others, 1: a collapsed batch).
    /// Off for a step whose real rows are fewer than two (a rank's share of a small batch): a
    /// lone real row's o is 0 and a generated batch's is not, which would tell them apart for
    /// nothing the generator does.
    private func minibatchTerm(_ g: GraphBuilder, _ f: Value, frozen: Bool = false, closeness: inout Double) -> Value? {
        guard let mb = minibatch, minibatchRealRows >= 2 else { closeness = .nan; return nil }
        let o = mb.discrimination.features(g, f, frozen: frozen)
        closeness = o.values.isEmpty ? .nan : Double(o.values.reduce(0, +)) / Double(o.values.count)
        return o.linear(frozen ? g.frozen(mb.head) : g(mb.head))
    }

    func afterStep(context: Context, info: StepInfo) {
        historyOfG?.record()
        historyOfD?.record()
    }

    /// G(z) for a fresh z, in the data's normalised range.
    private func generate(_ g: GraphBuilder, count: Int) -> Value {
        let G = generator!
        let h0 = shape.height / 4, w0 = shape.width / 4
        let z = g.constant(context.normal(count * latent), shape: [count, latent])
        if let reference {
            // virtual batch norm: the reference batch goes through G beside the samples
            let r = vbnReference
            var h = concat([g.state(reference), z], axis: 0).linear(g(G.fc), g(G.fcBias)).reshaped([r + count, 4 * width, h0, w0])
            h = VirtualBatchNorm.normaliseReLU(h, gamma: g(G.bn0.0), beta: g(G.bn0.1), reference: r)
            h = VirtualBatchNorm.normaliseReLU(h.upsample(2).conv2d(g(G.conv1), padding: 1), gamma: g(G.bn1.0), beta: g(G.bn1.1), reference: r)
            let t = h.upsample(2).conv2d(g(G.conv2), g(G.conv2Bias), padding: 1).tanh().slice(axis: 0, r..<(r + count))
            return (t + 1) * ((range.1 - range.0) / 2) + range.0
        }
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
        let joint = discriminatorBatch == "joint"
        let loss: Value
        if mode == "dcgan" {
            guard let head = dcganHead else { throw PluginError("gan was not prepared") }
            func decide(_ f: Value, frozen: Bool, closeness: inout Double) -> Value {
                let d = f.linear(frozen ? g.frozen(head.weight) : g(head.weight), frozen ? g.frozen(head.bias) : g(head.bias))
                return minibatchTerm(g, f, frozen: frozen, closeness: &closeness).map { d + $0 } ?? d
            }
            minibatchRealRows = B
            // with input noise or a joint batch the real images are encoded again; else the host's taps
            let realImages = noise > 0 || joint ? noisy(g, batch.images) : nil
            let seen = judged(g, real: realImages, fake: fake.detached(), frozen: false)
            let realFeatures = seen.real?("features") ?? taps["features"]
            try minibatch?.discrimination.fitScaleOnce(g, context: context, real: realFeatures)
            var unused = Double.nan
            let real = decide(realFeatures, frozen: false, closeness: &realCloseness)
            let fakeForD = decide(seen.fake("features"), frozen: false, closeness: &fakeCloseness)
            let fooled = judged(g, real: joint ? realImages : nil, fake: fake, frozen: true)
            let fakeForG = decide(fooled.fake("features"), frozen: true, closeness: &unused)
            // one-sided label smoothing: the real target α; α = 1 is the plain −log σ(d)
            let realTerm = labelSmoothing < 1 ? Float(labelSmoothing) * (-real).softplus() + Float(1 - labelSmoothing) * real.softplus()
                : (-real).softplus()
            var lossD = realTerm.mean() + fakeForD.softplus().mean()
            var lossG = (-fakeForG).softplus().mean()
            if let h = historyOfD?.penalty(g, weight: historyD) { lossD = lossD + h }
            if let h = historyOfG?.penalty(g, weight: historyG) { lossG = lossG + h }
            realAccuracy = fraction(real.values) { $0 > 0 }
            fakeAccuracy = fraction(fakeForD.values) { $0 < 0 }
            loss = combine(lossD, lossG)
        } else {
            // the unlabelled rows are the real data of the discriminator (all rows if none)
            let rows = (0..<B).filter { !batch.labelled[$0] }
            func realRows(_ v: Value) -> Value { rows.isEmpty ? v : v.gatherRows(rows) }
            // with input noise or a joint batch the real rows are encoded again (noisy with
            // noise); else the host's taps
            let realImages = noise > 0 || joint ? noisy(g, realRows(batch.images)) : nil
            let seen = judged(g, real: realImages, fake: fake.detached(), frozen: false)
            let fakeForD = seen.fake
            func real(_ tap: String) -> Value { seen.real?(tap) ?? realRows(taps[tap]) }
            var logits = real("logits")
            minibatchRealRows = rows.isEmpty ? B : rows.count
            try minibatch?.discrimination.fitScaleOnce(g, context: context, real: real("features"))
            if let extra = minibatchTerm(g, real("features"), closeness: &realCloseness) { logits = logits + extra }
            let lseReal = logits.logSumExp()
            var fakeLogits = fakeForD("logits")
            if let extra = minibatchTerm(g, fakeForD("features"), closeness: &fakeCloseness) { fakeLogits = fakeLogits + extra }
            let lseFake = fakeLogits.logSumExp()
            // −α log D(x) − (1 − α) log(1 − D(x)) = −α LSE + sp(LSE); α = 1 is the paper's
            let realMean = labelSmoothing < 1 ? Float(labelSmoothing) * lseReal.mean() : lseReal.mean()
            var lossD = 0.5 * (-realMean + lseReal.softplus().mean() + lseFake.softplus().mean())
            if let h = historyOfD?.penalty(g, weight: historyD) { lossD = lossD + h }
            // feature matching through the frozen encoder: only G moves (the real side: all rows'
            // taps, or the real rows encoded again as the discriminator saw them; joint: beside
            // the generated rows again, in one batch as the discriminator judged them)
            let fooled = judged(g, real: joint ? realImages : nil, fake: fake, frozen: true)
            let fakeForG = fooled.fake
            let realMatched = fooled.real?(matchTap) ?? seen.real?(matchTap) ?? taps[matchTap]
            let difference = realMatched.detached().mean(axes: [0]) - fakeForG(matchTap).mean(axes: [0])
            let matching = difference.square().sum()
            featureDistance = Double(matching.scalar)
            var lossG = matching
            if generatorLoss == "adversarial" {
                // −log D(G(z)) = sp(−LSE) through the frozen discriminator, its minibatch term included
                var logitsForG = fakeForG("logits")
                var unused = Double.nan
                if let extra = minibatchTerm(g, fakeForG("features"), frozen: true, closeness: &unused) { logitsForG = logitsForG + extra }
                lossG = (-logitsForG.logSumExp()).softplus().mean()
            }
            if let h = historyOfG?.penalty(g, weight: historyG) { lossG = lossG + h }
            realAccuracy = fraction(lseReal.values) { $0 > 0 }   // D(x) > ½ ⟺ LSE > 0
            fakeAccuracy = fraction(lseFake.values) { $0 < 0 }
            loss = combine(lossD, lossG)
        }
        calls += 1
        if showEvery > 0 && (calls - 1) % showEvery == 0 && g.isTraining {
            let n = min(showCount, B), per = shape.channels * shape.height * shape.width
            context.reportImage("generated samples", Array(fake.values.prefix(n * per)), count: n, channels: shape.channels,
                                height: shape.height, width: shape.width, low: range.0, high: range.1)
        }
        return loss
    }

    /// The encoder's taps for `real` images (nil: none encoded) and generated ones (`fake`, given
    /// the input noise here), as the discriminator sees them: with a joint batch one encode of
    /// both, so every batch-norm normalises them with the same statistics, and each its slice of
    /// it; else each apart. Apart, the real images are encoded before the generated ones' noise
    /// is drawn: the order of random draws (noise, an encoder's dropout) of GAN 1.3.0.
    private func judged(_ g: GraphBuilder, real: Value?, fake: Value, frozen: Bool)
        -> (real: ((String) -> Value)?, fake: (String) -> Value) {
        guard discriminatorBatch == "joint", let real else {
            let r = real.map { g.encode($0, frozen: frozen) }
            let f = g.encode(noisy(g, fake), frozen: frozen)
            return (r.map { r in { r[$0] } }, { f[$0] })
        }
        let n = real.shape[0], total = n + fake.shape[0]
        let both = g.encode(concat([real, noisy(g, fake)], axis: 0), frozen: frozen)
        return ({ both[$0].slice(axis: 0, 0..<n) }, { both[$0].slice(axis: 0, n..<total) })
    }

    /// x + N(0, σ²) for σ = `noise` > 0 (the paper's Gaussian noise on the discriminator's
    /// inputs, fresh each time), else x itself.
    private func noisy(_ g: GraphBuilder, _ x: Value) -> Value {
        guard noise > 0 else { return x }
        return x + g.constant(context.normal(x.shape.reduce(1, *), std: Float(noise)), shape: x.shape)
    }

    private func combine(_ d: Value, _ g: Value) -> Value {
        part == "discriminator" ? d : part == "generator" ? g : d + g
    }

    private func fraction(_ values: UnsafeBufferPointer<Float>, _ test: (Float) -> Bool) -> Double {
        values.isEmpty ? .nan : Double(values.filter(test).count) / Double(values.count)
    }
}
