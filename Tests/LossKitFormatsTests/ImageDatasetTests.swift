import LossKitFormats
import LossKitTestSupport
import XCTest

final class ImageDatasetTests: TempDirTestCase {
    private func idxPair(images n: Int, labels: [UInt8], prefix: String = "", gzip: Bool = false) throws -> (String, String) {
        let pixels = (0 ..< n * 4).map { UInt8($0 % 256) }
        var img = IDXFile.encode(IDXArray(dims: [n, 2, 2], bytes: pixels))
        var lab = IDXFile.encode(IDXArray(dims: [labels.count], bytes: labels))
        if gzip { img = Gzip.deflateGzip(img); lab = Gzip.deflateGzip(lab) }
        let suffix = gzip ? ".gz" : ""
        return (try write("\(prefix)images\(suffix)", img), try write("\(prefix)labels\(suffix)", lab))
    }

    func testIDXImagesAndLabelsBecomeSingleChannelDataset() throws {
        let (images, labels) = try idxPair(images: 3, labels: [0, 2, 1])
        let ds = try ImageDataset.idx(images: images, labels: labels, name: "tiny", classNames: ["a", "b", "c"])
        XCTAssertEqual([ds.count, ds.channels, ds.height, ds.width, ds.classCount], [3, 1, 2, 2, 3])
        XCTAssertEqual(ds.labels, [0, 2, 1])
        XCTAssertEqual(ds.pixels, (0 ..< 12).map { UInt8($0) })
        XCTAssertEqual(ds.name, "tiny")
        XCTAssertEqual(ds.classNames, ["a", "b", "c"])
    }

    func testImageAndLabelCountMismatchIsReported() throws {
        let (images, labels) = try idxPair(images: 3, labels: [0, 1])
        assertThrows(DataError.self, ["images file has 3 images but labels file has 2 labels", images, labels]) {
            try ImageDataset.idx(images: images, labels: labels, name: "x", classNames: ["a", "b"])
        }
    }

    func testLabelOutOfRangeNamesFileAndIndex() throws {
        let (images, labels) = try idxPair(images: 3, labels: [0, 5, 1])
        assertThrows(DataError.self, [labels, "label 5 at index 1", "0..<3"]) {
            try ImageDataset.idx(images: images, labels: labels, name: "x", classNames: ["a", "b", "c"])
        }
    }

    func testImagesFileMustBeThreeDimensional() throws {
        let images = try write("flat", IDXFile.encode(IDXArray(dims: [2, 4], bytes: Array(repeating: 0, count: 8))))
        let (_, labels) = try idxPair(images: 2, labels: [0, 1])
        assertThrows(DataError.self, [images, "expected a 3-D IDX image file", "[2, 4]"]) {
            try ImageDataset.idx(images: images, labels: labels, name: "x", classNames: ["a", "b"])
        }
    }

    func testLabelsFileMustBeOneDimensional() throws {
        let (images, _) = try idxPair(images: 2, labels: [0, 1])
        let labels = try write("lab2d", IDXFile.encode(IDXArray(dims: [2, 1], bytes: [0, 1])))
        assertThrows(DataError.self, [labels, "expected a 1-D IDX label file"]) {
            try ImageDataset.idx(images: images, labels: labels, name: "x", classNames: ["a", "b"])
        }
    }

    func testInitRejectsInconsistentBuffers() {
        assertThrows(DataError.self, ["ds", "pixel buffer has 5 bytes", "2 images of 1x2x2 need 8"]) {
            try ImageDataset(name: "ds", count: 2, channels: 1, height: 2, width: 2, pixels: [0, 0, 0, 0, 0],
                             labels: [0, 0], classCount: 2, classNames: ["a", "b"])
        }
        assertThrows(DataError.self, ["ds", "2 images but 1 labels"]) {
            try ImageDataset(name: "ds", count: 2, channels: 1, height: 1, width: 1, pixels: [0, 0],
                             labels: [0], classCount: 2, classNames: ["a", "b"])
        }
        assertThrows(DataError.self, ["ds", "label -1 at index 1", "0..<2"]) {
            try ImageDataset(name: "ds", count: 2, channels: 1, height: 1, width: 1, pixels: [0, 0],
                             labels: [0, -1], classCount: 2, classNames: ["a", "b"])
        }
        assertThrows(DataError.self, ["ds", "classCount is 3 but 2 class names"]) {
            try ImageDataset(name: "ds", count: 1, channels: 1, height: 1, width: 1, pixels: [0],
                             labels: [0], classCount: 3, classNames: ["a", "b"])
        }
    }

    func testFashionMNISTMissingDirectoryExplainsHowToInstall() {
        let missing = dir + "/nowhere"
        assertThrows(DataError.self, ["Fashion-MNIST not found in \(missing): install it with `apt-get install dataset-fashion-mnist`, or pass --data idx:DIR (a folder with the four IDX files)"]) {
            try FashionMNIST.load(directory: missing, split: .train)
        }
    }

    func testFashionMNISTMissingFileNamesBothAcceptedNames() throws {
        try write("t10k-images-idx3-ubyte", IDXFile.encode(IDXArray(dims: [1, 2, 2], bytes: [0, 0, 0, 0])))
        assertThrows(DataError.self, ["Fashion-MNIST not found in \(dir)", "t10k-labels-idx1-ubyte.gz", "apt-get install dataset-fashion-mnist"]) {
            try FashionMNIST.load(directory: dir, split: .test)
        }
    }

    func testFashionMNISTAcceptsUnpackedAndGzippedFiles() throws {
        _ = try idxPair(images: 2, labels: [9, 0], prefix: "train-", gzip: true)
        try FileManager.default.moveItem(atPath: dir + "/train-images.gz", toPath: dir + "/train-images-idx3-ubyte.gz")
        try FileManager.default.moveItem(atPath: dir + "/train-labels.gz", toPath: dir + "/train-labels-idx1-ubyte.gz")
        _ = try idxPair(images: 1, labels: [3], prefix: "t10k-")
        try FileManager.default.moveItem(atPath: dir + "/t10k-images", toPath: dir + "/t10k-images-idx3-ubyte")
        try FileManager.default.moveItem(atPath: dir + "/t10k-labels", toPath: dir + "/t10k-labels-idx1-ubyte")

        let train = try FashionMNIST.load(directory: dir, split: .train)
        XCTAssertEqual(train.labels, [9, 0])
        XCTAssertEqual(train.classNames[9], "Ankle boot")
        let test = try FashionMNIST.load(directory: dir, split: .test)
        XCTAssertEqual(test.labels, [3])
        XCTAssertEqual(test.name, "Fashion-MNIST test")
    }

    func testRealFashionMNISTHas60000BalancedTrainingImages() throws {
        guard FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory) else {
            throw XCTSkip("\(FashionMNIST.defaultDirectory) is absent (apt-get install dataset-fashion-mnist)")
        }
        let train = try FashionMNIST.load(split: .train)
        XCTAssertEqual([train.count, train.channels, train.height, train.width, train.classCount], [60000, 1, 28, 28, 10])
        XCTAssertEqual(train.pixels.count, 60000 * 28 * 28)
        var perClass = [Int](repeating: 0, count: 10)
        for label in train.labels { perClass[Int(label)] += 1 }
        XCTAssertEqual(perClass, Array(repeating: 6000, count: 10))

        // The published normalisation constants should describe this very data.
        var sum: UInt64 = 0, sumSquares: UInt64 = 0
        train.pixels.withUnsafeBufferPointer { p in
            for v in p { sum += UInt64(v); sumSquares += UInt64(v) * UInt64(v) }
        }
        let n = Double(train.pixels.count)
        let mean = Double(sum) / n / 255
        let std = (Double(sumSquares) / n / (255 * 255) - mean * mean).squareRoot()
        XCTAssertEqual(mean, Double(FashionMNIST.mean), accuracy: 0.001)
        XCTAssertEqual(std, Double(FashionMNIST.std), accuracy: 0.001)

        let test = try FashionMNIST.load(split: .test)
        XCTAssertEqual(test.count, 10000)
    }
}
