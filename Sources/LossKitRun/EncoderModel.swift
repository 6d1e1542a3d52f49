import LossKitCore
import LossKitPlugins

/// The network being trained: an encoder plugin plus the host's linear classification head on
/// its `features` tap, whose output is the `logits` tap. It is also what objectives re-run with
/// `encode` (AET's warped images, GAN's generated ones).
public final class EncoderModel: EncoderRunner {
    public let encoder: PluginInstance
    public let headWeight: Parameter
    public let headBias: Parameter
    /// Shapes of every tap (batch dimension set to the training batch size), measured by a
    /// dry run before training.
    public private(set) var tapShapes: [String: [Int]] = [:]
    public let featureDimension: Int

    /// Creates the encoder instance (parameters "encoder.*"), prepares it, measures its taps on
    /// a dry run, and creates the head "head.weight" [K, D], "head.bias" [K].
    public init(plugin: LoadedPlugin, options: [(key: String, value: String)], setup: SetupInfo, random: RandomGenerator,
                log: @escaping (String) -> Void = { print($0) }) throws {
        guard plugin.kind == .encoder else {
            throw RunError("'\(plugin.name)' is an objective, not an encoder (see `losskit plugins`)")
        }
        let context = InstanceContext(instanceName: "encoder", random: random, logSink: log)
        encoder = try PluginInstance(plugin: plugin, context: context, options: options)
        try encoder.prepare(setup)
        // dry run in evaluation mode: batch-norm running statistics stay untouched
        let dry = PluginGraph(graph: Graph(training: false, random: random), encoder: nil)
        let images = dry.graph.constant(Tensor(zeros: [2, setup.channels, setup.height, setup.width]))
        let taps = try encoder.encode(dry, images: images)
        featureDimension = taps["features"]!.shape[1]
        let K = setup.numClasses, D = featureDimension
        let bound = 1 / Float(D).squareRoot()  // PyTorch's nn.Linear default range
        headWeight = Parameter(name: "head.weight", value: Tensor(zeros: [K, D]))
        headBias = Parameter(name: "head.bias", value: Tensor(zeros: [K]), noWeightDecay: true)
        Initializer.uniform(low: -bound, high: bound).fill(headWeight.value, random: random)
        Initializer.uniform(low: -bound, high: bound).fill(headBias.value, random: random)
        for (name, node) in zip(taps.names, taps.nodes) {
            tapShapes[name] = [setup.batchSize] + node.shape.dropFirst()
        }
        tapShapes["logits"] = [setup.batchSize, K]
    }

    public var parameters: [Parameter] { encoder.context.parameters + [headWeight, headBias] }
    public var states: [StateTensor] { encoder.context.states }
    public var tapNames: [String] { Array(tapShapes.keys).sorted() }

    public func encode(_ pg: PluginGraph, images: Node) throws -> TapSet {
        let taps = try encoder.encode(pg, images: images)
        let logits = try pg.graph.linear(taps["features"]!, weight: pg.read(headWeight), bias: pg.read(headBias))
        taps.emit("logits", logits)
        return taps
    }
}
