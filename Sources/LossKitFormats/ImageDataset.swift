/// A labelled image classification dataset held fully in memory.
///
/// Pixels stay raw `UInt8` in NCHW order (image, channel, row, column) because that is
/// how IDX and CIFAR-10 store them, it is a quarter of the memory of `Float`, and
/// normalisation constants differ per dataset, so converting is left to the consumer.
/// The initialiser validates every invariant up front so that later code can index
/// without checks and a bad file is reported where it is loaded, not as a crash deep
/// inside training.
public struct ImageDataset: Sendable {
    public let name: String
    public let count: Int, channels: Int, height: Int, width: Int
    /// `count * channels * height * width` bytes, NCHW, raw 0...255.
    public let pixels: [UInt8]
    /// One label per image, each in `0..<classCount`.
    public let labels: [Int32]
    public let classCount: Int
    public let classNames: [String]

    public init(name: String, count: Int, channels: Int, height: Int, width: Int,
                pixels: [UInt8], labels: [Int32], classCount: Int, classNames: [String]) throws {
        guard count >= 0, channels > 0, height > 0, width > 0 else {
            throw DataError("\(name): invalid shape count=\(count) channels=\(channels) height=\(height) width=\(width); channels, height and width must be positive and count non-negative")
        }
        let (perImage, o1) = channels.multipliedReportingOverflow(by: height * width)
        let (expected, o2) = count.multipliedReportingOverflow(by: perImage)
        guard !o1, !o2, pixels.count == expected else {
            throw DataError("\(name): pixel buffer has \(pixels.count) bytes but \(count) images of \(channels)x\(height)x\(width) need \(o1 || o2 ? "more than Int.max" : String(expected))")
        }
        guard labels.count == count else {
            throw DataError("\(name): \(count) images but \(labels.count) labels")
        }
        guard classCount > 0, classNames.count == classCount else {
            throw DataError("\(name): classCount is \(classCount) but \(classNames.count) class names were given")
        }
        if let bad = firstLabelOutOfRange(labels, classCount: classCount) {
            throw DataError("\(name): label \(labels[bad]) at index \(bad) is outside 0..<\(classCount)")
        }
        self.name = name
        self.count = count
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
        self.labels = labels
        self.classCount = classCount
        self.classNames = classNames
    }

    /// Builds a single-channel dataset from an IDX image file (N×H×W) and an IDX label
    /// file (N), the MNIST layout. `classNames.count` sets the number of classes.
    public static func idx(images: String, labels: String, name: String, classNames: [String]) throws -> ImageDataset {
        let imageArray = try IDXFile.read(path: images)
        guard imageArray.dims.count == 3 else {
            throw DataError("\(images): expected a 3-D IDX image file (count x height x width), found \(imageArray.dims.count)-D with dims \(imageArray.dims)")
        }
        let labelArray = try IDXFile.read(path: labels)
        guard labelArray.dims.count == 1 else {
            throw DataError("\(labels): expected a 1-D IDX label file, found \(labelArray.dims.count)-D with dims \(labelArray.dims)")
        }
        let n = imageArray.dims[0]
        guard labelArray.dims[0] == n else {
            throw DataError("images file has \(n) images but labels file has \(labelArray.dims[0]) labels (images: \(images), labels: \(labels))")
        }
        let classCount = classNames.count
        let converted = labelArray.bytes.withUnsafeBufferPointer { src in
            [Int32](unsafeUninitializedCapacity: src.count) { dst, initialized in
                for i in 0 ..< src.count { dst[i] = Int32(src[i]) }
                initialized = src.count
            }
        }
        // Checked here as well as in init so the message can name the labels file.
        if let bad = firstLabelOutOfRange(converted, classCount: classCount) {
            throw DataError("\(labels): label \(converted[bad]) at index \(bad) (byte offset \(4 + 4 + bad)) is outside 0..<\(classCount)")
        }
        return try ImageDataset(name: name, count: n, channels: 1, height: imageArray.dims[1], width: imageArray.dims[2],
                                pixels: imageArray.bytes, labels: converted, classCount: classCount, classNames: classNames)
    }
}

func firstLabelOutOfRange(_ labels: [Int32], classCount: Int) -> Int? {
    labels.withUnsafeBufferPointer { p in
        let limit = UInt32(truncatingIfNeeded: min(classCount, Int(Int32.max)))
        // One unsigned compare catches negatives too.
        for i in 0 ..< p.count where UInt32(bitPattern: p[i]) >= limit { return i }
        return nil
    }
}
