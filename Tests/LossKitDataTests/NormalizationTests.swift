import LossKitData
import LossKitFormats
import XCTest

final class NormalizationTests: XCTestCase {
    func testComputeGivesPerChannelMeanAndPopulationStdOfScaledPixels() throws {
        // Two 1×2 images with two channels. Channel 0 holds 0, 51, 102, 255; channel 1 is 51 throughout.
        let pixels: [UInt8] = [0, 51, /* ch1 */ 51, 51, /* image 2 */ 102, 255, /* ch1 */ 51, 51]
        let data = try ImageDataset(name: "t", count: 2, channels: 2, height: 1, width: 2,
                                    pixels: pixels, labels: [0, 1], classCount: 2, classNames: ["a", "b"])
        let stats = Normalization.compute(data)
        let values: [Double] = [0, 51, 102, 255].map { $0 / 255 }
        let mean = values.reduce(0, +) / 4
        let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4).squareRoot()
        XCTAssertEqual(stats.mean[0], Float(mean), accuracy: 1e-7)
        XCTAssertEqual(stats.std[0], Float(std), accuracy: 1e-7)
        XCTAssertEqual(stats.mean[1], 0.2, accuracy: 1e-7)
        // A constant channel has std 0; 1 is returned so that normalising cannot divide by zero.
        XCTAssertEqual(stats.std[1], 1)
    }

    func testComputeOfAnEmptyDataSetChangesNothing() throws {
        let data = try ImageDataset(name: "t", count: 0, channels: 3, height: 2, width: 2,
                                    pixels: [], labels: [], classCount: 1, classNames: ["a"])
        let stats = Normalization.compute(data)
        XCTAssertEqual(stats.mean, [0, 0, 0])
        XCTAssertEqual(stats.std, [1, 1, 1])
    }
}
