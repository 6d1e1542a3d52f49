import LossKitCore
import LossKitData
import LossKitFormats
import XCTest

final class ResizedCropTests: XCTestCase {
    /// One 1-channel 6×6 image whose pixel (y, x) holds 10·y + x, so bilinear values are exact.
    func makeAssembler() throws -> BatchAssembler {
        let pixels: [UInt8] = (0 ..< 36).map { (k: Int) -> UInt8 in UInt8(10 * (k / 6) + k % 6) }
        let data = try ImageDataset(name: "ramp", count: 1, channels: 1, height: 6, width: 6, pixels: pixels,
                                    labels: [0], classCount: 1, classNames: ["a"])
        // mean 0, std 1/255: the normalised value is the raw byte itself.
        return BatchAssembler(dataset: data, mean: [0], std: [1.0 / 255])
    }

    func testWholeImageWindowIsTheIdentity() throws {
        let a = try makeAssembler()
        let plain = a.images([0], augmentation: .none, random: RandomGenerator(seed: 0))
        let whole = a.images([0], cropPadding: 0, draws: [AugmentationDraw(top: 0, left: 0, flip: false, height: 6, width: 6)])
        XCTAssertEqual(whole.array, plain.array)
    }

    func testHalfWindowIsUpsampledBilinearlyWithAlignedCentres() throws {
        let a = try makeAssembler()
        // Window rows 2..<5, cols 1..<4 (3×3) to 6×6: source = (o + 0.5)/2 - 0.5, clamped at 0.
        let t = a.images([0], cropPadding: 0, draws: [AugmentationDraw(top: 2, left: 1, flip: false, height: 3, width: 3)])
        func src(_ o: Int) -> Float { min(2, max(0, (Float(o) + 0.5) / 2 - 0.5)) }
        for y in 0 ..< 6 { for x in 0 ..< 6 {
            // A linear ramp is reproduced exactly by bilinear interpolation.
            let expected = 10 * (2 + src(y)) + (1 + src(x))
            XCTAssertEqual(t[y * 6 + x], expected, accuracy: 1e-4, "y \(y) x \(x)")
        } }
    }

    func testPaddingIsBlackAndFlipMirrorsAfterResampling() throws {
        let a = try makeAssembler()
        // Padding 3, the whole 12×12 padded image shrunk to 6×6: output o samples padded 2o + 0.5,
        // so the outer ring mixes black padding with nothing (it is all padding) and the middle is image.
        let d = AugmentationDraw(top: 0, left: 0, flip: false, height: 12, width: 12)
        let t = a.images([0], cropPadding: 3, draws: [d])
        XCTAssertEqual(t[0], 0, "corner comes from the padding, raw 0")
        // Output (2, 2) samples padded (4.5, 4.5) = image (1.5, 1.5): 10·1.5 + 1.5.
        XCTAssertEqual(t[2 * 6 + 2], 16.5, accuracy: 1e-4)
        var f = d
        f.flip = true
        let m = a.images([0], cropPadding: 3, draws: [f])
        for y in 0 ..< 6 { for x in 0 ..< 6 { XCTAssertEqual(m[y * 6 + x], t[y * 6 + 5 - x]) } }
    }

    func testDrawnWindowsFitVaryAndRespectTheScale() throws {
        let a = try makeAssembler()
        let aug = Augmentation(cropPadding: 1, horizontalFlip: true, cropScale: 0.3)
        let draws = a.draws(count: 2000, augmentation: aug, random: RandomGenerator(seed: 4))
        var areas: [Float] = []
        for d in draws {
            let h = try XCTUnwrap(d.height), w = try XCTUnwrap(d.width)
            XCTAssertTrue(d.top >= 0 && d.left >= 0 && d.top + h <= 8 && d.left + w <= 8, "\(d)")
            areas.append(Float(h * w) / 64)
        }
        // Rounding to whole pixels widens [0.3, 1] a little; the mean of uniform(0.3, 1) is 0.65.
        XCTAssertGreaterThan(areas.min()!, 0.2)
        XCTAssertLessThan(areas.min()!, 0.4)
        XCTAssertEqual(areas.reduce(0, +) / Float(areas.count), 0.65, accuracy: 0.06)
        XCTAssertGreaterThan(Set(draws.map { "\($0.height!)x\($0.width!)" }).count, 5, "aspect ratios and sizes vary")
        let flips = draws.filter(\.flip).count
        XCTAssertTrue((900 ... 1100).contains(flips), "\(flips) flips")
        // Same generator state, same draws: resuming a run replays them.
        XCTAssertEqual(a.draws(count: 2000, augmentation: aug, random: RandomGenerator(seed: 4)), draws)
    }
}
