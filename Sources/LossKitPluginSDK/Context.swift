import CLossKitABI

/// Parameter initialisers (LK_INIT_*).
public enum Init {
    case zeros, constant(Float), uniform(Float), normal(std: Float), kaimingNormal, kaimingUniform, xavierUniform

    var code: (Int32, Float) {
        switch self {
        case .zeros: return (LK_INIT_ZEROS, 0)
        case .constant(let v): return (LK_INIT_CONSTANT, v)
        case .uniform(let b): return (LK_INIT_UNIFORM, b)
        case .normal(let s): return (LK_INIT_NORMAL, s)
        case .kaimingNormal: return (LK_INIT_KAIMING_NORMAL, 0)
        case .kaimingUniform: return (LK_INIT_KAIMING_UNIFORM, 0)
        case .xavierUniform: return (LK_INIT_XAVIER_UNIFORM, 0)
        }
    }
}

/// A plugin error thrown from Swift plugin code; the SDK hands its message to the host.
public struct PluginError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The host's services for one instance (`lk_context*`): parameters, state, random numbers,
/// logging, report images.
public struct Context {
    public let api: UnsafePointer<lk_host_api>
    public let handle: OpaquePointer

    public init(api: UnsafePointer<lk_host_api>, handle: OpaquePointer) {
        self.api = api
        self.handle = handle
    }

    /// A parameter "<instance>.<name>"; `decay: false` excludes it from weight decay.
    public func param(_ name: String, _ shape: [Int], _ initializer: Init, group: String = "default", decay: Bool = true) throws -> Param {
        let dims = shape.map { Int64($0) }
        let (code, arg) = initializer.code
        let create = decay ? api.pointee.param_create : api.pointee.param_create_no_decay
        guard let h = dims.withUnsafeBufferPointer({ create!(handle, name, group, $0.baseAddress, Int32(dims.count), code, arg) }) else {
            throw PluginError("the host refused parameter '\(name)' \(shape)")
        }
        return Param(handle: h)
    }

    public func state(_ name: String, _ shape: [Int], fill: Float = 0) throws -> State {
        let dims = shape.map { Int64($0) }
        guard let h = dims.withUnsafeBufferPointer({ api.pointee.state_create(handle, name, $0.baseAddress, Int32(dims.count), fill) }),
              let p = api.pointee.state_data(h) else {
            throw PluginError("the host refused state '\(name)' \(shape)")
        }
        return State(handle: h, count: shape.reduce(1, *), pointer: p)
    }

    public func setOptimizer(group: String, adamLearningRate lr: Float, beta1: Float = 0.9, beta2: Float = 0.999, weightDecay: Float = 0) throws {
        var s = lk_optimizer_settings()
        s.struct_size = UInt32(MemoryLayout<lk_optimizer_settings>.size)
        s.kind = LK_OPTIMIZER_ADAM
        s.learning_rate = lr
        s.momentum = beta1
        s.beta2 = beta2
        s.epsilon = 1e-8
        s.weight_decay = weightDecay
        var err = lk_error()
        guard api.pointee.set_group_optimizer(handle, group, &s, &err) == LK_OK else { throw PluginError(errorText(err)) }
    }

    public func tapShape(_ name: String) -> [Int] {
        var s = api.pointee.tap_shape(handle, name)
        return withUnsafeBytes(of: &s.dims) { raw in
            (0..<Int(s.rank)).map { Int(raw.load(fromByteOffset: $0 * 8, as: Int64.self)) }
        }
    }

    public func log(_ message: String) { api.pointee.log_message(handle, LK_LOG_INFO, message) }

    public func uniform(_ n: Int, _ low: Float, _ high: Float) -> [Float] {
        var out = [Float](repeating: 0, count: n)
        out.withUnsafeMutableBufferPointer { api.pointee.random_uniform(handle, $0.baseAddress, Int64(n), low, high) }
        return out
    }

    public func normal(_ n: Int, mean: Float = 0, std: Float = 1) -> [Float] {
        var out = [Float](repeating: 0, count: n)
        out.withUnsafeMutableBufferPointer { api.pointee.random_normal(handle, $0.baseAddress, Int64(n), mean, std) }
        return out
    }

    /// Uniform integer in 0..<n.
    public func integer(below n: Int) -> Int {
        Int(api.pointee.random_u64(handle) % UInt64(max(n, 1)))
    }

    /// The host's function at `field` when its table covers it (see `GraphBuilder.hostFunction`).
    func hostFunction<F>(_ field: KeyPath<lk_host_api, F?>) -> F? {
        guard let offset = MemoryLayout<lk_host_api>.offset(of: field),
              Int(api.pointee.struct_size) >= offset + MemoryLayout<F?>.size else { return nil }
        return UnsafeRawPointer(api).load(fromByteOffset: offset, as: F?.self)
    }

    /// This process's rank in a data-parallel run: 0 in a run of one process, and on a host
    /// older than ABI 1.4, which runs one process only.
    public var rank: Int { hostFunction(\.rank).map { Int($0(handle)) } ?? 0 }
    /// The number of ranks training this model; 1 in a run of one process.
    public var worldSize: Int { hostFunction(\.world_size).map { Int($0(handle)) } ?? 1 }

    /// `values` summed element-wise over every rank (every rank must call this at the same
    /// point with as many values). Unchanged in a run of one process.
    public func allReduceSum(_ values: inout [Float]) throws {
        guard let reduce = hostFunction(\.all_reduce_sum), !values.isEmpty else { return }
        var err = lk_error()
        let status = values.withUnsafeMutableBufferPointer { reduce(handle, $0.baseAddress, Int64($0.count), &err) }
        guard status == LK_OK else { throw PluginError(errorText(err)) }
    }

    /// Every rank's `values`, concatenated in rank order (every rank must call this at the same
    /// point with as many values). `values` itself in a run of one process.
    public func allGather<T: BitwiseCopyable>(_ values: [T]) throws -> [T] {
        guard let gather = hostFunction(\.all_gather), !values.isEmpty else { return values }
        let size = worldSize
        var err = lk_error(), status = LK_OK
        let all = [T](unsafeUninitializedCapacity: values.count * size) { out, count in
            status = values.withUnsafeBytes { v in
                gather(handle, v.baseAddress, Int64(v.count), UnsafeMutableRawPointer(out.baseAddress), &err)
            }
            count = status == LK_OK ? values.count * size : 0
        }
        guard status == LK_OK else { throw PluginError(errorText(err)) }
        return all
    }

    public func reportImage(_ name: String, _ values: [Float], count: Int, channels: Int, height: Int, width: Int, low: Float, high: Float) {
        _ = values.withUnsafeBufferPointer {
            api.pointee.report_image(handle, name, $0.baseAddress, Int32(count), Int32(channels), Int32(height), Int32(width), low, high)
        }
    }
}

func errorText(_ err: lk_error) -> String {
    var copy = err
    return withUnsafeBytes(of: &copy.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
}

func setError(_ err: UnsafeMutablePointer<lk_error>?, _ message: String) {
    guard let err else { return }
    withUnsafeMutableBytes(of: &err.pointee.message) { raw in
        let bytes = Array(message.utf8.prefix(raw.count - 1))
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
}
