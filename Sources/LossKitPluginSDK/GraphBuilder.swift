import CLossKitABI

/// The graph of one pass (`lk_graph*`), where a plugin reads parameters and makes constants.
public struct GraphBuilder {
    public let api: UnsafePointer<lk_host_api>
    public let handle: OpaquePointer

    public init(api: UnsafePointer<lk_host_api>, handle: OpaquePointer) {
        self.api = api
        self.handle = handle
    }

    /// The host's function at `field`, one appended to `lk_host_api` after ABI 1.0, when the
    /// host's table covers it (`LK_HOST_HAS` of losskit.h); nil from an older host.
    public func hostFunction<F>(_ field: KeyPath<lk_host_api, F?>) -> F? {
        guard let offset = MemoryLayout<lk_host_api>.offset(of: field),
              Int(api.pointee.struct_size) >= offset + MemoryLayout<F?>.size else { return nil }
        return UnsafeRawPointer(api).load(fromByteOffset: offset, as: F?.self)
    }

    public var isTraining: Bool { api.pointee.is_training(handle) != 0 }

    /// The parameter's value; its gradient trains it.
    public func callAsFunction(_ p: Param) -> Value { Value(graph: self, node: api.pointee.param(handle, p.handle)) }
    public func param(_ p: Param) -> Value { self(p) }
    /// The parameter's value as a constant: the gradient goes to the other operands only.
    public func frozen(_ p: Param) -> Value { Value(graph: self, node: api.pointee.frozen(handle, p.handle)) }
    public func state(_ s: State) -> Value { Value(graph: self, node: api.pointee.state(handle, s.handle)) }

    public func constant(_ values: [Float], shape: [Int]) -> Value {
        let dims = shape.map { Int64($0) }
        let node = values.withUnsafeBufferPointer { v in
            dims.withUnsafeBufferPointer { api.pointee.constant(handle, v.baseAddress, $0.baseAddress, Int32(dims.count)) }
        }
        return Value(graph: self, node: node)
    }

    public func scalar(_ v: Float) -> Value { constant([v], shape: []) }

    /// Records a plugin error on the graph (the host reports it and stops the step).
    public func fail(_ message: String) { api.pointee.fail(handle, message) }

    /// Runs the run's encoder (and head) again on `images`; frozen reads every encoder weight
    /// as a constant, so the gradient reaches the images only.
    public func encode(_ images: Value, frozen: Bool) -> Taps {
        Taps(graph: self, handle: api.pointee.encode(handle, images.node, frozen ? 1 : 0))
    }
}

/// A named set of encoder outputs.
public struct Taps {
    public let graph: GraphBuilder
    public let handle: OpaquePointer?

    public subscript(_ name: String) -> Value {
        Value(graph: graph, node: handle.flatMap { graph.api.pointee.tap($0, name) })
    }

    public var names: [String] {
        guard let handle else { return [] }
        let api = graph.api  // through the pointer, field by field: never a copy of the whole table
        return (0..<api.pointee.tap_count(handle)).compactMap { api.pointee.tap_name(handle, $0).map { String(cString: $0) } }
    }

    /// Encoders: publishes `value` as tap `name`.
    public func emit(_ name: String, _ value: Value) {
        guard let handle, let node = value.node else { return }
        _ = graph.api.pointee.emit_tap(handle, name, node)
    }
}

/// A trainable parameter owned by the host.
public struct Param {
    public let handle: OpaquePointer
}

/// A host-owned state tensor (checkpointed); `values` may be read and written.
public struct State {
    public let handle: OpaquePointer
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>
    public var values: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
}
