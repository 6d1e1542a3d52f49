import LossKitCore

/// A small smooth encoder the host builds itself to exercise objectives in `losskit plugins
/// check`: 1×8×8 images → conv1, conv2 (4 channels) → pool1 → conv3, conv4 (6) → pool2 →
/// conv5 (8) → global average `features` [B, 8] → head `logits` [B, 4]. It offers the same tap
/// names as `convnet-s` so any objective written for it can be checked. Activations are tanh
/// (no kinks for finite differences to trip on).
public final class CheckEncoder: EncoderRunner {
    public static let imageShape = (channels: 1, height: 8, width: 8)
    public static let numClasses = 4
    public let parameters: [Parameter]
    private let convs: [Parameter]
    private let head: Parameter, headBias: Parameter

    public init(random: RandomGenerator) {
        let shapes = [[4, 1, 3, 3], [4, 4, 3, 3], [6, 4, 3, 3], [6, 6, 3, 3], [8, 6, 3, 3]]
        convs = shapes.enumerated().map { i, s in
            let p = Parameter(name: "check.conv\(i + 1)", value: Tensor(zeros: s))
            Initializer.kaimingUniform.fill(p.value, random: random)
            return p
        }
        head = Parameter(name: "check.head.weight", value: Tensor(zeros: [CheckEncoder.numClasses, 8]))
        Initializer.xavierUniform.fill(head.value, random: random)
        headBias = Parameter(name: "check.head.bias", value: Tensor(zeros: [CheckEncoder.numClasses]))
        parameters = convs + [head, headBias]
    }

    public func encode(_ pg: PluginGraph, images: Node) throws -> TapSet {
        let g = pg.graph
        let taps = TapSet()
        var h = images
        for (i, conv) in convs.enumerated() {
            h = g.tanh(try g.conv2d(h, weight: pg.read(conv), padding: 1))
            taps.emit("conv\(i + 1)", h)
            if i == 1 || i == 3 {
                h = try g.maxPool2d(h, kernel: 2)
                taps.emit("pool\(i == 1 ? 1 : 2)", h)
            }
        }
        let features = try g.globalAvgPool(h)
        taps.emit("features", features)
        taps.emit("logits", try g.linear(features, weight: pg.read(head), bias: pg.read(headBias)))
        return taps
    }
}
