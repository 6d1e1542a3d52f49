import CLossKitABI
import Foundation
import LossKitCore

/// The graph half of `lk_host_api`: leaves, arithmetic, layers, rows, reductions, structure and
/// custom ops — each one line over the core op, through `graphOp`'s sticky-error wrapper.
extension HostAPITable {
    static func installGraphOperations(_ api: inout lk_host_api) {
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
            HostAPITable.batchNorm(g, x, gamma, beta, rm, rv, momentum, eps, relu: false)
        }
        api.batch_norm_relu = { g, x, gamma, beta, rm, rv, momentum, eps in
            HostAPITable.batchNorm(g, x, gamma, beta, rm, rv, momentum, eps, relu: true)
        }
        api.dropout = { g, x, p in graphOp(g, "dropout", [x]) { try $0.graph.dropout($1[0], p: p) } }
        api.mean_squared_error = { g, a, b in graphOp(g, "mean_squared_error", [a, b]) { try $0.graph.meanSquaredError($1[0], $1[1]) } }

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
        api.homography_warp = { g, x, h, fill in
            graphOp(g, "homography_warp", [x]) { pg, n in
                guard let h else { throw HostError("NULL h") }
                let count = (n[0].shape.first ?? 0) * 9
                return try pg.graph.homographyWarp(n[0], h: Array(UnsafeBufferPointer(start: h, count: count)), fill: fill)
            }
        }
        api.custom_op = { g, xs, n, dims, rank, forward, backward, user in
            let inputs: [OpaquePointer?] = xs.map { p in (0..<Int(max(n, 0))).map { p[$0] } } ?? []
            return graphOp(g, "custom_op", inputs) { pg, nodes in
                guard let forward else { throw HostError("custom_op needs a forward function") }
                return try pg.graph.customOp(nodes, outShape: try shape(dims, rank), forward: forward, backward: backward, user: user)
            }
        }

    }

    /// Taps and encode-again.
    static func installTaps(_ api: inout lk_host_api) {
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
        api.encode_again = api.encode
    }

    /// `batch_norm` and (since ABI 1.1) `batch_norm_relu`. Inside an encode-again pass in training
    /// the running statistics are left alone (losskit.h, `encode`).
    fileprivate static func batchNorm(
        _ g: OpaquePointer?, _ x: OpaquePointer?, _ gamma: OpaquePointer?, _ beta: OpaquePointer?, _ rm: OpaquePointer?,
        _ rv: OpaquePointer?, _ momentum: Float, _ eps: Float, relu: Bool
    ) -> OpaquePointer? {
        graphOp(g, relu ? "batch_norm_relu" : "batch_norm", [x, gamma, beta]) { pg, n in
            var stats: BatchNormStatistics?
            if let rm, let rv, !(pg.encodeAgainDepth > 0 && pg.graph.training) {
                stats = BatchNormStatistics(mean: object(rm, as: StateTensor.self).value, variance: object(rv, as: StateTensor.self).value)
            }
            return try pg.graph.batchNorm(n[0], gamma: n[1], beta: n[2], running: stats, momentum: momentum, eps: eps, relu: relu)
        }
    }
}
