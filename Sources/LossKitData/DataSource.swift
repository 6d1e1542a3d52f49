import LossKitFormats

/// The data set a run trains on, as the user names it after `--data`.
///
/// Accepted forms:
///
/// - `fashion-mnist`: Debian's `dataset-fashion-mnist` package in its default folder;
/// - `fashion-mnist:DIR`: the four Fashion-MNIST IDX files in `DIR`;
/// - `mnist:DIR`: MNIST's four IDX files in `DIR` (ten digit classes);
/// - `idx:DIR`: any data set in the MNIST layout: the four standard IDX file names in `DIR`,
///   one channel, with as many classes as the largest label found plus one;
/// - `cifar10:DIR`: CIFAR-10's binary version, unpacked (`DIR` may be `cifar-10-batches-bin`
///   itself or the folder that holds it).
///
/// The IDX file names are `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each plain or with `.gz` added.
///
/// Parsing and loading are separate so that a typo is reported before any file is read, and so
/// that the run's configuration can record the source as text (`description` parses back to an
/// equal value). The source also carries the facts that follow from what the data *is*: its
/// normalisation constants and whether mirroring an image keeps its class.
public struct DataSource: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        case fashionMNIST = "fashion-mnist"
        case mnist
        case idx
        case cifar10
    }

    public let kind: Kind
    /// The folder to read; `nil` only for `fashion-mnist`, meaning Debian's package folder.
    public let directory: String?

    /// The accepted spellings, as shown in error messages and help text.
    public static let acceptedForms = ["fashion-mnist", "fashion-mnist:DIR", "mnist:DIR", "idx:DIR", "cifar10:DIR"]

    public init(kind: Kind, directory: String?) {
        self.kind = kind
        self.directory = directory
    }

    public var description: String {
        directory.map { "\(kind.rawValue):\($0)" } ?? kind.rawValue
    }

    /// Parses the text after `--data`. The kind is everything before the first `:` (compared
    /// without regard to case); the rest, colons included, is the folder, taken verbatim.
    public static func parse(_ text: String) throws -> DataSource {
        let forms = acceptedForms.joined(separator: ", ")
        let trimmed = trimmingWhitespace(text)
        let kindText: Substring
        let directory: String?
        if let colon = trimmed.firstIndex(of: ":") {
            kindText = trimmed[..<colon]
            directory = String(trimmed[trimmed.index(after: colon)...])
        } else {
            kindText = trimmed[...]
            directory = nil
        }
        guard let kind = Kind(rawValue: kindText.lowercased()) else {
            let shown = trimmed.isEmpty ? "an empty data source" : "unknown data source '\(trimmed)'"
            throw DataError("--data: \(shown); expected one of \(forms)")
        }
        if let directory, directory.isEmpty {
            throw DataError("--data '\(trimmed)': the folder after ':' is empty; expected \(kind.rawValue):DIR")
        }
        if directory == nil, kind != .fashionMNIST {
            throw DataError("--data '\(trimmed)': \(kind.rawValue) needs the folder that holds its files, as \(kind.rawValue):DIR")
        }
        return DataSource(kind: kind, directory: directory)
    }

    /// Reads one split into memory. Errors are `DataError`s naming the folder and the missing or
    /// corrupt file; for `fashion-mnist` they also name the Debian package to install.
    public func load(_ split: DatasetSplit) throws -> ImageDataset {
        let dataset = try loadFiles(split)
        guard dataset.count > 0 else {
            throw DataError("\(dataset.name): the file holds no images; a \(split.rawValue) split needs at least one")
        }
        return dataset
    }

    private func loadFiles(_ split: DatasetSplit) throws -> ImageDataset {
        switch kind {
        case .fashionMNIST:
            return try FashionMNIST.load(directory: directory ?? FashionMNIST.defaultDirectory, split: split)
        case .cifar10:
            return try CIFAR10.load(directory: directory!, split: split)
        case .mnist:
            let files = try IDXFolder(directory!, dataName: "MNIST").files(split)
            return try ImageDataset.idx(images: files.images, labels: files.labels,
                                        name: "MNIST \(split.rawValue)", classNames: (0 ..< 10).map(String.init))
        case .idx:
            let folder = IDXFolder(directory!, dataName: "IDX data")
            let files = try folder.files(split)
            // Both splits must agree on the class count, or a classifier sized on the training
            // set could meet a test label it has no output for; so look at every label file.
            // The classes are 0...largest label, so one corrupt label byte would add classes:
            // every class up to the largest training label must have training images.
            let trainLabels = split == .train ? files.labels : folder.existing(IDXFolder.labelsName(.train))
            var classCount = 0
            for path in [files.labels, folder.existing(IDXFolder.labelsName(split == .train ? .test : .train))].compactMap({ $0 }) {
                classCount = max(classCount, try Self.labels(in: path).max().map { Int($0) + 1 } ?? 0)
            }
            // the files themselves first: a truncated or corrupt file is named as such, not as
            // the class gap its missing rows would look like
            let dataset = try ImageDataset.idx(images: files.images, labels: files.labels,
                                               name: "IDX \(split.rawValue) (\(directory!))",
                                               classNames: (0 ..< max(classCount, 1)).map(String.init))
            if let trainLabels {
                let labels = try Self.labels(in: trainLabels)
                let present = Set(labels), largest = Int(labels.max() ?? 0)
                let missing = (0..<largest).filter { !present.contains(UInt8($0)) }
                if !missing.isEmpty {
                    let shown = missing.prefix(5).map(String.init).joined(separator: ", ") + (missing.count > 5 ? ", … (\(missing.count) in all)" : "")
                    let at = labels.firstIndex(of: UInt8(largest)).map { " (the first at index \($0) of \(trainLabels))" } ?? ""
                    throw DataError("IDX data (\(directory!)): the training labels run up to \(largest) but no training image has class \(shown); "
                                    + "classes are 0...the largest label, so a label of \(largest)\(at) is likely corrupt")
                }
            }
            return dataset
        }
    }

    private static func labels(in path: String) throws -> [UInt8] {
        let labels = try IDXFile.read(path: path)
        guard labels.dims.count == 1 else {
            throw DataError("\(path): expected a 1-D IDX label file, found \(labels.dims.count)-D with dims \(labels.dims)")
        }
        return labels.bytes
    }

    /// The published per-channel mean and standard deviation of the training pixels scaled to
    /// 0...1, or `nil` for `idx`, whose contents are unknown until loaded: use
    /// `normalization(of:)`, which computes them instead.
    public var normalization: (mean: [Float], std: [Float])? {
        switch kind {
        case .fashionMNIST: return ([FashionMNIST.mean], [FashionMNIST.std])
        case .mnist: return ([0.1307], [0.3081])
        case .cifar10: return (CIFAR10.mean, CIFAR10.std)
        case .idx: return nil
        }
    }

    /// The normalisation to train with: the published constants where there are some, otherwise
    /// the statistics of `training` (which should be this source's training split, so that the
    /// test split is normalised with training statistics, as usual).
    public func normalization(of training: ImageDataset) -> (mean: [Float], std: [Float]) {
        normalization ?? Normalization.compute(training)
    }

    /// Whether a horizontal mirror of an image is still an image of the same class, i.e. whether
    /// random horizontal flips are a valid augmentation. Clothes and CIFAR's objects and animals
    /// are left-right symmetric as classes; digits are not (a mirrored 2, 3, 7 is not a digit),
    /// and for `idx` data nothing is known, so the safe answer is no.
    public var allowsHorizontalFlip: Bool {
        switch kind {
        case .fashionMNIST, .cifar10: return true
        case .mnist, .idx: return false
        }
    }
}

/// `text` without leading and trailing spaces, tabs and line breaks (a pasted path often has one).
private func trimmingWhitespace(_ text: String) -> String {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
    return String(text.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
}
