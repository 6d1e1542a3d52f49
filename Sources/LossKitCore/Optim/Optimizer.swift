import Foundation

/// Settings of one parameter group's optimiser.
public struct OptimizerSettings: Equatable, Codable {
    public enum Kind: String, Codable { case sgd, adam }
    public var kind: Kind
    public var learningRate: Float
    public var weightDecay: Float
    /// SGD: momentum μ and Nesterov; Adam: β1 (in `momentum`), β2, ε.
    public var momentum: Float
    public var nesterov: Bool
    public var beta2: Float
    public var epsilon: Float

    public static func sgd(lr: Float, momentum: Float = 0.9, nesterov: Bool = true, weightDecay: Float = 0) -> Self {
        Self(kind: .sgd, learningRate: lr, weightDecay: weightDecay, momentum: momentum, nesterov: nesterov, beta2: 0, epsilon: 0)
    }

    public static func adam(lr: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) -> Self {
        Self(kind: .adam, learningRate: lr, weightDecay: weightDecay, momentum: beta1, nesterov: false, beta2: beta2, epsilon: epsilon)
    }
}

/// Updates parameters from their gradients, each group with its own settings, then zeroes the
/// gradients. The schedule multiplies every group's learning rate by one factor per step.
///
/// SGD (PyTorch's form): g ← ∇ + λw;  v ← μv + g;  w ← w - lr·(g + μv) with Nesterov, else w - lr·v.
/// Adam: g ← ∇ + λw;  m ← β1·m + (1-β1)·g;  s ← β2·s + (1-β2)·g²;
///       w ← w - lr·(m / (1-β1ᵗ)) / (√(s / (1-β2ᵗ)) + ε).
public final class Optimizer {
    public let parameters: [Parameter]
    public private(set) var settings: [String: OptimizerSettings]
    public let defaultSettings: OptimizerSettings
    /// Momentum / first-moment and second-moment buffers by parameter name (checkpointed).
    public private(set) var firstMoment: [String: Tensor] = [:]
    public private(set) var secondMoment: [String: Tensor] = [:]
    /// Steps taken per group (Adam's bias correction).
    public var stepsTaken: [String: Int] = [:]

    public init(parameters: [Parameter], defaultSettings: OptimizerSettings, groupSettings: [String: OptimizerSettings] = [:]) {
        self.parameters = parameters
        self.defaultSettings = defaultSettings
        self.settings = groupSettings
        for p in parameters {
            firstMoment[p.name] = Tensor(zeros: p.shape)
            if self.settings(for: p.group).kind == .adam { secondMoment[p.name] = Tensor(zeros: p.shape) }
        }
    }

    public func settings(for group: String) -> OptimizerSettings { settings[group] ?? defaultSettings }

    /// One update of every parameter except those named in `frozen`, which keep their values and
    /// moments (as PyTorch's optimisers skip parameters without a gradient: a loss term switched
    /// off by its schedule must not move its plugin's parameters through decay or momentum).
    /// A group counts a step (Adam's bias correction) only when one of its parameters moved.
    public func step(learningRateFactor: Float = 1, frozen: Set<String> = []) {
        var counted = Set<String>()
        for p in parameters {
            if frozen.contains(p.name) {
                p.grad.zero()
                continue
            }
            let s = settings(for: p.group)
            if !counted.contains(p.group) {
                stepsTaken[p.group, default: 0] += 1
                counted.insert(p.group)
            }
            let lr = s.learningRate * learningRateFactor
            let wd = p.noWeightDecay ? 0 : s.weightDecay
            let n = p.value.count
            let w = p.value.data, g = p.grad.data, m = firstMoment[p.name]!.data
            // the updates run in the kernel build for this CPU (LossKitKernels/OptimizerUpdates.swift)
            switch s.kind {
            case .sgd:
                kernels.sgdUpdate(w, g, m, n, lr: lr, weightDecay: wd, momentum: s.momentum, nesterov: s.nesterov)
            case .adam:
                let t = Float(stepsTaken[p.group]!)
                let b1 = s.momentum, b2 = s.beta2
                let c1 = 1 - Foundation.pow(b1, t), c2 = 1 - Foundation.pow(b2, t)
                kernels.adamUpdate(w, g, m, secondMoment[p.name]!.data, n, lr: lr, weightDecay: wd,
                                   beta1: b1, beta2: b2, c1: c1, c2: c2, epsilon: s.epsilon)
            }
            p.grad.zero()
        }
    }

    public func zeroGrad() { parameters.forEach { $0.grad.zero() } }
}

/// Learning-rate factor by step: constant, step decay, or cosine decay to 0 after a linear
/// warm-up.
public enum LearningRateSchedule: Equatable, Codable {
    case constant
    case step(every: Int, gamma: Float)
    case cosine(warmupSteps: Int, totalSteps: Int)

    /// The factor applied at 0-based `step`.
    public func factor(at step: Int) -> Float {
        switch self {
        case .constant: return 1
        case .step(let every, let gamma): return Foundation.pow(gamma, Float(step / max(every, 1)))
        case .cosine(let warmup, let total):
            if step < warmup { return Float(step + 1) / Float(warmup) }
            let span = max(total - warmup, 1)
            let t = min(Float(step - warmup) / Float(span), 1)
            return 0.5 * (1 + Foundation.cos(Float.pi * t))
        }
    }
}
