import LossKitPluginSDK

// A Swift objective written the ABI 1.0–1.2 way, kept unchanged: options and probes found by
// exported symbol names (OptionSpec, ProbeSpec, @_cdecl setters). The compatibility tests build
// it against this SDK and load, check and train it on this host.

final class LegacyEnergy: Objective {
    var scale = 1.0
    private(set) var energy = Double.nan

    required init(context: Context) throws {}

    func prepare(context: Context, setup: Setup) throws {}

    func loss(_ g: GraphBuilder, batch: Batch, taps: Taps) throws -> Value {
        let value = taps["features"].square().mean() * Float(scale)
        energy = Double(value.values.first ?? .nan)
        return value
    }
}

@_cdecl("legacy_energy_set_scale")
public func legacyEnergySetScale(_ p: UnsafeMutableRawPointer?, _ v: Double, _ e: UnsafeMutablePointer<lk_error>?) -> Int32 {
    Runtime.set(p, e, v, check: Check.nonNegative("scale")) { (s: LegacyEnergy, v) in s.scale = v }
}

@_cdecl("legacy_energy_probe_energy")
public func legacyEnergyProbeEnergy(_ p: UnsafeMutableRawPointer?) -> Double { Runtime.get(p) { (s: LegacyEnergy) in s.energy } }

private let plugins = makePluginList([
    makeDescriptor(
        kind: LK_KIND_OBJECTIVE, name: "legacy-energy", version: "1.0.0", summary: "mean squared global feature, declared the 1.2 way",
        tapsRead: ["features"], defaultTap: "features",
        options: [OptionSpec("scale", .double, default: "1.0", doc: "multiplies the energy", setter: "legacy_energy_set_scale")],
        probes: [ProbeSpec("energy", doc: "the last batch's energy", getter: "legacy_energy_probe_energy")],
        create: { Runtime.create(LegacyEnergy.self, $0, $1, $2) }),
])

@_cdecl("losskit_plugin_entry")
public func losskitPluginEntry(_ major: UInt16, _ minor: UInt16) -> UnsafePointer<lk_plugin_list>? {
    major == UInt16(LOSSKIT_ABI_MAJOR) ? plugins : nil
}
