import CLossKitABI
import Foundation
import LossKitCore

/// What an `lk_taps*` points at: the taps and the graph whose sticky error a missing tap sets.
final class TapSetHandle {
    let taps: TapSet
    unowned let graph: PluginGraph
    init(taps: TapSet, graph: PluginGraph) {
        self.taps = taps
        self.graph = graph
    }
}

// MARK: - Helpers shared by the table's functions

@inline(__always)
func graphOp(_ g: OpaquePointer?, _ name: String, _ inputs: [OpaquePointer?], _ body: (PluginGraph, [Node]) throws -> Node) -> OpaquePointer? {
    guard let g else { return nil }
    let pg = object(g, as: PluginGraph.self)
    if pg.error != nil { return nil }
    var nodes: [Node] = []
    nodes.reserveCapacity(inputs.count)
    for (i, p) in inputs.enumerated() {
        guard let p else {
            pg.fail("\(name): input \(i + 1) is NULL")
            return nil
        }
        nodes.append(object(p, as: Node.self))
    }
    do {
        return handle(try body(pg, nodes))
    } catch {
        pg.fail("\(name): \(error)")
        return nil
    }
}

func createParam(
    _ ctx: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ group: UnsafePointer<CChar>?,
    _ dims: UnsafePointer<Int64>?, _ rank: Int32, _ initKind: Int32, _ arg: Float, noDecay: Bool
) -> OpaquePointer? {
    guard let ctx, let name else { return nil }
    let c = object(ctx, as: InstanceContext.self)
    do {
        let initializer: Initializer
        switch initKind {
        case LK_INIT_ZEROS: initializer = .zeros
        case LK_INIT_CONSTANT: initializer = .constant(arg)
        case LK_INIT_UNIFORM: initializer = .uniform(low: -arg, high: arg)
        case LK_INIT_NORMAL: initializer = .normal(std: arg)
        case LK_INIT_KAIMING_NORMAL: initializer = .kaimingNormal
        case LK_INIT_KAIMING_UNIFORM: initializer = .kaimingUniform
        case LK_INIT_XAVIER_UNIFORM: initializer = .xavierUniform
        default: throw HostError("unknown initialiser \(initKind)")
        }
        let p = try c.createParameter(
            name: String(cString: name), group: string(group) ?? "default", shape: try shape(dims, rank),
            initializer: initializer, noDecay: noDecay)
        return handle(p)
    } catch {
        c.log(LK_LOG_WARNING, "param_create: \(error)")
        return nil
    }
}

func fail(_ err: UnsafeMutablePointer<lk_error>?, _ message: String) -> lk_status {
    writeError(err, message)
    return LK_ERROR
}

func writeError(_ err: UnsafeMutablePointer<lk_error>?, _ message: String) {
    guard let err else { return }
    withUnsafeMutableBytes(of: &err.pointee.message) { raw in
        let bytes = Array(message.utf8.prefix(raw.count - 1))
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
}

func readError(_ err: lk_error) -> String {
    var copy = err
    return withUnsafeBytes(of: &copy.message) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}

func string(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }

func shape(_ dims: UnsafePointer<Int64>?, _ rank: Int32) throws -> [Int] {
    guard rank >= 0, rank <= LK_MAX_RANK else { throw HostError("rank \(rank) is outside 0...\(LK_MAX_RANK)") }
    if rank == 0 { return [] }
    guard let dims else { throw HostError("NULL dims for rank \(rank)") }
    let s = (0..<Int(rank)).map { Int(dims[$0]) }
    guard s.allSatisfy({ $0 >= 0 }) else { throw HostError("negative dimension in \(s)") }
    return s
}

func cShape(_ s: [Int]) -> lk_shape {
    var out = lk_shape()
    out.rank = Int32(min(s.count, Int(LK_MAX_RANK)))
    withUnsafeMutableBytes(of: &out.dims) { raw in
        let p = raw.bindMemory(to: Int64.self)
        for (i, d) in s.prefix(Int(LK_MAX_RANK)).enumerated() { p[i] = Int64(d) }
    }
    return out
}

func swiftShape(_ s: lk_shape) -> [Int] {
    var copy = s
    return withUnsafeBytes(of: &copy.dims) { raw in
        let p = raw.bindMemory(to: Int64.self)
        return (0..<Int(max(0, min(s.rank, LK_MAX_RANK)))).map { Int(p[$0]) }
    }
}

func axisList(_ axes: UnsafePointer<Int32>?, _ n: Int32) -> [Int]? {
    guard let axes else { return nil }
    return (0..<Int(max(n, 0))).map { Int(axes[$0]) }
}

func indexList(_ idx: UnsafePointer<Int64>?, _ n: Int64) throws -> [Int32] {
    guard n >= 0 else { throw HostError("negative index count \(n)") }
    guard n == 0 || idx != nil else { throw HostError("NULL indices") }
    return (0..<Int(n)).map { i in
        let v = idx![i]
        return v < Int64(Int32.min) || v > Int64(Int32.max) ? -1 : Int32(v)
    }
}
