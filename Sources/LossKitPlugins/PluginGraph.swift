import CLossKitABI
import LossKitCore

/// Runs the encoder (and the host's head) on a batch of images, producing taps. Plugin encoders
/// and the host's built-in check encoder both serve objectives through this.
public protocol EncoderRunner: AnyObject {
    func encode(_ graph: PluginGraph, images: Node) throws -> TapSet
}

/// What an `lk_graph*` points at: the step's tape plus what the C contract adds to it — the
/// sticky error, encode-again, frozen reads during a frozen encode, and the lifetime of taps.
public final class PluginGraph {
    public let graph: Graph
    /// The first error of this pass; once set, every graph function returns NULL.
    public private(set) var error: String?
    /// Who is building on the graph now, for error messages ("nce", "encoder convnet-s").
    var currentOwner = "plugin"
    /// While > 0, `param` reads parameters frozen (encode-again with frozen = 1).
    var frozenDepth = 0
    /// While > 0, an encode-again pass runs: batch-norm uses the new batch's statistics and
    /// leaves the running statistics alone, so generated or warped images never shift the
    /// statistics used at test time.
    public private(set) var encodeAgainDepth = 0
    let encoder: EncoderRunner?
    private var keepAlive: [AnyObject] = []

    public init(graph: Graph, encoder: EncoderRunner?) {
        self.graph = graph
        self.encoder = encoder
    }

    public func fail(_ message: String) {
        if error == nil { error = "\(currentOwner): \(message)" }
    }

    func retain(_ object: AnyObject) { keepAlive.append(object) }

    /// Runs `body` as `owner`, restoring the previous owner afterwards.
    func acting<T>(as owner: String, _ body: () throws -> T) rethrows -> T {
        let saved = currentOwner
        currentOwner = owner
        defer { currentOwner = saved }
        return try body()
    }

    /// Encodes `images` with the run's encoder; frozen reads every encoder parameter as a
    /// constant so the gradient reaches the images only.
    public func encodeAgain(_ images: Node, frozen: Bool) throws -> TapSet {
        guard let encoder else { throw HostError("this graph has no encoder to run again") }
        if frozen { frozenDepth += 1 }
        encodeAgainDepth += 1
        defer {
            if frozen { frozenDepth -= 1 }
            encodeAgainDepth -= 1
        }
        let taps = try encoder.encode(self, images: images)
        retain(taps)
        return taps
    }

    /// A parameter's node: trainable, or frozen inside a frozen encode.
    public func read(_ p: Parameter) -> Node {
        frozenDepth > 0 ? graph.frozen(p) : graph.param(p)  // frozen() honours graph.stopGradients
    }
}
