import LossKitPluginSDK

/// Entropy minimisation of the class posterior on unlabelled rows (Grandvalet & Bengio 2005),
/// the Swift twin of Examples/entropy-min/entropy_min.c, op for op:
///
///     loss = mean over unlabelled rows i of H(p_i),  H(p) = -Σ_k p_k log p_k,  p_i = softmax(logits_i / T)
final class EntropyMin: Objective {
    var temperature = 1.0
    var allRows = false
    private(set) var entropy = 0.0
    private var tap = "logits"

    init(context: Context) {}

    /// Honours `entropy-min-swift@tap`: the host resolves it (or the default tap) into setup.tap.
    func prepare(context: Context, setup: Setup) throws { tap = setup.tap ?? "logits" }

    func loss(_ g: GraphBuilder, batch: Batch, taps: Taps) throws -> Value {
        let logits = taps[tap]
        let rows = (0..<batch.size).filter { allRows || !batch.labelled[$0] }
        guard !rows.isEmpty else {
            entropy = 0
            return logits.sum() * 0  // keeps the term on the tape with a zero gradient
        }
        let logp = (logits * Float(1 / temperature)).logSoftmax()
        var h = (logp.exp() * logp).sum(axes: [1], keepDims: true) * -1
        if !allRows { h = h.gatherRows(rows) }
        let out = h.mean()
        entropy = Double(out.scalar)
        return out
    }
}

private let plugins = makePluginList([
    describe(
        EntropyMin.self, kind: LK_KIND_OBJECTIVE, name: "entropy-min-swift", version: "1.0.0",
        summary: "entropy minimisation of the class posterior on unlabelled rows (Grandvalet & Bengio 2005), in Swift",
        tapsRead: ["logits"], defaultTap: "logits",
        options: [
            .double("temperature", \.temperature, default: 1, .above(0), doc: "divides the logits before the softmax; > 1 flattens the posterior"),
            .bool("all_rows", \.allRows, default: false, doc: "also minimise the entropy on labelled rows"),
        ],
        probes: [Probe("entropy", \.entropy, doc: "mean entropy of the last batch's selected rows")],
        create: { Runtime.create(EntropyMin.self, $0, $1, $2) }),
])

@_cdecl("losskit_plugin_entry")
public func losskitPluginEntry(_ major: UInt16, _ minor: UInt16) -> UnsafePointer<lk_plugin_list>? {
    servesHost(major, minor) ? plugins : nil
}
