import Foundation
import LossKitCore
import LossKitHost

/// Small generated IDX data sets in the standard four-file layout, so training tests never need
/// the Fashion-MNIST package. Each class is a distinct blob pattern plus per-image noise and a
/// per-image random texture, so instances are distinguishable and classes learnable.
enum SyntheticData {
    static func makeFolder(train: Int = 240, test: Int = 80, size: Int = 12, classes: Int = 4, seed: UInt64 = 3) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("losskit-data-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
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
        for (prefix, n) in [("train", train), ("t10k", test)] {
            let (px, lb) = images(n)
            try Data(IDXFile.encode(IDXArray(dims: [n, size, size], bytes: px))).write(to: URL(fileURLWithPath: "\(dir)/\(prefix)-images-idx3-ubyte"))
            try Data(IDXFile.encode(IDXArray(dims: [n], bytes: lb))).write(to: URL(fileURLWithPath: "\(dir)/\(prefix)-labels-idx1-ubyte"))
        }
        return dir
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
        FileManager.default.temporaryDirectory.appendingPathComponent("losskit-run-\(UUID().uuidString)").path
    }
}
