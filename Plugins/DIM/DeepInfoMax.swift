import Foundation
import LossKitPluginSDK

/// Deep InfoMax, local objective (Hjelm et al., 2019): maximise mutual information between the
/// global feature E(x) and every local feature vector C(x) at each position.
///
/// Plugin-owned scorers map local vectors (two 1×1 convolutions, ReLU between) and the global
/// vector (a two-layer MLP) to a common width W; T(c, e) is their dot product. For a batch,
/// S[i, j, p] = T(C_p(x_j), E(x_i)): positives on i = j, negatives i ≠ j. Jensen–Shannon:
///
///     L = mean_{i,p} sp(-S_iip) + mean_{i≠j,p} sp(S_ijp)
///
/// (InfoNCE: per (i, p) a log-softmax over j with the positive i; DV: -mean S_pos + log mean
/// exp S_neg.) `alpha` adds the same JSD between E(x_i) and the whole flattened local map;
/// `gamma` adds prior matching: a small discriminator tells E from uniform U(0,1) samples
/// (its loss uses E detached) while E is pushed toward the prior through the discriminator
/// read frozen (non-saturating).
final class DeepInfoMax: Objective {
    var estimator = "jsd"
    var width = 512
    var alpha = 0.0
    var gamma = 0.0
    private var context: Context
    private var localTap = "conv4"
    private var local: (w1: Param, b1: Param, w2: Param, b2: Param)?
    private var global: (w1: Param, b1: Param, w2: Param, b2: Param)?
    private var whole: (local: Param, global: Param)?
    private var prior: (w1: Param, b1: Param, w2: Param, b2: Param)?
    private(set) var miEstimate = Double.nan

    required init(context: Context) throws { self.context = context }

    func prepare(context: Context, setup: Setup) throws {
        self.context = context
        localTap = setup.tap ?? "conv4"
        let c = context.tapShape(localTap), e = context.tapShape("features")
        guard c.count == 4 else { throw PluginError("dim needs a local map [B, C, M, M]; tap '\(localTap)' has shape \(c)") }
        guard e.count == 2 else { throw PluginError("dim needs the global 'features' [B, D]") }
        let W = width, Cl = c[1], D = e[1]
        local = (try context.param("local.conv1.weight", [W, Cl, 1, 1], .kaimingNormal), try context.param("local.conv1.bias", [W], .zeros, decay: false),
                 try context.param("local.conv2.weight", [W, W, 1, 1], .kaimingNormal), try context.param("local.conv2.bias", [W], .zeros, decay: false))
        global = (try context.param("global.fc1.weight", [W, D], .kaimingNormal), try context.param("global.fc1.bias", [W], .zeros, decay: false),
                  try context.param("global.fc2.weight", [W, W], .xavierUniform), try context.param("global.fc2.bias", [W], .zeros, decay: false))
        if alpha > 0 {
            whole = (try context.param("whole.local.weight", [W, Cl * c[2] * c[3]], .xavierUniform),
                     try context.param("whole.global.weight", [W, D], .xavierUniform))
        }
        if gamma > 0 {
            prior = (try context.param("prior.fc1.weight", [64, D], .kaimingNormal), try context.param("prior.fc1.bias", [64], .zeros, decay: false),
                     try context.param("prior.fc2.weight", [1, 64], .xavierUniform), try context.param("prior.fc2.bias", [1], .zeros, decay: false))
        }
    }

    /// Scores [B, B, P] from E [B, W] against local vectors L [B, W, P], divided by √W: a dot
    /// product of two W-wide vectors of unit-scale entries is √W-scale at initialisation, and at
    /// the default width 512 `ce + dim` under SGD (lr 0.05) diverged within six steps from such
    /// scores (loss 10, then 1.7e3, then 1e24). The scorers can learn any scale back, so the
    /// critic family, and the bound, are unchanged.
    private func scores(_ e: Value, _ l: Value, batch B: Int, positions P: Int, width W: Int) -> Value {
        let columns = l.permuted([1, 0, 2]).reshaped([W, B * P])
        return (1 / Float(W).squareRoot()) * e.matmul(columns).reshaped([B, B, P])
    }

    private func jsd(_ s: Value, batch B: Int) -> Value {
        let g = s.graph
        var diag = [Float](repeating: 0, count: B * B), off = [Float](repeating: 1, count: B * B)
        for i in 0..<B { diag[i * B + i] = 1; off[i * B + i] = 0 }
        let shape = s.shape.count == 3 ? [B, B, 1] : [B, B]
        let P = s.shape.count == 3 ? Float(s.shape[2]) : 1
        let positive = ((-s).softplus() * g.constant(diag, shape: shape)).sum() / (Float(B) * P)
        let negative = (s.softplus() * g.constant(off, shape: shape)).sum() / (Float(B * (B - 1)) * P)
        return positive + negative
    }

    func loss(_ g: GraphBuilder, batch: Batch, taps: Taps) throws -> Value {
        guard let local, let global else { throw PluginError("dim was not prepared") }
        let c = taps[localTap], f = taps["features"]
        let s = c.shape
        guard s.count == 4 else { throw PluginError("tap '\(localTap)' is not a spatial map") }
        let (B, P, W) = (s[0], s[2] * s[3], width)
        guard B > 1 else { throw PluginError("dim needs at least two images per batch for negatives") }
        let l = c.conv2d(g(local.w1), g(local.b1)).relu().conv2d(g(local.w2), g(local.b2)).reshaped([B, W, P])
        let e = f.linear(g(global.w1), g(global.b1)).relu().linear(g(global.w2), g(global.b2))
        let scores = self.scores(e, l, batch: B, positions: P, width: W)
        var loss: Value
        switch estimator {
        case "infonce":
            // rows (i, p): logits over j, the positive at j = i
            let rows = scores.permuted([0, 2, 1]).reshaped([B * P, B])
            loss = rows.crossEntropy(labels: (0..<(B * P)).map { Int32($0 / P) })
            miEstimate = Foundation.log(Double(B)) - Double(loss.scalar)
        case "dv":
            // the positives are masked out of the log-mean-exp by a large negative offset
            var diag = [Float](repeating: 0, count: B * B), negMask = [Float](repeating: 0, count: B * B)
            for i in 0..<B { diag[i * B + i] = 1; negMask[i * B + i] = -1e9 }
            let positive = (scores * g.constant(diag, shape: [B, B, 1])).sum() / Float(B * P)
            let negatives = (scores + g.constant(negMask, shape: [B, B, 1])).reshaped([1, B * B * P]).logSumExp().sum()
            loss = -positive + negatives - Float(Foundation.log(Double(B * (B - 1) * P)))
            miEstimate = -Double(loss.scalar)
        default:
            loss = jsd(scores, batch: B)
            miEstimate = 2 * Foundation.log(2) - Double(loss.scalar)
        }
        if let whole {
            let flat = c.reshaped([B, -1]).linear(g(whole.local))
            let ge = f.linear(g(whole.global))
            loss = loss + Float(alpha) * jsd(ge.matmul(flat, transposeOther: true), batch: B)
        }
        if let prior {
            func discriminate(_ x: Value, frozen: Bool) -> Value {
                let r = { (p: Param) in frozen ? g.frozen(p) : g(p) }
                return x.linear(r(prior.w1), r(prior.b1)).relu().linear(r(prior.w2), r(prior.b2))
            }
            let D = f.shape[1]
            let samples = g.constant(context.uniform(B * D, 0, 1), shape: [B, D])
            // discriminator: prior samples are "real", encoder features (detached) "fake"
            let lossD = (-discriminate(samples, frozen: false)).softplus().mean() + discriminate(f.detached(), frozen: false).softplus().mean()
            // encoder: make its features look like prior samples, through the frozen discriminator
            let lossE = (-discriminate(f, frozen: true)).softplus().mean()
            loss = loss + Float(gamma) * (lossD + lossE)
        }
        return loss
    }
}

private let plugins = makePluginList([
    describe(
        DeepInfoMax.self, kind: LK_KIND_OBJECTIVE, name: "dim", version: "1.2.0",
        summary: "Deep InfoMax: mutual information between the global feature and local features (Hjelm et al. 2019)",
        tapsRead: ["conv4", "features"], defaultTap: "conv4",
        options: [
            .string("estimator", \.estimator, default: "jsd", choices: ["jsd", "infonce", "dv"], doc: "MI estimator: jsd, infonce or dv"),
            .int("width", \.width, default: 512, .within(1, 8192), doc: "common width of the local and global scorers"),
            .double("alpha", \.alpha, default: 0, .atLeast(0), doc: "weight of the global term (E against the whole local map)"),
            .double("gamma", \.gamma, default: 0, .atLeast(0), doc: "weight of prior matching to U(0,1) (reference example: 0.1)"),
        ],
        probes: [Probe("mi", \.miEstimate, doc: "the estimator's mutual-information bound on the last batch")],
        create: { Runtime.create(DeepInfoMax.self, $0, $1, $2) }),
])

@_cdecl("losskit_plugin_entry")
public func losskitPluginEntry(_ major: UInt16, _ minor: UInt16) -> UnsafePointer<lk_plugin_list>? {
    servesHost(major, minor) ? plugins : nil
}
