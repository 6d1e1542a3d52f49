import LossKitCore
import LossKitData
import LossKitFormats
import LossKitHost
import LossKitRun
import XCTest

final class ColorJitterTests: XCTestCase {
    /// One 1-channel 2×2 image with raw values 0, 51, 102, 255; normalised with mean 0.5, std 0.5.
    func makeAssembler() throws -> BatchAssembler {
        let data = try ImageDataset(name: "four", count: 1, channels: 1, height: 2, width: 2, pixels: [0, 51, 102, 255],
                                    labels: [0], classCount: 1, classNames: ["a"])
        return BatchAssembler(dataset: data, mean: [0.5], std: [0.5])
    }

    func normalised(_ raw: Float) -> Float { (raw - 0.5) / 0.5 }

    func testBrightnessScalesRawValuesAndClampsAtWhite() throws {
        let a = try makeAssembler()
        let t = a.images([0], cropPadding: 0, draws: [AugmentationDraw(top: 0, left: 0, flip: false, brightness: 1.5)])
        let expected: [Float] = [0, 0.3, 0.6, 1].map(normalised)   // 0.2·1.5, 0.4·1.5, 1·1.5 → 1
        for i in 0 ..< 4 { XCTAssertEqual(t[i], expected[i], accuracy: 1e-5, "pixel \(i)") }
    }

    func testContrastPivotsOnTheImageMeanAfterBrightness() throws {
        let a = try makeAssembler()
        // Raw 0, 0.2, 0.4, 1 with mean 0.4; contrast 0.5: 0.5·v + 0.2.
        let t = a.images([0], cropPadding: 0, draws: [AugmentationDraw(top: 0, left: 0, flip: false, contrast: 0.5)])
        let expected: [Float] = [0.2, 0.3, 0.4, 0.7].map(normalised)
        for i in 0 ..< 4 { XCTAssertEqual(t[i], expected[i], accuracy: 1e-5, "pixel \(i)") }
        // Brightness 0.5 first (0, 0.1, 0.2, 0.5; mean 0.2), then contrast 2: 2v - 0.2, clamped at 0.
        let both = a.images([0], cropPadding: 0, draws: [AugmentationDraw(top: 0, left: 0, flip: false, brightness: 0.5, contrast: 2)])
        let expectedBoth: [Float] = [0, 0, 0.2, 0.8].map(normalised)
        for i in 0 ..< 4 { XCTAssertEqual(both[i], expectedBoth[i], accuracy: 1e-5, "pixel \(i)") }
    }

    func testDrawsComeAfterTheFlipAndStayInRange() throws {
        let a = try makeAssembler()
        let aug = Augmentation(horizontalFlip: true, jitter: 0.4)
        let draws = a.draws(count: 500, augmentation: aug, random: RandomGenerator(seed: 8))
        let replay = RandomGenerator(seed: 8)
        for d in draws {
            XCTAssertEqual(d.flip, replay.below(2) == 1)
            XCTAssertEqual(d.brightness, replay.uniform(0.6, 1.4))
            XCTAssertEqual(d.contrast, replay.uniform(0.6, 1.4))
        }
        XCTAssertTrue(draws.allSatisfy { (0.6 ... 1.4).contains($0.brightness) && (0.6 ... 1.4).contains($0.contrast) })
        XCTAssertGreaterThan(Set(draws.map(\.brightness)).count, 400)
        // The draws are what the random images were made from.
        let indices = [Int](repeating: 0, count: 500)
        XCTAssertEqual(a.images(indices, augmentation: aug, random: RandomGenerator(seed: 8)).array,
                       a.images(indices, cropPadding: 0, draws: draws).array)
    }

    /// Out-of-range crop scale and jitter are configuration errors that name the setting.
    func testConfigValidatesCropScaleAndJitter() throws {
        for (scale, jitter, word) in [(Float(0.01), Float(0), "crop scale"), (0, 1, "jitter")] {
            var c = TrainingConfig()
            c.cropScale = scale
            c.jitter = jitter
            XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains(word), "\($0)") }
        }
        var c = TrainingConfig()
        c.cropScale = 0.2
        c.jitter = 0.4
        XCTAssertNoThrow(try c.validate())
        XCTAssertEqual(c.augmentation, Augmentation(cropPadding: 2, horizontalFlip: false, cropScale: 0.2, jitter: 0.4))
    }
}
