import LossKitPluginSDK

/// A VGG-style encoder made of conv3×3 → batch-norm → ReLU blocks and 2×2 max-pools, ending in
/// a global average pool. Each block's output is tap `conv<i>`, each pool's `pool<j>` (with its
/// switches), and the pooled vector `features`.
///
/// `convnet-s` (1×28×28, METHODS.md's reference): 32, 32, pool, 64, 64, pool, 128 → 128-d.
/// `convnet-l` (3×32×32, in the spirit of the spatial-contrasting paper's CIFAR model):
/// 96, 96, 96, pool, 192, 192, 192, pool, 192 → 192-d. `width` scales every channel count.
/// `dropout` p > 0 zeroes each unit after every pool with probability p while training (inverted
/// dropout: the rest scaled by 1/(1-p)), as the spatial-contrasting and improved-GAN CIFAR models
/// regularise each stage; the pool taps are the pooled values before it, so terms reading them
/// see the layer's output, not the mask.
class ConvNet: Encoder {
    /// Channel counts; 0 marks a 2×2 max-pool.
    class var layout: [Int] { [32, 32, 0, 64, 64, 0, 128] }
    var width: Double = 1
    var dropout: Double = 0
    private var convs: [(weight: Param, gamma: Param, beta: Param, mean: State, variance: State)] = []
    private var isPool: [Bool] = []

    required init(context: Context) throws {}

    func prepare(context: Context, setup: Setup) throws {
        let pools = Self.layout.filter { $0 == 0 }.count
        let factor = 1 << pools
        guard setup.height % factor == 0, setup.width % factor == 0 else {
            throw PluginError("images of \(setup.height)×\(setup.width) cannot pass \(pools) 2×2 pools: use sizes divisible by \(factor)")
        }
        var channels = setup.channels
        var index = 0
        for c in Self.layout {
            isPool.append(c == 0)
            guard c > 0 else { continue }
            index += 1
            let out = max(1, Int((Double(c) * width).rounded()))
            convs.append((
                weight: try context.param("conv\(index).weight", [out, channels, 3, 3], .kaimingNormal),
                gamma: try context.param("bn\(index).weight", [out], .constant(1), decay: false),
                beta: try context.param("bn\(index).bias", [out], .zeros, decay: false),
                mean: try context.state("bn\(index).running_mean", [out], fill: 0),
                variance: try context.state("bn\(index).running_var", [out], fill: 1)))
            channels = out
        }
    }

    func encode(_ g: GraphBuilder, images: Value, taps: Taps) throws {
        var h = images
        var conv = 0, pool = 0
        for pooled in isPool {
            if pooled {
                pool += 1
                h = h.maxPool(2)
                taps.emit("pool\(pool)", h)
                if dropout > 0 { h = h.dropout(Float(dropout)) }
            } else {
                let layer = convs[conv]
                conv += 1
                h = h.conv2d(g(layer.weight), padding: 1).batchNormReLU(g(layer.gamma), g(layer.beta), running: (layer.mean, layer.variance))
                taps.emit("conv\(conv)", h)
            }
        }
        taps.emit("features", h.globalAvgPool())
    }
}

final class ConvNetL: ConvNet {
    override class var layout: [Int] { [96, 96, 96, 0, 192, 192, 192, 0, 192] }
}

/// Both encoders' options.
private func options<T: ConvNet>(_: T.Type) -> [Option<T>] {
    [.double("width", \.width, default: 1, .above(0, upTo: 8), doc: "multiplies every layer's channel count"),
     .double("dropout", \.dropout, default: 0, .from(0, below: 1),
             doc: "probability of zeroing each unit after every 2×2 pool while training (0: off); the pool taps are taken before it")]
}

private let plugins = makePluginList([
    describe(
        ConvNet.self, kind: LK_KIND_ENCODER, name: "convnet-s", version: "1.2.0",
        summary: "1×28×28 VGG-style encoder: 32,32,pool,64,64,pool,128 → 128-d (taps conv1-5, pool1-2, features)",
        options: options(ConvNet.self),
        create: { Runtime.create(ConvNet.self, $0, $1, $2) }),
    describe(
        ConvNetL.self, kind: LK_KIND_ENCODER, name: "convnet-l", version: "1.2.0",
        summary: "3×32×32 encoder: 96×3,pool,192×3,pool,192 → 192-d (taps conv1-7, pool1-2, features)",
        options: options(ConvNetL.self),
        create: { Runtime.create(ConvNetL.self, $0, $1, $2) }),
])

@_cdecl("losskit_plugin_entry")
public func losskitPluginEntry(_ major: UInt16, _ minor: UInt16) -> UnsafePointer<lk_plugin_list>? {
    servesHost(major, minor) ? plugins : nil
}
