import CLossKitABI
import LossKitCore
import LossKitDistributed

/// An image batch a plugin handed over for the run's report.
public struct ReportImage {
    public let name: String
    public let values: [Float]
    public let count: Int, channels: Int, height: Int, width: Int
    public let low: Float, high: Float
}

/// What an `lk_context*` points at: one plugin instance's parameters, state tensors, optimiser
/// groups, and its share of the run's services (random numbers, logging, report images).
public final class InstanceContext {
    public let instanceName: String
    /// The generator `random_*` draws from: the run's in create and prepare (the same on every
    /// rank); in a data-parallel run, the rank's own stream of the step during training
    /// (`DataParallel.beginStep`).
    public package(set) var random: RandomGenerator
    /// The processes training this model; one process unless the run is data-parallel.
    public package(set) var communicator: Communicator = SingleProcess()
    public private(set) var parameters: [Parameter] = []
    public private(set) var states: [StateTensor] = []
    /// Optimiser settings of this instance's own groups, keyed by full group name.
    public private(set) var groupSettings: [String: OptimizerSettings] = [:]
    public var tapShapes: [String: [Int]] = [:]
    public private(set) var reportImages: [String: ReportImage] = [:]
    public var logSink: (String) -> Void
    /// Whether the instance's `loss` or `encode` is running: parameters, states and optimiser
    /// groups are made in create or prepare, never while a graph is being built (losskit.h,
    /// "What a plugin may call where").
    public internal(set) var buildingGraph = false

    public init(instanceName: String, random: RandomGenerator, logSink: @escaping (String) -> Void = { print($0) }) {
        self.instanceName = instanceName
        self.random = random
        self.logSink = logSink
    }

    /// "default" is the run's main group; any other group name belongs to this instance.
    public func fullGroupName(_ group: String) -> String {
        group == "default" || group.isEmpty ? "default" : "\(instanceName).\(group)"
    }

    public func createParameter(name: String, group: String, shape: [Int], initializer: Initializer, noDecay: Bool) throws -> Parameter {
        let full = "\(instanceName).\(name)"
        guard !buildingGraph else { throw HostError("parameter '\(full)': param_create may not be called in loss or encode (call it in prepare)") }
        guard !parameters.contains(where: { $0.name == full }) else {
            throw HostError("parameter '\(full)' is created twice")
        }
        guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }) else {
            throw HostError("parameter '\(full)' has an invalid shape \(shape)")
        }
        let p = Parameter(name: full, group: fullGroupName(group), value: Tensor(zeros: shape), noWeightDecay: noDecay)
        initializer.fill(p.value, random: random)
        parameters.append(p)
        return p
    }

    public func createState(name: String, shape: [Int], fill: Float) throws -> StateTensor {
        let full = "\(instanceName).\(name)"
        guard !buildingGraph else { throw HostError("state '\(full)': state_create may not be called in loss or encode (call it in prepare)") }
        guard !states.contains(where: { $0.name == full }) else { throw HostError("state '\(full)' is created twice") }
        guard shape.allSatisfy({ $0 > 0 }) else { throw HostError("state '\(full)' has an invalid shape \(shape)") }
        let s = StateTensor(name: full, value: Tensor(shape: shape, repeating: fill))
        states.append(s)
        return s
    }

    public func setGroupOptimizer(_ group: String, _ settings: OptimizerSettings) {
        groupSettings[fullGroupName(group)] = settings
    }

    public func addReportImage(_ image: ReportImage) { reportImages[image.name] = image }

    public func log(_ level: Int32, _ message: String) {
        let tag = level >= LK_LOG_WARNING ? "warning: " : ""
        logSink("[\(instanceName)] \(tag)\(message)")
    }
}
