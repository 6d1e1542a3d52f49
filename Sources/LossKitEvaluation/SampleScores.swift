import Foundation
import LossKitRun

/// A GAN run's sample scores as `losskit eval samples` leaves them in RUN/samples: the scores
/// (samples.json) and a grid of samples, for `losskit report`.
public struct SampleScores: RunRecordFile, Equatable {
    public static let folderName = RunFolder.samplesName
    public static let fileName = "samples.json"
    public static let gridName = "grid.png"
    public var step: Int
    public var classifier: String
    public var count: Int
    /// The Inception Score's formula on the classifier, for the samples and for as many real test images (its ceiling).
    public var inceptionScore: Double
    public var realInceptionScore: Double
    /// Between the classifier's features of the samples and of as many real test images.
    public var frechetDistance: Double

    public init(step: Int, classifier: String, count: Int, inceptionScore: Double, realInceptionScore: Double, frechetDistance: Double) {
        self.step = step
        self.classifier = classifier
        self.count = count
        self.inceptionScore = inceptionScore
        self.realInceptionScore = realInceptionScore
        self.frechetDistance = frechetDistance
    }

    public static func path(in folder: String) -> String { RunFolder(folder).samples + "/" + fileName }
}
