import Foundation

/// Compares a graph's analytic gradients with central finite differences.
///
/// `build` makes a scalar loss from leaf nodes it creates with `graph.variable(inputs[i])` (and
/// parameters it reads with `graph.param`). Each input element is nudged by ±h, the loss is
/// recomputed, and (L(x+h) - L(x-h)) / 2h is compared with the backward pass's value. An
/// element passes when |analytic - numeric| ≤ atol + rtol·max(|analytic|, |numeric|).
public struct GradientCheck {
    public var step: Float = 1e-2
    public var rtol: Float = 2e-2
    public var atol: Float = 2e-3
    /// Elements checked per tensor, spread evenly; all of them when the tensor is smaller.
    public var maxElementsPerTensor = 64
    /// Whether the graphs are built in training mode (batch statistics, dropout on).
    public var training = true
    /// For piecewise-smooth functions (ReLU, max-pool): an element whose central difference
    /// disagrees still passes when the analytic value lies between the one-sided differences
    /// (L(x+h) - L(x))/h and (L(x) - L(x-h))/h, as a subgradient at a kink inside [x-h, x+h]
    /// does. Counted in `Report.kinks`. Smooth ops are checked with this off.
    public var allowKinks = false
    /// With `allowKinks`, points at which the analytic derivative is sampled across [x−h, x+h]
    /// (midpoints) for an element that neither criterion accepts: a deep ReLU network has kinks
    /// every ~1e-4 along some coordinates (a first batch-norm scale moves thousands of units), so
    /// the step crosses several and the one-sided differences bracket nothing; but the function is
    /// continuous and its derivative exact between kinks, so (L(x+h) − L(x−h))/2h is the mean of
    /// the analytic derivative over the interval, which a wrong gradient misses everywhere.
    /// Counted in `Report.acrossKinks`. 0 turns it off.
    public var intervalSamples = 32
    /// Sets `Graph.stopGradients` on the graphs it builds (see there).
    public var stopGradients = true
    /// Steps to retry an element with when `step` disagrees: f32 rounding dominates a too small
    /// step and kinks a too large one, and deep ReLU networks have both within a decade. A wrong
    /// gradient disagrees at every step.
    public var retrySteps: [Float] = []
    /// An element accepted at more than this share of its tolerance is tried at the remaining
    /// `retrySteps` too, and the report keeps its smallest share: near a kink or where f32
    /// rounding is large one step's difference is noisy, while a wrong gradient uses most of
    /// its tolerance (or more) at every step.
    public var settledShare: Float = 0.25

    public init(step: Float = 1e-2, rtol: Float = 2e-2, atol: Float = 2e-3, maxElementsPerTensor: Int = 64, training: Bool = true, allowKinks: Bool = false) {
        self.allowKinks = allowKinks
        self.training = training
        self.step = step
        self.rtol = rtol
        self.atol = atol
        self.maxElementsPerTensor = maxElementsPerTensor
    }

    public struct Mismatch: CustomStringConvertible {
        public let tensor: String
        public let element: Int
        public let analytic: Float
        public let numeric: Float
        public var description: String {
            "\(tensor)[\(element)]: analytic \(analytic) vs numeric \(numeric)"
        }
    }

    public struct Report: CustomStringConvertible {
        public var checked = 0
        public var mismatches: [Mismatch] = []
        /// The largest |analytic − numeric| / (atol + rtol·max(|analytic|, |numeric|)) among the
        /// elements the central difference accepted, each at its best step (see `settledShare`):
        /// how much of its tolerance the worst element used (≤ 1). A relative error alone is meaningless for
        /// near-zero gradients, which `atol` accepts.
        public var worstToleranceUsed: Float = 0
        /// Which element that was, with its analytic value and its first step's difference.
        public var worstElement = ""
        /// Elements accepted only at a retry step (`retrySteps`).
        public var retried = 0
        /// Elements accepted only by the one-sided (kink) criterion.
        public var kinks = 0
        /// Elements accepted only by the interval mean (several kinks within the step; see
        /// `intervalSamples`).
        public var acrossKinks = 0
        /// The checked tensors whose analytic gradient is exactly zero everywhere and whose
        /// checked elements' finite differences are zero too. Such a tensor passes element by
        /// element (0 against 0) though nothing reaches it: a loss that ignores an input it
        /// should read. Whether that is wrong is the caller's to say.
        public var withoutGradient: [String] = []
        public var passed: Bool { mismatches.isEmpty && checked > 0 }
        public var description: String {
            passed ? "gradient check passed: \(checked) elements, the worst at \(String(format: "%.2f", worstToleranceUsed)) of its tolerance"
                + (retried > 0 ? ", \(retried) at another step" : "") + (kinks > 0 ? ", \(kinks) at kinks" : "")
                + (acrossKinks > 0 ? ", \(acrossKinks) across several kinks" : "")
                : "gradient check FAILED: \(mismatches.count) of \(checked) elements differ; first: \(mismatches.prefix(3).map(\.description).joined(separator: "; "))"
        }
    }

    /// Checks gradients with respect to `inputs` (leaves the build closure wraps with
    /// `graph.variable`) and `parameters`. The build closure receives a fresh graph and the
    /// input nodes; it must be deterministic (reseed any randomness from a fixed seed).
    public func run(
        inputs: [(name: String, tensor: Tensor)], parameters: [Parameter] = [],
        build: (Graph, [Node]) throws -> Node
    ) throws -> Report {
        func evaluate() throws -> (Graph, Node, [Node]) {
            let g = Graph(training: training, random: RandomGenerator(seed: 1234))
            g.stopGradients = stopGradients
            let leaves = inputs.map { g.variable($0.tensor) }
            let loss = try build(g, leaves)
            guard loss.value.count == 1 else { throw ShapeError("gradient check: loss must be a scalar; got \(shapeText(loss.shape))") }
            return (g, loss, leaves)
        }
        for p in parameters { p.grad.zero() }
        let (g, loss, leaves) = try evaluate()
        try g.backward(from: loss)
        var targets: [(String, Tensor, Tensor)] = []
        for (i, leaf) in leaves.enumerated() {
            targets.append((inputs[i].name, inputs[i].tensor, leaf.grad?.copy() ?? Tensor(zeros: leaf.shape)))
        }
        for p in parameters { targets.append((p.name, p.value, p.grad.copy())) }

        var report = Report()
        let base = try evaluate().1.value.scalar
        /// The analytic derivative with respect to element i of target t at the tensors' values now.
        func analyticNow(target t: Int, element i: Int) throws -> Float {
            for p in parameters { p.grad.zero() }
            let (g, loss, leaves) = try evaluate()
            try g.backward(from: loss)
            return t < leaves.count ? leaves[t].grad?.data[i] ?? 0 : parameters[t - leaves.count].grad.data[i]
        }
        var resampled = false
        defer {
            // the parameters' gradients as the first backward pass left them
            if resampled { for (k, p) in parameters.enumerated() { p.grad.data.update(from: targets[leaves.count + k].2.data, count: p.grad.count) } }
        }
        for (t, (name, tensor, analytic)) in targets.enumerated() {
            let n = tensor.count
            let stride = max(1, n / maxElementsPerTensor)
            var silent = !analytic.buffer.contains { $0 != 0 }
            for i in Swift.stride(from: 0, to: n, by: stride) {
                let a = analytic.data[i]
                var accepted = false, atKink = false, atRetry = false
                var first: Float?
                var share = Float.infinity  // the smallest share of its tolerance over the steps tried
                for (attempt, h) in ([step] + retrySteps).enumerated() {
                    let saved = tensor.data[i]
                    tensor.data[i] = saved + h
                    let up = try evaluate().1.value.scalar
                    tensor.data[i] = saved - h
                    let down = try evaluate().1.value.scalar
                    tensor.data[i] = saved
                    let numeric = (up - down) / (2 * h)
                    let err = abs(a - numeric), scale = max(abs(a), abs(numeric))
                    if first == nil { first = numeric }
                    if numeric != 0 { silent = false }
                    let used = err / (atol + rtol * scale)
                    if used <= 1 {
                        if !accepted { atRetry = attempt > 0 }
                        accepted = true
                        share = min(share, used)
                        if share <= settledShare { break }
                        continue
                    }
                    if accepted { continue }
                    let forward = (up - base) / h, backward = (base - down) / h
                    let tol = atol + rtol * max(abs(forward), abs(backward))
                    if allowKinks && a >= min(forward, backward) - tol && a <= max(forward, backward) + tol {
                        accepted = true
                        atKink = true
                        break
                    }
                }
                if !accepted && allowKinks && intervalSamples > 0, let numeric = first {
                    // the mean of the analytic derivative over [x−h, x+h] against the central difference
                    let saved = tensor.data[i]
                    var sum: Float = 0
                    for k in 0..<intervalSamples {
                        tensor.data[i] = saved - step + (Float(k) + 0.5) * (2 * step / Float(intervalSamples))
                        sum += try analyticNow(target: t, element: i)
                    }
                    tensor.data[i] = saved
                    resampled = true
                    let mean = sum / Float(intervalSamples)
                    if abs(mean - numeric) <= atol + rtol * max(abs(mean), abs(numeric)) {
                        accepted = true
                        report.acrossKinks += 1
                    }
                }
                if share.isFinite && share > report.worstToleranceUsed {
                    report.worstToleranceUsed = share
                    report.worstElement = "\(name)[\(i)]: analytic \(a) vs numeric \(first!)"
                }
                report.checked += 1
                if atKink { report.kinks += 1 }
                if atRetry { report.retried += 1 }
                if !accepted { report.mismatches.append(Mismatch(tensor: name, element: i, analytic: a, numeric: first!)) }
            }
            if silent && n > 0 { report.withoutGradient.append(name) }
        }
        return report
    }
}
