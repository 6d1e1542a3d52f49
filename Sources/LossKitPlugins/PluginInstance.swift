import CLossKitABI
import Foundation
import LossKitCore

/// One live instance of a plugin: the `self` pointer its `create` returned, with the host
/// context behind its `lk_context*`. Destroyed with the instance.
public final class PluginInstance {
    public let plugin: LoadedPlugin
    public let context: InstanceContext
    let instance: UnsafeMutableRawPointer
    /// The option values in force, defaults overridden by the user's.
    public private(set) var optionValues: [String: OptionValue] = [:]

    /// Creates the instance and applies every option's default, then the user's `options`.
    /// `api` is the table the plugin gets: the host's own, or in tests an older host's
    /// (`HostAPITable.abi10`, `abi11`) to check a plugin's fallbacks.
    public init(plugin: LoadedPlugin, context: InstanceContext, options: [(key: String, value: String)] = [],
                api: UnsafePointer<lk_host_api> = UnsafePointer(HostAPITable.shared)) throws {
        self.plugin = plugin
        self.context = context
        var err = lk_error()
        guard let create = plugin.descriptor.pointee.create,
              let made = create(api, handle(context), &err) else {
            let message = readError(err)
            throw HostError("\(plugin.name): create failed: \(message.isEmpty ? "no reason given" : message)")
        }
        instance = made
        for o in plugin.options {
            do {
                try setOption(o.name, text: o.defaultValue)
            } catch {
                throw HostError("\(plugin.name): the default of option '\(o.name)' is refused: \(error)")
            }
        }
        var seen = Set<String>()
        for (key, value) in options {
            guard seen.insert(key).inserted else { throw HostError("\(plugin.name): option '\(key)' is given twice") }
            try setOption(key, text: value)
        }
    }

    deinit { plugin.descriptor.pointee.destroy?(instance) }

    /// Parses `text` into the option's declared type, checks it against the declared range or
    /// choices, and calls its setter through libffi.
    public func setOption(_ name: String, text: String) throws {
        guard let info = plugin.options.first(where: { $0.name == name }), let setter = plugin.setters[name] else {
            let known = plugin.options.map(\.name)
            throw HostError("\(plugin.name) has no option '\(name)'" + (known.isEmpty ? " (it takes none)" : " (options: \(known.joined(separator: ", ")))"))
        }
        let value: OptionValue
        do {
            value = try OptionValue.parse(text, as: info.type, option: name)
        } catch {
            throw HostError("\(plugin.name): \(error)")
        }
        try info.validate(value, plugin: plugin.name, text: text)
        do {
            try ForeignCall.callSetter(setter, call: info.call, instance: instance, value: value, type: info.type)
        } catch {
            throw HostError("\(plugin.name)(\(name)=\(text)): \(error)")
        }
        optionValues[name] = value
    }

    /// Calls the plugin's `prepare`, if it has one (optional since ABI 1.3).
    public func prepare(_ setup: SetupInfo) throws {
        guard let prepareFn = plugin.descriptor.pointee.prepare else { return }
        var s = lk_setup()
        s.struct_size = UInt32(MemoryLayout<lk_setup>.size)
        let instanceName = strdup(setup.instance)!, tap = setup.tap.map { strdup($0)! }
        defer { free(instanceName); tap.map { free($0) } }
        s.instance = UnsafePointer(instanceName)
        s.tap = tap.map { UnsafePointer($0) }
        s.channels = Int32(setup.channels)
        s.height = Int32(setup.height)
        s.width = Int32(setup.width)
        s.num_classes = Int32(setup.numClasses)
        s.dataset_size = Int64(setup.datasetSize)
        s.pixel_min = setup.pixelMin
        s.pixel_max = setup.pixelMax
        s.batch_size = Int32(setup.batchSize)
        var err = lk_error()
        let status = prepareFn(instance, handle(context), &s, &err)
        guard status == LK_OK else { throw HostError("\(plugin.name): prepare failed: \(readError(err))") }
    }

    /// The objective's loss node on `graph`, or the graph's (or plugin's) error.
    public func loss(_ pg: PluginGraph, batch: BatchView, taps: TapSet) throws -> Node {
        guard let lossFn = plugin.descriptor.pointee.loss else { throw HostError("\(plugin.name) is not an objective") }
        let tapHandle = TapSetHandle(taps: taps, graph: pg)
        pg.retain(tapHandle)
        context.buildingGraph = true
        let result: OpaquePointer? = pg.acting(as: context.instanceName) {
            batch.withCBatch(pg) { cb in lossFn(instance, handle(pg), cb, handle(tapHandle)) }
        }
        context.buildingGraph = false
        if let error = pg.error { throw HostError(error) }
        guard let result else { throw HostError("\(context.instanceName): loss returned NULL without an error") }
        let node = object(result, as: Node.self)
        guard node.value.count == 1 else {
            throw HostError("\(context.instanceName): loss must be a scalar node; got \(shapeText(node.shape))")
        }
        return node
    }

    /// Runs an encoder plugin's forward pass, returning its taps.
    public func encode(_ pg: PluginGraph, images: Node) throws -> TapSet {
        guard let encodeFn = plugin.encodeFunction else { throw HostError("\(plugin.name) is not an encoder") }
        let taps = TapSet()
        let tapHandle = TapSetHandle(taps: taps, graph: pg)
        pg.retain(tapHandle)
        var err = lk_error()
        context.buildingGraph = true
        let status = pg.acting(as: "encoder \(plugin.name)") { encodeFn(instance, handle(pg), handle(images), handle(tapHandle), &err) }
        context.buildingGraph = false
        if let error = pg.error { throw HostError(error) }
        guard status == LK_OK else { throw HostError("encoder \(plugin.name): \(readError(err))") }
        guard let f = taps["features"], f.shape.count == 2 else {
            throw HostError("encoder \(plugin.name) must emit a 'features' tap of shape [B, D]")
        }
        return taps
    }

    public func afterStep(step: Int, totalSteps: Int, learningRateFactor: Float) {
        guard let fn = plugin.descriptor.pointee.after_step else { return }
        var info = lk_step_info()
        info.struct_size = UInt32(MemoryLayout<lk_step_info>.size)
        info.step = Int64(step)
        info.total_steps = Int64(totalSteps)
        info.learning_rate_factor = learningRateFactor
        fn(instance, handle(context), &info)
    }

    /// Every declared probe's current value, read through libffi.
    public func probes() -> [(name: String, value: Double)] {
        plugin.probes.compactMap { p in
            guard let g = plugin.getters[p.name] else { return nil }
            return (p.name, ForeignCall.callGetter(g, call: p.call, instance: instance, type: p.type))
        }
    }
}

/// The setup an instance is prepared with (lk_setup in Swift).
public struct SetupInfo {
    public var instance: String
    public var tap: String?
    public var channels: Int, height: Int, width: Int
    public var numClasses: Int
    public var datasetSize: Int
    public var pixelMin: Float, pixelMax: Float
    public var batchSize: Int

    public init(instance: String, tap: String?, channels: Int, height: Int, width: Int, numClasses: Int,
                datasetSize: Int, pixelMin: Float, pixelMax: Float, batchSize: Int) {
        self.instance = instance
        self.tap = tap
        self.channels = channels
        self.height = height
        self.width = width
        self.numClasses = numClasses
        self.datasetSize = datasetSize
        self.pixelMin = pixelMin
        self.pixelMax = pixelMax
        self.batchSize = batchSize
    }
}

/// A training batch in Swift, shown to plugins as an `lk_batch`.
public struct BatchView {
    public var images: Node
    public var labels: [Int32]
    public var labelled: [UInt8]
    public var indices: [Int64]
    public var datasetSize: Int
    public var numClasses: Int
    public var pixelMin: Float, pixelMax: Float

    public init(images: Node, labels: [Int32], labelled: [UInt8], indices: [Int64], datasetSize: Int, numClasses: Int,
                pixelMin: Float, pixelMax: Float) {
        self.images = images
        self.labels = labels
        self.labelled = labelled
        self.indices = indices
        self.datasetSize = datasetSize
        self.numClasses = numClasses
        self.pixelMin = pixelMin
        self.pixelMax = pixelMax
    }

    func withCBatch<T>(_ pg: PluginGraph, _ body: (UnsafePointer<lk_batch>) -> T) -> T {
        labels.withUnsafeBufferPointer { l in
            labelled.withUnsafeBufferPointer { m in
                indices.withUnsafeBufferPointer { ix in
                    var b = lk_batch()
                    b.struct_size = UInt32(MemoryLayout<lk_batch>.size)
                    b.size = Int32(images.shape[0])
                    b.channels = Int32(images.shape[1])
                    b.height = Int32(images.shape[2])
                    b.width = Int32(images.shape[3])
                    b.images = handle(images)
                    b.labels = l.baseAddress
                    b.labelled = m.baseAddress
                    b.indices = ix.baseAddress
                    b.dataset_size = Int64(datasetSize)
                    b.num_classes = Int32(numClasses)
                    b.pixel_min = pixelMin
                    b.pixel_max = pixelMax
                    return withUnsafePointer(to: &b) { body($0) }
                }
            }
        }
    }
}
