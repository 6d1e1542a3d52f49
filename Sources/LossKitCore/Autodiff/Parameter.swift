/// A trainable tensor with a stable name (its key in checkpoints) and a group (its optimiser
/// settings). `grad` has the value's shape and is zeroed by the optimiser after each step.
public final class Parameter {
    public let name: String
    public let group: String
    public let value: Tensor
    public let grad: Tensor
    /// Excluded from weight decay (biases and batch-norm scales, as is usual).
    public let noWeightDecay: Bool

    public init(name: String, group: String = "default", value: Tensor, noWeightDecay: Bool = false) {
        self.name = name
        self.group = group
        self.value = value
        self.grad = Tensor(zeros: value.shape)
        self.noWeightDecay = noWeightDecay
    }

    public var shape: [Int] { value.shape }
}

/// How a new parameter's values are drawn.
public enum Initializer: Equatable {
    case zeros
    case constant(Float)
    case uniform(low: Float, high: Float)
    case normal(std: Float)
    /// He/Kaiming normal for ReLU layers: std = sqrt(2 / fan_in).
    case kaimingNormal
    /// He/Kaiming uniform: bound = sqrt(6 / fan_in).
    case kaimingUniform
    /// Glorot/Xavier uniform: bound = sqrt(6 / (fan_in + fan_out)).
    case xavierUniform

    /// Fan-in and fan-out of a weight: `[out, in]` for linear, `[out, in, kh, kw]` for conv.
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        guard shape.count >= 2 else { return (max(shape.first ?? 1, 1), max(shape.first ?? 1, 1)) }
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    public func fill(_ t: Tensor, random: RandomGenerator) {
        let (fanIn, fanOut) = Initializer.fans(t.shape)
        switch self {
        case .zeros: t.fill(0)
        case .constant(let v): t.fill(v)
        case .uniform(let lo, let hi): random.fillUniform(t.data, t.count, low: lo, high: hi)
        case .normal(let std): random.fillNormal(t.data, t.count, std: std)
        case .kaimingNormal: random.fillNormal(t.data, t.count, std: (2 / Float(fanIn)).squareRoot())
        case .kaimingUniform:
            let b = (6 / Float(fanIn)).squareRoot()
            random.fillUniform(t.data, t.count, low: -b, high: b)
        case .xavierUniform:
            let b = (6 / Float(fanIn + fanOut)).squareRoot()
            random.fillUniform(t.data, t.count, low: -b, high: b)
        }
    }
}
