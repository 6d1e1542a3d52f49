import Foundation
import LossKitCore
import LossKitFormats
import LossKitHost
import LossKitRun
import LossKitTestSupport

/// Small generated IDX data sets in the standard four-file layout, so training tests never need
/// the Fashion-MNIST package. Each class is a distinct blob pattern plus per-image noise and a
/// per-image random texture, so instances are distinguishable and classes learnable.
enum SyntheticData {
    static func makeFolder(train: Int = 240, test: Int = 80, size: Int = 12, classes: Int = 4, seed: UInt64 = 3) throws -> String {
        let dir = try TemporaryFolders.make("losskit-data")
        let random = RandomGenerator(seed: seed)
        func images(_ n: Int) -> ([UInt8], [UInt8]) {
            var pixels = [UInt8](repeating: 0, count: n * size * size)
            var labels = [UInt8](repeating: 0, count: n)
            for i in 0..<n {
                let c = i % classes
                labels[i] = UInt8(c)
                let cx = Float(size) * (0.25 + 0.5 * Float(c % 2)), cy = Float(size) * (0.25 + 0.5 * Float(c / 2 % 2))
                for y in 0..<size {
                    for x in 0..<size {
                        let d = ((Float(x) - cx) * (Float(x) - cx) + (Float(y) - cy) * (Float(y) - cy)).squareRoot()
                        let v = max(0, 200 - d * 40) + 55 * random.uniform()
                        pixels[i * size * size + y * size + x] = UInt8(min(255, v))
                    }
                }
            }
            return (pixels, labels)
        }
        try write(dir, train: train, test: test, size: size, images: images)
        return dir
    }

    /// Images made of one per-image random tile repeated over the whole image, under pixel
    /// noise: any two regions of an image share its pattern, regions of different images do
    /// not. The class (i % classes) sets the tile's dominant orientation (rows, columns,
    /// diagonal, checker), so it is learnable but not a pixel-level blob.
    static func makePatternFolder(train: Int = 240, test: Int = 80, size: Int = 12, classes: Int = 4, tile: Int = 3, noise: Float = 0.5, seed: UInt64 = 4) throws -> String {
        let dir = try TemporaryFolders.make("losskit-pattern")
        let random = RandomGenerator(seed: seed)
        func images(_ n: Int) -> ([UInt8], [UInt8]) {
            var pixels = [UInt8](repeating: 0, count: n * size * size), labels = [UInt8](repeating: 0, count: n)
            for i in 0..<n {
                let c = i % classes
                labels[i] = UInt8(c)
                let cells = (0..<(tile * tile)).map { _ in random.uniform() }
                for y in 0..<size {
                    for x in 0..<size {
                        let (ty, tx) = (y % tile, x % tile)
                        let structure: Float = [Float(ty % 2), Float(tx % 2), Float((tx + ty) % 2 == 0 ? 1 : 0), Float((tx / 2 + ty / 2) % 2)][c % 4]
                        let v = (0.5 * structure + 0.5 * cells[ty * tile + tx]) * (1 - noise) + noise * random.uniform()
                        pixels[i * size * size + y * size + x] = UInt8(min(255, v * 255))
                    }
                }
            }
            return (pixels, labels)
        }
        try write(dir, train: train, test: test, size: size, images: images)
        return dir
    }

    /// Images with a canonical orientation — bright at the top, dark at the bottom, under a
    /// per-image texture — so the rotation of a warped copy can be read from the copy.
    static func makeOrientedFolder(train: Int = 240, test: Int = 40, size: Int = 12, seed: UInt64 = 6) throws -> String {
        let dir = try TemporaryFolders.make("losskit-oriented")
        let random = RandomGenerator(seed: seed)
        try write(dir, train: train, test: test, size: size) { n in
            var pixels = [UInt8](repeating: 0, count: n * size * size)
            for i in 0..<n {
                for y in 0..<size {
                    for x in 0..<size {
                        let v = 0.9 * (1 - Float(y) / Float(size - 1)) * (0.7 + 0.3 * random.uniform()) + 0.1 * Float(x % 2)
                        pixels[i * size * size + y * size + x] = UInt8(min(255, v * 255))
                    }
                }
            }
            return (pixels, (0..<n).map { UInt8($0 % 2) })
        }
        return dir
    }

    /// 12×12 images, each with six one-pixel dots at random positions (so each at a random offset
    /// inside its pooling windows); labels by image index.
    static func makeDotsFolder(train: Int = 240, test: Int = 80, size: Int = 12, seed: UInt64 = 8) throws -> String {
        let dir = try TemporaryFolders.make("losskit-dots")
        let random = RandomGenerator(seed: seed)
        try write(dir, train: train, test: test, size: size) { n in
            var pixels = [UInt8](repeating: 0, count: n * size * size)
            for i in 0..<n {
                for _ in 0..<6 { pixels[i * size * size + Int(random.uniform() * Float(size * size - 1))] = 255 }
            }
            return (pixels, (0..<n).map { UInt8($0 % 4) })
        }
        return dir
    }

    /// The train and test IDX files of a generated set: `images(n)` gives n images' pixels
    /// (n × size × size) and labels, the training split first.
    private static func write(_ dir: String, train: Int, test: Int, size: Int, images: (Int) -> ([UInt8], [UInt8])) throws {
        for (prefix, n) in [("train", train), ("t10k", test)] {
            let (px, lb) = images(n)
            try Data(IDXFile.encode(IDXArray(dims: [n, size, size], bytes: px))).write(to: URL(fileURLWithPath: "\(dir)/\(prefix)-images-idx3-ubyte"))
            try Data(IDXFile.encode(IDXArray(dims: [n], bytes: lb))).write(to: URL(fileURLWithPath: "\(dir)/\(prefix)-labels-idx1-ubyte"))
        }
    }

    /// A small config for fast debug-build training on the generated set.
    static func config(data: String, loss: String = "ce", steps: Int = 6) -> TrainingConfig {
        var c = TrainingConfig()
        c.data = "idx:" + data
        c.encoder = "convnet-s(width=0.25)"
        c.loss = loss
        c.labelsPerClass = 10
        c.batchSize = 16
        c.labelledPerBatch = 8
        c.steps = steps
        c.threads = 1
        c.checkpointEvery = 3
        c.logEvery = 1
        c.cropPadding = 1
        c.learningRate = 0.05
        return c
    }

    static func runFolder() -> String {
        TemporaryFolders.path("losskit-run")
    }
}
