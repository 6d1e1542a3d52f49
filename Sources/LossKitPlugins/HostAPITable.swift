import CLossKitABI
import Foundation
import LossKitCore
import LossKitDistributed

/// The `lk_host_api` table: every function of losskit.h implemented over `LossKitCore`.
///
/// Graph functions share one shape (`graphOp`): turn handles into nodes, run the core op, and on
/// any failure record a sticky error on the graph and return NULL. Instance functions work on the
/// `InstanceContext` behind an `lk_context*`.
public enum HostAPITable {
    /// One table for the process; plugins keep the pointer for their lifetime.
    /// Allocated by size, not through the generic `allocate`: see `readPlugin` on why generic
    /// code must not size an ABI struct that has grown.
    public static let shared: UnsafeMutablePointer<lk_host_api> = {
        let p = malloc(MemoryLayout<lk_host_api>.size)!.assumingMemoryBound(to: lk_host_api.self)
        p.pointee = make()
        return p
    }()

    /// The table an ABI 1.0 host hands out: this host's functions up to `encode`, struct_size and
    /// abi_minor of 1.0, and nothing allocated past its end. For tests that a plugin built
    /// against a newer losskit.h falls back on an older host instead of reading past the table.
    public static let abi10 = olderTable(minor: 0, endingBefore: \.batch_norm_relu)
    /// The table an ABI 1.1 host hands out: up to `batch_norm_relu`, as `abi10`.
    public static let abi11 = olderTable(minor: 1, endingBefore: \.mean_squared_error)

    private static func olderTable<F>(minor: UInt16, endingBefore firstMissing: KeyPath<lk_host_api, F>) -> UnsafePointer<lk_host_api> {
        let size = MemoryLayout<lk_host_api>.offset(of: firstMissing)!
        let raw = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: MemoryLayout<lk_host_api>.alignment)
        raw.copyMemory(from: UnsafeRawPointer(shared), byteCount: size)
        let table = raw.assumingMemoryBound(to: lk_host_api.self)
        table.pointee.struct_size = UInt32(size)
        table.pointee.abi_minor = minor
        return UnsafePointer(table)
    }

    static func make() -> lk_host_api {
        var api = lk_host_api()
        memset(&api, 0, MemoryLayout<lk_host_api>.size)
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
            let c = object(ctx, as: InstanceContext.self)
            guard !c.buildingGraph else { return fail(err, "set_group_optimizer may not be called in loss or encode (call it in prepare)") }
            c.setGroupOptimizer(string(group) ?? "default", settingsValue)
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

        api.rank = { ctx in ctx.map { Int32(object($0, as: InstanceContext.self).communicator.rank) } ?? 0 }
        api.world_size = { ctx in ctx.map { Int32(object($0, as: InstanceContext.self).communicator.size) } ?? 1 }
        api.all_reduce_sum = { ctx, data, n, err in
            guard let ctx else { return fail(err, "all_reduce_sum: no context") }
            guard n >= 0, n == 0 || data != nil else { return fail(err, "all_reduce_sum: \(n) values at \(data == nil ? "NULL" : "a pointer")") }
            do {
                if let data, n > 0 { try object(ctx, as: InstanceContext.self).communicator.allReduceSum(data, count: Int(n)) }
                return LK_OK
            } catch { return fail(err, "all_reduce_sum: \(error)") }
        }
        api.all_gather = { ctx, data, bytes, out, err in
            guard let ctx else { return fail(err, "all_gather: no context") }
            guard bytes >= 0, bytes == 0 || (data != nil && out != nil) else { return fail(err, "all_gather: \(bytes) bytes with a NULL buffer") }
            do {
                if let data, let out, bytes > 0 { try object(ctx, as: InstanceContext.self).communicator.allGather(data, bytes: Int(bytes), into: out) }
                return LK_OK
            } catch { return fail(err, "all_gather: \(error)") }
        }

        installGraphOperations(&api)
        installTaps(&api)
        return api
    }
}
