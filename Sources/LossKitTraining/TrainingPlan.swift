import LossKitCore
import LossKitData
import LossKitDistributed
import LossKitPlugins
import LossKitRun

/// What a run trains with, assembled from its settings before any step and before its folder is
/// touched: the data and the encoder (`RunSetup`), the loss terms, every parameter and state, the
/// optimiser with each plugin group's settings, the labelled split and the batch sampler. Every
/// mistake a run's settings can hold is reported here. `Trainer` takes a plan and adds the run
/// folder and the loop.
public struct TrainingPlan {
    public let config: TrainingConfig
    /// The run's one seeded generator (initialisation, augmentation).
    public let random: RandomGenerator
    public let run: RunSetup
    public let terms: [ObjectiveTerm]
    public let parameters: [Parameter]
    public let states: [StateTensor]
    public let optimizer: Optimizer
    public let split: LabelledSplit
    public let sampler: BatchSampler
    /// The processes that train it: one, or the ranks of `mpirun -np N`.
    public let communicator: Communicator

    public static func assemble(config: TrainingConfig, loader: PluginLoader, communicator: Communicator = SingleProcess(),
                                log: @escaping (String) -> Void = { print($0) }) throws -> TrainingPlan {
        try config.validate()
        Threads.set(config.threads)
        let random = RandomGenerator(seed: config.seed)
        let run = try RunSetup(config: config, loader: loader, random: random, log: log)
        let terms = try LossComposer.compose(config.lossExpression(), loader: loader, model: run.model, setup: run.setup, random: random,
                                             communicator: communicator, log: log)
        for term in terms where !(0..<config.steps).contains(term.schedule.from ?? 0) {
            throw TrainingError(message: "term '\(term.label)' is never on: its schedule starts at step \(term.schedule.from ?? 0) but the run has \(config.steps) steps (--steps)")
        }
        if let idle = Trainer.firstStepWithoutTerms(terms, steps: config.steps) {
            throw TrainingError(message: "no term of the loss '\(config.loss)' is on at step \(idle + 1): the schedules in [ ] leave it empty (--steps is \(config.steps))")
        }
        let pluginContexts = terms.compactMap { $0.instance?.context }
        let parameters = run.model.parameters + pluginContexts.flatMap(\.parameters)
        let states = run.model.states + pluginContexts.flatMap(\.states)
        var groups: [String: OptimizerSettings] = [:]
        for c in pluginContexts { groups.merge(c.groupSettings) { $1 } }
        let optimizer = Optimizer(parameters: parameters, defaultSettings: config.optimizerSettings, groupSettings: groups)
        // A run that draws no labelled rows needs no labelled subset (nor enough images per class for one).
        let perClass = config.labelsPerClass != nil && config.labelledPerBatch == 0 ? 0 : config.labelsPerClass
        let split = try LabelledSplit.choose(labels: run.train.labels, classes: run.train.classCount, perClass: perClass, seed: config.seed)
        let sampler = try BatchSampler(datasetSize: run.train.count, labelled: split.labelledIndices,
                                       batchSize: Trainer.rowsPerStep(config, terms: terms),
                                       labelledPerBatch: config.labelledRows, seed: config.seed &+ 0x5EED)
        try DataParallel.checkSplit(rows: sampler.batchSize, labelledRows: sampler.labelledPerBatch, ranks: communicator.size)
        for c in [run.model.encoder.context] + pluginContexts { c.communicator = communicator }
        return TrainingPlan(config: config, random: random, run: run, terms: terms, parameters: parameters, states: states,
                            optimizer: optimizer, split: split, sampler: sampler, communicator: communicator)
    }
}
