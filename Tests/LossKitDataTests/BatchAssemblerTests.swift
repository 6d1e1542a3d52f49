import LossKitCore
import LossKitData
import LossKitFormats
import XCTest

final class BatchAssemblerTests: XCTestCase {
    /// Two 2-channel 4×4 images. Image i, channel c, pixel p holds 100*i + 40*c + p*3 (0...190).
    func makeDataset() throws -> ImageDataset {
        var pixels: [UInt8] = []
        for i in 0 ..< 2 { for c in 0 ..< 2 { for p in 0 ..< 16 { pixels.append(UInt8(raw(i, c, p / 4, p % 4))) } } }
        return try ImageDataset(name: "tiny", count: 2, channels: 2, height: 4, width: 4,
                                pixels: pixels, labels: [1, 0], classCount: 2, classNames: ["a", "b"])
    }

    let mean: [Float] = [0.5, 0.25]
    let std: [Float] = [0.25, 0.5]

    func normalised(_ raw: Int, channel c: Int) -> Float { (Float(raw) / 255 - mean[c]) / std[c] }
    func raw(_ i: Int, _ c: Int, _ y: Int, _ x: Int) -> Int { 100 * i + 40 * c + (y * 4 + x) * 3 }

    func testNoAugmentationGivesExactNormalisedPixelsInIndexOrder() throws {
        let assembler = BatchAssembler(dataset: try makeDataset(), mean: mean, std: std)
        let random = RandomGenerator(seed: 3)
        let before = random.stateWords
        let t = assembler.images([1, 0, 1], augmentation: .none, random: random)
        XCTAssertEqual(t.shape, [3, 2, 4, 4])
        XCTAssertEqual(random.stateWords, before, "no augmentation draws no random numbers")
        for (b, i) in [1, 0, 1].enumerated() {
            for c in 0 ..< 2 { for y in 0 ..< 4 { for x in 0 ..< 4 {
                XCTAssertEqual(t[((b * 2 + c) * 4 + y) * 4 + x], normalised(raw(i, c, y, x), channel: c))
            } } }
        }
    }

    func testCropWithPaddingShiftsContentAndFillsWithNormalisedBlack() throws {
        let assembler = BatchAssembler(dataset: try makeDataset(), mean: mean, std: std)
        // Padding 1; window corner (0, 2) in padded coordinates: output (y, x) = source (y - 1, x + 1).
        let t = assembler.images([0], cropPadding: 1, draws: [AugmentationDraw(top: 0, left: 2, flip: false)])
        for c in 0 ..< 2 { for y in 0 ..< 4 { for x in 0 ..< 4 {
            let sy = y - 1, sx = x + 1
            let expected = (0 ..< 4).contains(sy) && (0 ..< 4).contains(sx)
                ? normalised(raw(0, c, sy, sx), channel: c) : normalised(0, channel: c)
            XCTAssertEqual(t[(c * 4 + y) * 4 + x], expected, "c \(c) y \(y) x \(x)")
        } } }
        // The padding is black before normalisation, not zero after it.
        XCTAssertEqual(t[0], -2)            // (0 - 0.5) / 0.25
        XCTAssertEqual(t[16], -0.5)         // (0 - 0.25) / 0.5
    }

    func testCenteredCropIsTheIdentity() throws {
        let assembler = BatchAssembler(dataset: try makeDataset(), mean: mean, std: std)
        let plain = assembler.images([0, 1], augmentation: .none, random: RandomGenerator(seed: 1))
        let centred = assembler.images([0, 1], cropPadding: 3, draws: [.identity(padding: 3), .identity(padding: 3)])
        XCTAssertEqual(centred.array, plain.array)
    }

    func testFlipMirrorsEveryRowAndFollowsTheCrop() throws {
        let assembler = BatchAssembler(dataset: try makeDataset(), mean: mean, std: std)
        let flipped = assembler.images([1], cropPadding: 0, draws: [AugmentationDraw(top: 0, left: 0, flip: true)])
        for c in 0 ..< 2 { for y in 0 ..< 4 { for x in 0 ..< 4 {
            XCTAssertEqual(flipped[(c * 4 + y) * 4 + x], normalised(raw(1, c, y, 3 - x), channel: c))
        } } }
        // Crop first (shift left by 2: output x shows source x + 2... with padding 2, left 4), then mirror.
        let both = assembler.images([1], cropPadding: 2, draws: [AugmentationDraw(top: 2, left: 4, flip: true)])
        for c in 0 ..< 2 { for y in 0 ..< 4 { for x in 0 ..< 4 {
            let sx = (3 - x) + 2
            let expected = sx < 4 ? normalised(raw(1, c, y, sx), channel: c) : normalised(0, channel: c)
            XCTAssertEqual(both[(c * 4 + y) * 4 + x], expected, "c \(c) y \(y) x \(x)")
        } } }
    }

    func testRandomAugmentationReplaysTheDocumentedDrawOrder() throws {
        let assembler = BatchAssembler(dataset: try makeDataset(), mean: mean, std: std)
        let augmentation = Augmentation(cropPadding: 2, horizontalFlip: true)
        let indices = [0, 1, 1, 0, 0, 1, 0, 1]
        let t = assembler.images(indices, augmentation: augmentation, random: RandomGenerator(seed: 77))
        // Per image: top, left (each below(5)), then flip (below(2) == 1).
        let replay = RandomGenerator(seed: 77)
        let draws = indices.map { _ in
            AugmentationDraw(top: replay.below(5), left: replay.below(5), flip: replay.below(2) == 1)
        }
        XCTAssertEqual(assembler.draws(count: indices.count, augmentation: augmentation, random: RandomGenerator(seed: 77)), draws)
        XCTAssertEqual(t.array, assembler.images(indices, cropPadding: 2, draws: draws).array)
        // Something actually moved: not every draw is the identity.
        XCTAssertTrue(draws.contains { $0 != .identity(padding: 2) })
    }

    func testFlipsHappenAboutHalfTheTime() throws {
        let assembler = BatchAssembler(dataset: try makeDataset(), mean: mean, std: std)
        let draws = assembler.draws(count: 1000, augmentation: Augmentation(horizontalFlip: true), random: RandomGenerator(seed: 5))
        let flips = draws.filter(\.flip).count
        XCTAssertTrue((430 ... 570).contains(flips), "\(flips) flips of 1000")
        XCTAssertTrue(draws.allSatisfy { $0.top == 0 && $0.left == 0 }, "no crop was asked for")
    }

    func testResultDoesNotDependOnTheThreadCount() throws {
        let pixels: [UInt8] = (0 ..< 64 * 3 * 8 * 8).map { (k: Int) -> UInt8 in UInt8(truncatingIfNeeded: (k &* 40503) >> 5) }
        let data = try ImageDataset(name: "big", count: 64, channels: 3, height: 8, width: 8, pixels: pixels,
                                    labels: [Int32](repeating: 0, count: 64), classCount: 1, classNames: ["a"])
        let assembler = BatchAssembler(dataset: data, mean: [0.4, 0.5, 0.6], std: [0.2, 0.3, 0.4])
        let augmentation = Augmentation(cropPadding: 2, horizontalFlip: true)
        let indices = (0 ..< 64).reversed() + Array(0 ..< 64)
        let previous = Threads.count
        defer { Threads.set(previous) }
        Threads.set(1)
        let one = assembler.images(indices, augmentation: augmentation, random: RandomGenerator(seed: 9)).array
        Threads.set(2)
        let two = assembler.images(indices, augmentation: augmentation, random: RandomGenerator(seed: 9)).array
        XCTAssertEqual(one, two)
    }

    func testPixelRangeIsTheNormalisedBlackAndWhiteOverChannels() throws {
        let assembler = BatchAssembler(dataset: try makeDataset(), mean: mean, std: std)
        // Black: (0-0.5)/0.25 = -2 and (0-0.25)/0.5 = -0.5; white: 2 and 1.5.
        XCTAssertEqual(assembler.pixelRange.min, -2)
        XCTAssertEqual(assembler.pixelRange.max, 2)
    }

    func testLabelsFollowIndicesAndAreHiddenOnUnlabelledRows() throws {
        let assembler = BatchAssembler(dataset: try makeDataset(), mean: mean, std: std)
        XCTAssertEqual(assembler.labels([1, 0, 0]), [0, 1, 1])
        XCTAssertEqual(assembler.labels(SampledBatch(indices: [0, 1, 0], labelled: [true, false, false])), [1, -1, -1])
    }
}
