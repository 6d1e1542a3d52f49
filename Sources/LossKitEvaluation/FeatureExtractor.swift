import LossKitCore
import LossKitData
import LossKitPlugins
import LossKitRun

/// Runs the model in evaluation mode (batch-norm running statistics, no dropout, no
/// augmentation) over a whole data set, collecting the `features` and `logits` taps.
public enum FeatureExtractor {
    public struct Output {
        public let features: Tensor  // [N, D]
        public let logits: Tensor    // [N, K]
    }

    public static func run(model: EncoderModel, assembler: BatchAssembler, count: Int, batchSize: Int = 500) throws -> Output {
        let D = model.featureDimension, K = model.headWeight.shape[0]
        let features = Tensor(uninitialized: [count, D])
        let logits = Tensor(uninitialized: [count, K])
        let random = RandomGenerator(seed: 0)
        var start = 0
        while start < count {
            let end = min(start + batchSize, count)
            let images = assembler.images(Array(start..<end), augmentation: .none, random: random)
            let pg = PluginGraph(graph: Graph(training: false, random: random), encoder: model)
            let taps = try model.encode(pg, images: pg.graph.constant(images))
            (features.data + start * D).update(from: taps["features"]!.value.data, count: (end - start) * D)
            (logits.data + start * K).update(from: taps["logits"]!.value.data, count: (end - start) * K)
            start = end
        }
        return Output(features: features, logits: logits)
    }

    /// The same for images given as a tensor [N, C, H, W] (generated samples), normalised as the
    /// model's data is.
    public static func run(model: EncoderModel, images: Tensor, batchSize: Int = 500) throws -> Output {
        let count = images.shape[0], per = images.count / max(count, 1)
        let D = model.featureDimension, K = model.headWeight.shape[0]
        let features = Tensor(uninitialized: [count, D]), logits = Tensor(uninitialized: [count, K])
        let random = RandomGenerator(seed: 0)
        for start in stride(from: 0, to: count, by: batchSize) {
            let end = min(start + batchSize, count)
            let chunk = Tensor(uninitialized: [end - start] + Array(images.shape.dropFirst()))
            chunk.data.update(from: images.data + start * per, count: (end - start) * per)
            let pg = PluginGraph(graph: Graph(training: false, random: random), encoder: model)
            let taps = try model.encode(pg, images: pg.graph.constant(chunk))
            (features.data + start * D).update(from: taps["features"]!.value.data, count: (end - start) * D)
            (logits.data + start * K).update(from: taps["logits"]!.value.data, count: (end - start) * K)
        }
        return Output(features: features, logits: logits)
    }

    /// Arg-max of each logits row.
    public static func predictions(_ logits: Tensor) -> [Int32] {
        let (N, K) = (logits.shape[0], logits.shape[1])
        return (0..<N).map { r in
            var best = 0
            for k in 1..<K where logits.data[r * K + k] > logits.data[r * K + best] { best = k }
            return Int32(best)
        }
    }

    public static func accuracy(_ predictions: [Int32], _ labels: [Int32]) -> Double {
        guard !labels.isEmpty else { return 0 }
        return Double(zip(predictions, labels).filter { $0 == $1 }.count) / Double(labels.count)
    }
}
