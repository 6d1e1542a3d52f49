import Foundation
import LossKitCore
import LossKitEvaluation

/// Evaluation while training: the head's test accuracy (`eval_every`) and the kNN accuracy of the
/// encoder's features (`knn_every`), both in evaluation mode. Neither touches the trainer's random
/// stream or any parameter, so a run with them ends exactly as one without.
extension Trainer {
    /// Accuracy of the head on the test set, batch-norm in evaluation mode.
    public func testAccuracy() throws -> Double {
        try evaluate(head: true, knn: false)["test_accuracy"]!
    }

    /// Weighted kNN (k 200 or the training-set size if smaller, τ 0.07) of the test features
    /// against every training image's, the protocol of `losskit eval knn`: what an unsupervised
    /// objective's progress is judged by, when the head has few or no labels to learn from.
    public func knnAccuracy() throws -> Double {
        try evaluate(head: false, knn: true)["knn_accuracy"]!
    }

    /// Neighbours the kNN evaluation votes with.
    var knnNeighbours: Int { min(200, run.train.count) }

    /// The asked-for metrics (`test_accuracy`, `knn_accuracy`) from one pass over the test set.
    /// A kNN result is also remembered as `lastKNNAccuracy` and told to the observer.
    func evaluate(head: Bool, knn: Bool) throws -> [String: Double] {
        let started = Date()
        let test = try FeatureExtractor.run(model: run.model, assembler: run.testAssembler, count: run.test.count)
        var metrics: [String: Double] = [:]
        if head { metrics["test_accuracy"] = FeatureExtractor.accuracy(FeatureExtractor.predictions(test.logits), run.test.labels) }
        if knn {
            let train = try FeatureExtractor.run(model: run.model, assembler: run.trainAssembler, count: run.train.count)
            let accuracy = try KNNClassifier.evaluate(train: train.features, trainLabels: run.train.labels, test: test.features,
                                                      testLabels: run.test.labels, classes: run.train.classCount, k: knnNeighbours).accuracy
            metrics["knn_accuracy"] = accuracy
            lastKNNAccuracy = accuracy
            observer?.message(String(format: "step %d: kNN accuracy %.2f%% (k = %d, tau 0.07; %.0f s)", step, accuracy * 100,
                                     knnNeighbours, Date().timeIntervalSince(started)))
        }
        return metrics
    }
}
