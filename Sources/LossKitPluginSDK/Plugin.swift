import CLossKitABI

/// What `prepare` learns about the run (lk_setup).
public struct Setup {
    public let instance: String
    /// The tap to read: the user's `@tap`, else the plugin's default tap.
    public let tap: String?
    public let channels: Int, height: Int, width: Int
    public let numClasses: Int
    public let datasetSize: Int
    public let pixelMin: Float, pixelMax: Float
    public let batchSize: Int
}

/// One training batch (lk_batch).
public struct Batch {
    public let size: Int
    public let images: Value
    public let labels: [Int32]
    public let labelled: [Bool]
    public let indices: [Int]
    public let datasetSize: Int
    public let numClasses: Int
    public let pixelMin: Float, pixelMax: Float
    public var channels: Int { images.shape[1] }
    public var height: Int { images.shape[2] }
    public var width: Int { images.shape[3] }
}

public struct StepInfo {
    public let step: Int
    public let totalSteps: Int
    public let learningRateFactor: Float
}

/// A loss term. `init` runs at `create`; its declared `options` are set next; then `prepare`
/// creates the parameters (optional); `loss` builds the term for each batch on the host's graph.
public protocol Objective: AnyObject {
    init(context: Context) throws
    func prepare(context: Context, setup: Setup) throws
    func loss(_ g: GraphBuilder, batch: Batch, taps: Taps) throws -> Value
    func afterStep(context: Context, info: StepInfo)
}

extension Objective {
    public func prepare(context: Context, setup: Setup) throws {}
    public func afterStep(context: Context, info: StepInfo) {}
}

/// An image encoder: `encode` emits taps, at least "features" [B, D].
public protocol Encoder: AnyObject {
    init(context: Context) throws
    func prepare(context: Context, setup: Setup) throws
    func encode(_ g: GraphBuilder, images: Value, taps: Taps) throws
}

/// What the host's `void *self` points at for a Swift plugin.
final class InstanceBox {
    let api: UnsafePointer<lk_host_api>
    let objective: Objective?
    let encoder: Encoder?
    /// The declared options' setters and probes' getters, bound to this instance.
    var declarations: Declarations?
    init(api: UnsafePointer<lk_host_api>, objective: Objective? = nil, encoder: Encoder? = nil) {
        self.api = api
        self.objective = objective
        self.encoder = encoder
    }
}

/// The C side of a Swift plugin: trampolines from losskit.h's function pointers to the Swift
/// protocols, catching every Swift error at the boundary (errors cannot cross `@convention(c)`).
public enum Runtime {
    public static func create<T: Objective>(_ type: T.Type, _ api: UnsafePointer<lk_host_api>?, _ ctx: OpaquePointer?,
                                            _ err: UnsafeMutablePointer<lk_error>?) -> UnsafeMutableRawPointer? {
        guard let api, let ctx else { setError(err, "NULL host API or context"); return nil }
        do {
            let instance = try T(context: Context(api: api, handle: ctx))
            let box = InstanceBox(api: api, objective: instance)
            box.declarations = DeclarationRegistry.shared.bind(instance)
            return Unmanaged.passRetained(box).toOpaque()
        } catch {
            setError(err, "\(error)")
            return nil
        }
    }

    public static func create<T: Encoder>(_ type: T.Type, _ api: UnsafePointer<lk_host_api>?, _ ctx: OpaquePointer?,
                                          _ err: UnsafeMutablePointer<lk_error>?) -> UnsafeMutableRawPointer? {
        guard let api, let ctx else { setError(err, "NULL host API or context"); return nil }
        do {
            let instance = try T(context: Context(api: api, handle: ctx))
            let box = InstanceBox(api: api, encoder: instance)
            box.declarations = DeclarationRegistry.shared.bind(instance)
            return Unmanaged.passRetained(box).toOpaque()
        } catch {
            setError(err, "\(error)")
            return nil
        }
    }

    static func box(_ p: UnsafeMutableRawPointer?) -> InstanceBox? {
        p.map { Unmanaged<InstanceBox>.fromOpaque($0).takeUnretainedValue() }
    }

    /// The Swift instance behind a `self` pointer, for option setters and probe getters.
    public static func instance<T>(_ p: UnsafeMutableRawPointer?, as: T.Type) -> T? {
        guard let b = box(p) else { return nil }
        return (b.objective as? T) ?? (b.encoder as? T)
    }

    /// Body of an exported option setter: runs `body` on the instance, turning a thrown error
    /// into LK_ERROR with its message.
    public static func set<T>(_ p: UnsafeMutableRawPointer?, _ err: UnsafeMutablePointer<lk_error>?, _ body: (T) throws -> Void) -> Int32 {
        guard let s = instance(p, as: T.self) else { setError(err, "not an instance of \(T.self)"); return LK_ERROR }
        do {
            try body(s)
            return LK_OK
        } catch {
            setError(err, "\(error)")
            return LK_ERROR
        }
    }

    /// Body of an exported probe getter.
    public static func get<T>(_ p: UnsafeMutableRawPointer?, _ body: (T) -> Double) -> Double {
        instance(p, as: T.self).map(body) ?? .nan
    }

    static let prepare: @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafePointer<lk_setup>?, UnsafeMutablePointer<lk_error>?) -> Int32 = { p, ctx, s, err in
        guard let b = box(p), let ctx, let s else { setError(err, "NULL argument to prepare"); return LK_ERROR }
        let c = s.pointee
        let setup = Setup(
            instance: c.instance.map { String(cString: $0) } ?? "", tap: c.tap.map { String(cString: $0) },
            channels: Int(c.channels), height: Int(c.height), width: Int(c.width), numClasses: Int(c.num_classes),
            datasetSize: Int(c.dataset_size), pixelMin: c.pixel_min, pixelMax: c.pixel_max, batchSize: Int(c.batch_size))
        let context = Context(api: b.api, handle: ctx)
        do {
            if let o = b.objective { try o.prepare(context: context, setup: setup) }
            if let e = b.encoder { try e.prepare(context: context, setup: setup) }
            return LK_OK
        } catch {
            setError(err, "\(error)")
            return LK_ERROR
        }
    }

    static let loss: @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafePointer<lk_batch>?, OpaquePointer?) -> OpaquePointer? = { p, g, bp, taps in
        guard let b = box(p), let o = b.objective, let g, let bp else { return nil }
        let graph = GraphBuilder(api: b.api, handle: g)
        let c = bp.pointee
        let n = Int(c.size)
        let batch = Batch(
            size: n, images: Value(graph: graph, node: c.images),
            labels: Array(UnsafeBufferPointer(start: c.labels, count: n)),
            labelled: (0..<n).map { c.labelled[$0] != 0 },
            indices: (0..<n).map { Int(c.indices[$0]) },
            datasetSize: Int(c.dataset_size), numClasses: Int(c.num_classes), pixelMin: c.pixel_min, pixelMax: c.pixel_max)
        do {
            return try o.loss(graph, batch: batch, taps: Taps(graph: graph, handle: taps)).node
        } catch {
            graph.fail("\(error)")
            return nil
        }
    }

    static let encode: @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<lk_error>?) -> Int32 = { p, g, images, taps, err in
        guard let b = box(p), let e = b.encoder, let g else { setError(err, "NULL argument to encode"); return LK_ERROR }
        let graph = GraphBuilder(api: b.api, handle: g)
        do {
            try e.encode(graph, images: Value(graph: graph, node: images), taps: Taps(graph: graph, handle: taps))
            return LK_OK
        } catch {
            setError(err, "\(error)")
            return LK_ERROR
        }
    }

    static let afterStep: @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafePointer<lk_step_info>?) -> Void = { p, ctx, info in
        guard let b = box(p), let o = b.objective, let ctx, let info else { return }
        o.afterStep(context: Context(api: b.api, handle: ctx), info: StepInfo(
            step: Int(info.pointee.step), totalSteps: Int(info.pointee.total_steps), learningRateFactor: info.pointee.learning_rate_factor))
    }

    static let destroy: @convention(c) (UnsafeMutableRawPointer?) -> Void = { p in
        guard let p else { return }
        Unmanaged<InstanceBox>.fromOpaque(p).release()
    }
}
