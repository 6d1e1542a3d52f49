import CLossKitABI
import Foundation
import LossKitCore

/// The `lk_host_api` table: every function of losskit.h implemented over `LossKitCore`.
///
/// Graph functions share one shape (`graphOp`): turn handles into nodes, run the core op, and on
/// any failure record a sticky error on the graph and return NULL. Instance functions work on the
/// `InstanceContext` behind an `lk_context*`.
public enum HostAPITable {
    /// One table for the process; plugins keep the pointer for their lifetime.
    public static let shared: UnsafeMutablePointer<lk_host_api> = {
        let p = UnsafeMutablePointer<lk_host_api>.allocate(capacity: 1)
        p.initialize(to: make())
        return p
    }()

    static func make() -> lk_host_api {
        var api = lk_host_api()
        api.struct_size = UInt32(MemoryLayout<lk_host_api>.size)
        api.abi_major = UInt16(LOSSKIT_ABI_MAJOR)
        api.abi_minor = UInt16(LOSSKIT_ABI_MINOR)

        // Instance services
        api.param_create = { ctx, name, group, dims, rank, initKind, arg in
            createParam(ctx, name, group, dims, rank, initKind, arg, noDecay: false)
        }
        api.param_create_no_decay = { ctx, name, group, dims, rank, initKind, arg in
            createParam(ctx, name, group, dims, rank, initKind, arg, noDecay: true)
        }
        api.set_group_optimizer = { ctx, group, settings, err in
            guard let ctx, let settings else { return fail(err, "set_group_optimizer: NULL argument") }
            let s = settings.pointee
            let lr = s.learning_rate, kind = s.kind
            guard lr.isFinite, lr >= 0 else { return fail(err, "learning rate must be a finite number ≥ 0, got \(lr)") }
            let settingsValue: OptimizerSettings
            switch kind {
            case LK_OPTIMIZER_SGD:
                settingsValue = .sgd(lr: lr, momentum: s.momentum, nesterov: s.nesterov != 0, weightDecay: s.weight_decay)
            case LK_OPTIMIZER_ADAM:
                settingsValue = .adam(lr: lr, beta1: s.momentum, beta2: s.beta2, epsilon: s.epsilon > 0 ? s.epsilon : 1e-8, weightDecay: s.weight_decay)
            default:
                return fail(err, "unknown optimiser kind \(kind) (LK_OPTIMIZER_SGD = 1, LK_OPTIMIZER_ADAM = 2)")
            }
            object(ctx, as: InstanceContext.self).setGroupOptimizer(string(group) ?? "default", settingsValue)
            return LK_OK
        }
        api.state_create = { ctx, name, dims, rank, fill in
            guard let ctx, let name else { return nil }
            let c = object(ctx, as: InstanceContext.self)
            do {
                return handle(try c.createState(name: String(cString: name), shape: shape(dims, rank), fill: fill))
            } catch {
                c.log(LK_LOG_WARNING, "\(error)")
                return nil
            }
        }
        api.state_data = { s in s.map { object($0, as: StateTensor.self).value.data } }
        api.tap_shape = { ctx, name in
            guard let ctx, let name else { return lk_shape() }
            return cShape(object(ctx, as: InstanceContext.self).tapShapes[String(cString: name)] ?? [])
        }
        api.log_message = { ctx, level, message in
            guard let ctx, let message else { return }
            object(ctx, as: InstanceContext.self).log(level, String(cString: message))
        }
        api.random_u64 = { ctx in ctx.map { object($0, as: InstanceContext.self).random.next() } ?? 0 }
        api.random_uniform = { ctx, out, n, low, high in
            guard let ctx, let out, n > 0 else { return }
            object(ctx, as: InstanceContext.self).random.fillUniform(out, Int(n), low: low, high: high)
        }
        api.random_normal = { ctx, out, n, mean, std in
            guard let ctx, let out, n > 0 else { return }
            object(ctx, as: InstanceContext.self).random.fillNormal(out, Int(n), mean: mean, std: std)
        }
        api.report_image = { ctx, name, data, n, c, h, w, lo, hi in
            guard let ctx, let name, let data, n > 0, c > 0, h > 0, w > 0 else { return LK_ERROR }
            let count = Int(n) * Int(c) * Int(h) * Int(w)
            object(ctx, as: InstanceContext.self).addReportImage(ReportImage(
                name: String(cString: name), values: Array(UnsafeBufferPointer(start: data, count: count)),
                count: Int(n), channels: Int(c), height: Int(h), width: Int(w), low: lo, high: hi))
            return LK_OK
        }

        // Leaves and inspection
        api.param = { g, p in
            graphOp(g, "param", []) { pg, _ in
                guard let p else { throw HostError("NULL parameter") }
                return pg.read(object(p, as: Parameter.self))
            }
        }
        api.frozen = { g, p in
            graphOp(g, "frozen", []) { pg, _ in
                guard let p else { throw HostError("NULL parameter") }
                return pg.graph.frozen(object(p, as: Parameter.self))
            }
        }
        api.constant = { g, data, dims, rank in
            graphOp(g, "constant", []) { pg, _ in
                let s = try shape(dims, rank)
                let t = Tensor(uninitialized: s)
                if t.count > 0 {
                    guard let data else { throw HostError("NULL data for a \(shapeText(s)) constant") }
                    t.data.update(from: data, count: t.count)
                }
                return pg.graph.constant(t)
            }
        }
        api.state = { g, s in
            graphOp(g, "state", []) { pg, _ in
                guard let s else { throw HostError("NULL state") }
                return pg.graph.constant(object(s, as: StateTensor.self).value)
            }
        }
        api.detach = { g, x in graphOp(g, "detach", [x]) { pg, n in pg.graph.detach(n[0]) } }
        api.shape = { x in x.map { cShape(object($0, as: Node.self).shape) } ?? lk_shape() }
        api.data = { x in x.map { UnsafePointer(object($0, as: Node.self).value.data) } }
        api.is_training = { g in g.map { object($0, as: PluginGraph.self).graph.training ? 1 : 0 } ?? 0 }
        api.fail = { g, message in
            guard let g else { return }
            object(g, as: PluginGraph.self).fail(string(message) ?? "unspecified plugin error")
        }

        // Arithmetic
        api.add = { g, a, b in graphOp(g, "add", [a, b]) { try $0.graph.add($1[0], $1[1]) } }
        api.sub = { g, a, b in graphOp(g, "sub", [a, b]) { try $0.graph.sub($1[0], $1[1]) } }
        api.mul = { g, a, b in graphOp(g, "mul", [a, b]) { try $0.graph.mul($1[0], $1[1]) } }
        api.div = { g, a, b in graphOp(g, "div", [a, b]) { try $0.graph.div($1[0], $1[1]) } }
        api.scale = { g, x, s in graphOp(g, "scale", [x]) { $0.graph.scale($1[0], s) } }
        api.add_scalar = { g, x, c in graphOp(g, "add_scalar", [x]) { $0.graph.addScalar($1[0], c) } }

        // Point-wise
        api.relu = { g, x in graphOp(g, "relu", [x]) { $0.graph.relu($1[0]) } }
        api.leaky_relu = { g, x, s in graphOp(g, "leaky_relu", [x]) { $0.graph.leakyRelu($1[0], slope: s) } }
        api.tanh = { g, x in graphOp(g, "tanh", [x]) { $0.graph.tanh($1[0]) } }
        api.sigmoid = { g, x in graphOp(g, "sigmoid", [x]) { $0.graph.sigmoid($1[0]) } }
        api.softplus = { g, x in graphOp(g, "softplus", [x]) { $0.graph.softplus($1[0]) } }
        api.exp = { g, x in graphOp(g, "exp", [x]) { $0.graph.exp($1[0]) } }
        api.log = { g, x in graphOp(g, "log", [x]) { $0.graph.log($1[0]) } }
        api.sqrt = { g, x in graphOp(g, "sqrt", [x]) { $0.graph.sqrt($1[0]) } }
        api.square = { g, x in graphOp(g, "square", [x]) { $0.graph.square($1[0]) } }

        // Layers
        api.linear = { g, x, w, b in
            graphOp(g, "linear", b == nil ? [x, w] : [x, w, b]) { try $0.graph.linear($1[0], weight: $1[1], bias: $1.count > 2 ? $1[2] : nil) }
        }
        api.matmul = { g, a, b, ta, tb in
            graphOp(g, "matmul", [a, b]) { try $0.graph.matmul($1[0], $1[1], transposeA: ta != 0, transposeB: tb != 0) }
        }
        api.batched_matmul = { g, a, b, ta, tb in
            graphOp(g, "batched_matmul", [a, b]) { try $0.graph.batchedMatmul($1[0], $1[1], transposeA: ta != 0, transposeB: tb != 0) }
        }
        api.conv2d = { g, x, w, b, stride, padding in
            graphOp(g, "conv2d", b == nil ? [x, w] : [x, w, b]) {
                try $0.graph.conv2d($1[0], weight: $1[1], bias: $1.count > 2 ? $1[2] : nil, stride: Int(stride), padding: Int(padding))
            }
        }
        api.max_pool = { g, x, k, s in graphOp(g, "max_pool", [x]) { try $0.graph.maxPool2d($1[0], kernel: Int(k), stride: Int(s)) } }
        api.max_unpool = { g, x, pooled in graphOp(g, "max_unpool", [x, pooled]) { try $0.graph.maxUnpool2d($1[0], switchesOf: $1[1]) } }
        api.avg_pool = { g, x, k, s in graphOp(g, "avg_pool", [x]) { try $0.graph.avgPool2d($1[0], kernel: Int(k), stride: Int(s)) } }
        api.global_avg_pool = { g, x in graphOp(g, "global_avg_pool", [x]) { try $0.graph.globalAvgPool($1[0]) } }
        api.upsample_nearest = { g, x, f in graphOp(g, "upsample_nearest", [x]) { try $0.graph.upsampleNearest($1[0], factor: Int(f)) } }
        api.batch_norm = { g, x, gamma, beta, rm, rv, momentum, eps in
            graphOp(g, "batch_norm", [x, gamma, beta]) { pg, n in
                var stats: BatchNormStatistics?
                if let rm, let rv, !(pg.encodeAgainDepth > 0 && pg.graph.training) {
                    stats = BatchNormStatistics(mean: object(rm, as: StateTensor.self).value, variance: object(rv, as: StateTensor.self).value)
                }
                return try pg.graph.batchNorm(n[0], gamma: n[1], beta: n[2], running: stats, momentum: momentum, eps: eps)
            }
        }
        api.dropout = { g, x, p in graphOp(g, "dropout", [x]) { try $0.graph.dropout($1[0], p: p) } }

        // Rows
        api.log_softmax = { g, x in graphOp(g, "log_softmax", [x]) { try $0.graph.logSoftmax($1[0]) } }
        api.logsumexp = { g, x in graphOp(g, "logsumexp", [x]) { try $0.graph.logSumExp($1[0]) } }
        api.cross_entropy = { g, logits, labels, mask in
            graphOp(g, "cross_entropy", [logits]) { pg, n in
                let rows = n[0].shape.first ?? 0
                guard let labels else { throw HostError("NULL labels") }
                let l = Array(UnsafeBufferPointer(start: labels, count: rows))
                let m = mask.map { p in (0..<rows).map { p[$0] != 0 } }
                return try pg.graph.softmaxCrossEntropy(n[0], labels: l, mask: m)
            }
        }
        api.l2_normalize = { g, x in graphOp(g, "l2_normalize", [x]) { try $0.graph.l2Normalize($1[0]) } }

        // Reductions and structure
        api.sum = { g, x, axes, n, keep in
            graphOp(g, "sum", [x]) { try $0.graph.sum($1[0], axes: axisList(axes, n), keepDims: keep != 0) }
        }
        api.mean = { g, x, axes, n, keep in
            graphOp(g, "mean", [x]) { try $0.graph.mean($1[0], axes: axisList(axes, n), keepDims: keep != 0) }
        }
        api.reshape = { g, x, dims, rank in
            graphOp(g, "reshape", [x]) { pg, n in
                guard let dims, rank >= 0, rank <= LK_MAX_RANK else { throw HostError("invalid target shape") }
                return try pg.graph.reshape(n[0], (0..<Int(rank)).map { Int(dims[$0]) })
            }
        }
        api.slice = { g, x, axis, start, end in
            graphOp(g, "slice", [x]) { try $0.graph.slice($1[0], axis: Int(axis), start: Int(start), end: Int(end)) }
        }
        api.concat = { g, xs, n, axis in
            let inputs: [OpaquePointer?] = xs.map { p in (0..<Int(max(n, 0))).map { p[$0] } } ?? []
            return graphOp(g, "concat", inputs) { try $0.graph.concat($1, axis: Int(axis)) }
        }
        api.permute = { g, x, order, rank in
            graphOp(g, "permute", [x]) { pg, n in
                guard let order else { throw HostError("NULL order") }
                return try pg.graph.permute(n[0], (0..<Int(rank)).map { Int(order[$0]) })
            }
        }
        api.gather_rows = { g, x, idx, n in
            graphOp(g, "gather_rows", [x]) { pg, nodes in
                try pg.graph.gatherRows(nodes[0], try indexList(idx, n))
            }
        }
        api.scatter_rows = { g, x, idx, n, rows in
            graphOp(g, "scatter_rows", [x]) { pg, nodes in
                try pg.graph.scatterRows(nodes[0], try indexList(idx, n), rows: Int(rows))
            }
        }
        api.affine_warp = { g, x, theta, fill in
            graphOp(g, "affine_warp", [x]) { pg, n in
                guard let theta else { throw HostError("NULL theta") }
                let count = (n[0].shape.first ?? 0) * 6
                return try pg.graph.affineWarp(n[0], theta: Array(UnsafeBufferPointer(start: theta, count: count)), fill: fill)
            }
        }
        api.custom_op = { g, xs, n, dims, rank, forward, backward, user in
            let inputs: [OpaquePointer?] = xs.map { p in (0..<Int(max(n, 0))).map { p[$0] } } ?? []
            return graphOp(g, "custom_op", inputs) { pg, nodes in
                guard let forward else { throw HostError("custom_op needs a forward function") }
                return try pg.graph.customOp(nodes, outShape: try shape(dims, rank), forward: forward, backward: backward, user: user)
            }
        }

        // Taps
        api.tap = { taps, name in
            guard let taps, let name else { return nil }
            let t = object(taps, as: TapSetHandle.self)
            let key = String(cString: name)
            if let node = t.taps[key] { return handle(node) }
            t.graph.fail("the encoder offers no tap '\(key)' (taps: \(t.taps.names.joined(separator: ", ")))")
            return nil
        }
        api.tap_count = { taps in taps.map { Int32(object($0, as: TapSetHandle.self).taps.names.count) } ?? 0 }
        api.tap_name = { taps, i in taps.flatMap { object($0, as: TapSetHandle.self).taps.cName(Int(i)) } }
        api.emit_tap = { taps, name, node in
            guard let taps, let name, let node else { return LK_ERROR }
            object(taps, as: TapSetHandle.self).taps.emit(String(cString: name), object(node, as: Node.self))
            return LK_OK
        }
        api.encode = { g, images, frozen in
            guard let g, let images else { return nil }
            let pg = object(g, as: PluginGraph.self)
            guard pg.error == nil else { return nil }
            do {
                let taps = try pg.encodeAgain(object(images, as: Node.self), frozen: frozen != 0)
                let h = TapSetHandle(taps: taps, graph: pg)
                pg.retain(h)
                return handle(h)
            } catch {
                pg.fail("encode: \(error)")
                return nil
            }
        }
        return api
    }
}

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
private func graphOp(_ g: OpaquePointer?, _ name: String, _ inputs: [OpaquePointer?], _ body: (PluginGraph, [Node]) throws -> Node) -> OpaquePointer? {
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

private func createParam(
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

private func fail(_ err: UnsafeMutablePointer<lk_error>?, _ message: String) -> lk_status {
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

private func string(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }

private func shape(_ dims: UnsafePointer<Int64>?, _ rank: Int32) throws -> [Int] {
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

private func axisList(_ axes: UnsafePointer<Int32>?, _ n: Int32) -> [Int]? {
    guard let axes else { return nil }
    return (0..<Int(max(n, 0))).map { Int(axes[$0]) }
}

private func indexList(_ idx: UnsafePointer<Int64>?, _ n: Int64) throws -> [Int32] {
    guard n >= 0 else { throw HostError("negative index count \(n)") }
    guard n == 0 || idx != nil else { throw HostError("NULL indices") }
    return (0..<Int(n)).map { i in
        let v = idx![i]
        return v < Int64(Int32.min) || v > Int64(Int32.max) ? -1 : Int32(v)
    }
}
