import Foundation
import LossKitData
import LossKitFormats
import XCTest

/// A tiny MNIST-layout split: `labels.count` images of `height`×`width` whose pixel bytes are
/// `(image * 31 + position * 7 + salt) % 256`, so every image and position differs.
struct IDXSplitFixture {
    let labels: [UInt8]
    let height: Int
    let width: Int
    let salt: Int

    var pixels: [UInt8] {
        let size = height * width
        return (0 ..< labels.count * size).map { k in UInt8((k / size * 31 + k % size * 7 + salt) % 256) }
    }
}

/// Writes the four standard IDX files into `folder`, gzipped or plain, with `IDXFile.encode`.
func writeIDXFolder(_ folder: String, train: IDXSplitFixture, test: IDXSplitFixture, gzip: Bool,
                    skip: Set<String> = []) throws {
    for (prefix, split) in [("train", train), ("t10k", test)] {
        let images = IDXFile.encode(IDXArray(dims: [split.labels.count, split.height, split.width], bytes: split.pixels))
        let labels = IDXFile.encode(IDXArray(dims: [split.labels.count], bytes: split.labels))
        for (name, bytes) in [("\(prefix)-images-idx3-ubyte", images), ("\(prefix)-labels-idx1-ubyte", labels)]
        where !skip.contains(name) {
            let file = gzip ? name + ".gz" : name
            try Data(gzip ? Gzip.deflateGzip(bytes) : bytes).write(to: URL(fileURLWithPath: folder + "/" + file))
        }
    }
}
