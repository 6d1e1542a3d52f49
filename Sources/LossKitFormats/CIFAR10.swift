/// CIFAR-10 in its "binary version" (cifar-10-binary.tar.gz): 60,000 colour 32×32 images
/// in 10 classes, as five 10,000-image training batches and one test batch.
///
/// Each record is 3073 bytes: one label byte (0...9) then 3072 pixel bytes, 1024 red,
/// 1024 green, 1024 blue, each plane row-major 32×32. A record is therefore already one
/// CHW image, so loading is a straight copy into NCHW. Files carry no header, which makes
/// the size the only integrity check available: it must be a whole number of records.
public enum CIFAR10 {
    public typealias Split = DatasetSplit

    public static let recordSize = 1 + 3 * 32 * 32

    public static let classNames = ["airplane", "automobile", "bird", "cat", "deer",
                                    "dog", "frog", "horse", "ship", "truck"]

    /// Per-channel (R, G, B) mean and standard deviation of the training pixels scaled to 0...1.
    public static let mean: [Float] = [0.4914, 0.4822, 0.4465]
    public static let std: [Float] = [0.2470, 0.2435, 0.2616]

    public static let trainFiles = (1 ... 5).map { "data_batch_\($0).bin" }
    public static let testFile = "test_batch.bin"

    /// Loads a split from `directory`, which may be the unpacked `cifar-10-batches-bin`
    /// folder itself or the folder that contains it.
    public static func load(directory: String, split: Split) throws -> ImageDataset {
        let names = split == .train ? trainFiles : [testFile]
        for dir in [directory, directory + "/cifar-10-batches-bin"] {
            let paths = names.map { dir + "/" + $0 }
            if paths.allSatisfy(FileIO.exists) {
                return try load(files: paths, name: "CIFAR-10 \(split.rawValue)")
            }
        }
        let why = FileIO.isDirectory(directory) ? "expected \(names.joined(separator: ", "))" : "the directory does not exist"
        throw DataError("CIFAR-10 not found in \(directory): \(why) (the binary version, cifar-10-binary.tar.gz, unpacked)")
    }

    /// Loads and concatenates explicit batch files, in the order given.
    public static func load(files: [String]) throws -> ImageDataset {
        try load(files: files, name: "CIFAR-10")
    }

    static func load(files: [String], name: String) throws -> ImageDataset {
        guard !files.isEmpty else { throw DataError("CIFAR-10: no batch files given") }
        var pixels: [UInt8] = []
        var labels: [Int32] = []
        let imageSize = recordSize - 1
        for path in files {
            let raw = try FileIO.readAll(path: path)
            guard !raw.isEmpty else { throw DataError("\(path): empty file, expected CIFAR-10 records of \(recordSize) bytes") }
            let remainder = raw.count % recordSize
            guard remainder == 0 else {
                throw DataError("\(path): size \(raw.count) bytes is not a multiple of the \(recordSize)-byte CIFAR-10 record (1 label + 3072 pixels): \(raw.count / recordSize) whole records and \(remainder) bytes left over")
            }
            let n = raw.count / recordSize
            let pixelStart = pixels.count
            pixels.append(contentsOf: repeatElement(0, count: n * imageSize))
            labels.reserveCapacity(labels.count + n)
            var bad: (index: Int, value: UInt8)?
            raw.withUnsafeBytes { src in
                pixels.withUnsafeMutableBytes { dst in
                    for r in 0 ..< n {
                        let label = src[r * recordSize]
                        if label >= 10, bad == nil { bad = (r, label) }
                        labels.append(Int32(label))
                        (dst.baseAddress! + pixelStart + r * imageSize)
                            .copyMemory(from: src.baseAddress! + r * recordSize + 1, byteCount: imageSize)
                    }
                }
            }
            if let bad {
                throw DataError("\(path): record \(bad.index) at offset \(bad.index * recordSize) has label byte \(bad.value), expected 0...9")
            }
        }
        return try ImageDataset(name: name, count: labels.count, channels: 3, height: 32, width: 32,
                                pixels: pixels, labels: labels, classCount: 10, classNames: classNames)
    }
}
