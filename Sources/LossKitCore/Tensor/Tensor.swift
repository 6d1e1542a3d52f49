/// A dense f32 tensor in row-major (NCHW for images) layout.
///
/// `Tensor` is a value holding a shape and a reference to its `TensorStorage`: reshaping makes a
/// new `Tensor` over the same storage, so views cost nothing. Writes through `data` are seen by
/// every view — the engine relies on that for parameters, whose graph nodes share the
/// parameter's storage instead of copying it each step.
///
///     let x = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
///     let y = try x.reshaped([3, 2])   // same storage
public struct Tensor: CustomStringConvertible {
    public let shape: [Int]
    public let storage: TensorStorage

    /// Number of elements: the product of `shape` (1 for a scalar, shape `[]`).
    public var count: Int { shape.reduce(1, *) }
    /// The first element's address; `count` contiguous floats follow.
    public var data: UnsafeMutablePointer<Float> { storage.pointer }
    public var rank: Int { shape.count }

    /// A zero-filled tensor.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.storage = TensorStorage(count: shape.reduce(1, *), zeroed: true)
    }

    /// A tensor whose contents the caller will overwrite entirely (no zero fill).
    public init(uninitialized shape: [Int]) {
        self.shape = shape
        self.storage = TensorStorage(count: shape.reduce(1, *), zeroed: false)
    }

    public init(shape: [Int], repeating value: Float) {
        self.init(uninitialized: shape)
        data.update(repeating: value, count: count)
    }

    /// Copies `values`; traps if their number disagrees with `shape` (a programming error).
    public init(shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *), "Tensor(shape: \(shape)) given \(values.count) values")
        self.init(uninitialized: shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
    }

    public init(scalar: Float) { self.init(shape: [], values: [scalar]) }

    /// Wraps existing storage with a shape of the same element count.
    public init(shape: [Int], storage: TensorStorage) {
        precondition(shape.reduce(1, *) <= storage.count, "shape \(shape) exceeds storage of \(storage.count)")
        self.shape = shape
        self.storage = storage
    }

    /// The same storage seen with another shape of the same element count.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard newShape.reduce(1, *) == count else {
            throw ShapeError("cannot reshape \(shapeText(shape)) (\(count) elements) to \(shapeText(newShape))")
        }
        return Tensor(shape: newShape, storage: storage)
    }

    /// A deep copy with its own storage.
    public func copy() -> Tensor {
        let t = Tensor(uninitialized: shape)
        t.data.update(from: data, count: count)
        return t
    }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: data, count: count) }
    public var array: [Float] { Array(buffer) }
    public subscript(i: Int) -> Float {
        get { data[i] }
        nonmutating set { data[i] = newValue }
    }
    /// The single value of a one-element tensor.
    public var scalar: Float { precondition(count == 1); return data[0] }

    public func fill(_ value: Float) { data.update(repeating: value, count: count) }
    public func zero() { fill(0) }

    public var description: String {
        let shown = array.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor\(shapeText(shape))[\(shown)\(count > 8 ? ", …" : "")]"
    }
}

/// Owns the float memory of one or more `Tensor` views. Memory comes from, and returns to,
/// `BufferPool`, so a training loop that allocates the same shapes every step stops calling
/// malloc after its first step.
public final class TensorStorage {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int, zeroed: Bool) {
        self.count = count
        self.pointer = BufferPool.shared.take(count)
        if zeroed { pointer.update(repeating: 0, count: count) }
    }

    deinit { BufferPool.shared.give(pointer, count) }
}

/// A wrong shape reaching an op: the message names the op and both shapes.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// `[128, 1, 28, 28]` reads as `[128×1×28×28]` in messages.
public func shapeText(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: "×") + "]"
}
