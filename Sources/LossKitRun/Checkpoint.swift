import Foundation
import LossKitCore
import LossKitFormats
import LossKitPlugins

/// A run's complete state as one safetensors file, loadable in PyTorch with
/// `safetensors.torch.load_file`: parameters and state tensors under their own names
/// ("encoder.conv1.weight", "encoder.bn1.running_mean", "head.weight", "nce.bank"), the
/// optimiser's moments under "optimizer.*", and the trainer's step, random-generator and
/// sampler state under "trainer.*" — everything `--resume` needs to continue exactly.
public struct Checkpoint {
    public static let format = "losskit-checkpoint-1"

    public var step: Int
    public var file: SafeTensorsFile

    /// Captures the state after `step` steps.
    public static func capture(
        step: Int, parameters: [Parameter], states: [StateTensor], optimizer: Optimizer, random: RandomGenerator,
        samplerState: [Int64], metadata: [String: String]
    ) -> Checkpoint {
        var f = SafeTensorsFile(metadata: metadata.merging(["format": format, "step": String(step)]) { $1 })
        for p in parameters { f.add(name: p.name, floats: p.value.array, shape: p.shape) }
        for s in states { f.add(name: s.name, floats: s.value.array, shape: s.value.shape) }
        for p in parameters {
            if let m = optimizer.firstMoment[p.name] { f.add(name: "optimizer.first_moment.\(p.name)", floats: m.array, shape: m.shape) }
            if let v = optimizer.secondMoment[p.name] { f.add(name: "optimizer.second_moment.\(p.name)", floats: v.array, shape: v.shape) }
        }
        for (group, n) in optimizer.stepsTaken { f.add(name: "optimizer.steps.\(group)", int64s: [Int64(n)], shape: [1]) }
        f.add(name: "trainer.step", int64s: [Int64(step)], shape: [1])
        f.add(name: "trainer.rng", int64s: random.stateWords.map { Int64(bitPattern: $0) }, shape: [4])
        f.add(name: "trainer.sampler", int64s: samplerState, shape: [samplerState.count])
        return Checkpoint(step: step, file: f)
    }

    /// Writes the file atomically, only from finite state: a checkpoint with a NaN or infinite
    /// value (a weight, a moment, a batch-norm statistic, a plugin's state) would be a "last good"
    /// checkpoint that no resume or evaluation can use, so the previous one is kept instead.
    public func write(to path: String) throws {
        for e in file.entries where e.dtype == .f32 {
            if let fault = try Self.fault(in: e.name, file.floats(e.name)) {
                throw RunError("not writing the checkpoint of step \(step): \(fault); the run's state has diverged, and \(path) keeps the last good one")
            }
        }
        try file.write(atomicallyTo: path)
    }

    /// What is wrong with a tensor's values, or nil: every value finite, and variances (batch-norm
    /// running variances, Adam's second moments) never negative.
    static func fault(in name: String, _ values: [Float]) throws -> String? {
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            return "tensor '\(name)' holds \(values[i]) at element \(i)"
        }
        if name.hasSuffix("running_var") || name.hasPrefix("optimizer.second_moment."), let i = values.firstIndex(where: { $0 < 0 }) {
            return "tensor '\(name)' holds the negative variance \(values[i]) at element \(i)"
        }
        return nil
    }

    /// The config of the run that wrote it (its metadata), when readable.
    public var savedConfig: TrainingConfig? {
        file.metadata["config"].flatMap { try? JSONDecoder().decode(TrainingConfig.self, from: Data($0.utf8)) }
    }

    /// Reads and checks the format; truncation and corruption come back as errors naming the
    /// file and what is wrong.
    public static func read(path: String) throws -> Checkpoint {
        guard FileManager.default.fileExists(atPath: path) else { throw RunError("no checkpoint at \(path)") }
        let f = try SafeTensorsFile.read(path: path)
        guard f.metadata["format"] == format else {
            throw RunError("\(path) is not a LossKit checkpoint (metadata format is \(f.metadata["format"].map { "'\($0)'" } ?? "missing"))")
        }
        let step = try f.int64s("trainer.step")
        guard step.count == 1, step[0] >= 0, step[0] <= Int64(TrainingConfig.maximumSteps) else { throw RunError("\(path): trainer.step is malformed") }
        return Checkpoint(step: Int(step[0]), file: f)
    }

    /// Copies the saved values into the live parameters, states, optimiser and generator. Every
    /// name and shape must match: a checkpoint of another model is refused before anything is
    /// overwritten.
    public func restore(parameters: [Parameter], states: [StateTensor], optimizer: Optimizer, random: RandomGenerator) throws -> [Int64] {
        // read everything first, then write: a mismatch leaves the model untouched
        var pending: [(Tensor, [Float])] = []
        for p in parameters {
            pending.append((p.value, try floats(p.name, p.shape)))
            if let m = optimizer.firstMoment[p.name] { pending.append((m, try floats("optimizer.first_moment.\(p.name)", p.shape))) }
            if let v = optimizer.secondMoment[p.name] { pending.append((v, try floats("optimizer.second_moment.\(p.name)", p.shape))) }
        }
        for s in states { pending.append((s.value, try floats(s.name, s.value.shape))) }
        let rng = try file.int64s("trainer.rng")
        guard rng.count == 4 else { throw RunError("checkpoint: trainer.rng must hold 4 words") }
        // xoshiro's all-zero state is a fixed point: every draw would be 0, and rejection sampling spin forever
        guard rng.contains(where: { $0 != 0 }) else { throw RunError("checkpoint: trainer.rng is all zeros, which no generator reaches: the file is damaged") }
        var steps: [String: Int] = [:]
        for e in file.entries where e.name.hasPrefix("optimizer.steps.") {
            let n = try file.int64s(e.name)
            guard n.count == 1, n[0] >= 0, n[0] <= Int64(TrainingConfig.maximumSteps) else {
                throw RunError("checkpoint tensor '\(e.name)' must hold one step count in 0...\(TrainingConfig.maximumSteps), got \(n)")
            }
            steps[String(e.name.dropFirst("optimizer.steps.".count))] = Int(n[0])
        }
        let sampler = try file.int64s("trainer.sampler")
        for (t, values) in pending { values.withUnsafeBufferPointer { t.data.update(from: $0.baseAddress!, count: values.count) } }
        optimizer.stepsTaken = steps
        random.restore(from: RandomGenerator(state: rng.map { UInt64(bitPattern: $0) }))
        return sampler
    }

    /// Loads only parameters and states (evaluation, embedding, `--init-from`): no optimiser
    /// needed. Like `restore`, a mismatch leaves the model untouched.
    public func restoreWeights(parameters: [Parameter], states: [StateTensor]) throws {
        let pending = try parameters.map { ($0.value, try floats($0.name, $0.shape)) } + states.map { ($0.value, try floats($0.name, $0.value.shape)) }
        for (t, values) in pending { values.withUnsafeBufferPointer { t.data.update(from: $0.baseAddress!, count: values.count) } }
    }

    /// The saved values of `name`, which must have `shape`; a missing tensor or another shape
    /// means the checkpoint is of another model, and the message says which run wrote it.
    private func floats(_ name: String, _ shape: [Int]) throws -> [Float] {
        // decoded only for a message: restoring calls this once per tensor
        func writer() -> String {
            let plugins = file.metadata["plugins"].flatMap { $0.isEmpty ? nil : ", plugins \($0)" } ?? ""
            return savedConfig.map { " (it was written by a run of encoder \($0.encoder), loss '\($0.loss)'\(plugins))" } ?? ""
        }
        guard let e = file[name] else {
            throw RunError("the checkpoint has no tensor '\(name)'\(writer())")
        }
        guard e.shape == shape else {
            throw RunError("checkpoint tensor '\(name)' has shape \(e.shape), this model's has \(shape)\(writer())")
        }
        let values = try file.floats(name)
        if let fault = try Self.fault(in: name, values) { throw RunError("the checkpoint cannot be used: \(fault)") }
        return values
    }
}
