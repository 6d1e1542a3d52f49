import CLossKitABI
import LossKitCore

extension Graph {
    /// The ABI's escape hatch: an op whose forward and backward are a plugin's C functions over
    /// raw float views. The backward adds into the gradients of the inputs that need one (NULL
    /// for the others); `losskit plugins check` verifies it against finite differences.
    func customOp(
        _ inputs: [Node], outShape: [Int], forward: lk_custom_forward,
        backward: lk_custom_backward?, user: UnsafeMutableRawPointer?
    ) throws -> Node {
        let shapes = inputs.map { cShape($0.shape) }
        let pointers: [UnsafePointer<Float>?] = inputs.map { UnsafePointer($0.value.data) }
        let out = Tensor(zeros: outShape)
        var err = lk_error()
        let status = pointers.withUnsafeBufferPointer { ptrs in
            shapes.withUnsafeBufferPointer { sh in
                forward(user, Int32(inputs.count), ptrs.baseAddress, sh.baseAddress, out.data, &err)
            }
        }
        guard status == LK_OK else { throw HostError("custom forward failed: \(readError(err))") }
        guard let backward else { return record(out, op: "custom", inputs: []) }
        return record(out, op: "custom", inputs: inputs) { node in
            let grads: [UnsafeMutablePointer<Float>?] = inputs.map { $0.requiresGrad ? $0.gradBuffer().data : nil }
            var berr = lk_error()
            let status = pointers.withUnsafeBufferPointer { ptrs in
                shapes.withUnsafeBufferPointer { sh in
                    grads.withUnsafeBufferPointer { gp in
                        backward(user, Int32(inputs.count), ptrs.baseAddress, sh.baseAddress, UnsafePointer(out.data),
                                 UnsafePointer(node.grad!.data), gp.baseAddress, &berr)
                    }
                }
            }
            if status != LK_OK {
                // backward has no error channel of its own: poison the gradients so the run's
                // non-finite check stops it and names the term
                for g in grads.compactMap({ $0 }) { g.pointee = .nan }
            }
        }
    }
}
