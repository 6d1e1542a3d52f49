/// Fashion-MNIST (Zalando): 70,000 grayscale 28×28 images of clothing in 10 classes,
/// 60,000 for training and 10,000 for test, distributed as four IDX files that are a
/// drop-in replacement for MNIST's. Debian's `dataset-fashion-mnist` installs the
/// gzipped originals in `defaultDirectory`; unpacked copies are accepted too.
public enum FashionMNIST {
    public typealias Split = DatasetSplit

    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"

    /// Label i is `classNames[i]`, in the order published with the dataset.
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// Mean and standard deviation of the training pixels scaled to 0...1, the values
    /// commonly used to normalise inputs to roughly zero mean and unit variance.
    public static let mean: Float = 0.2860, std: Float = 0.3530

    public static func load(directory: String = defaultDirectory, split: Split) throws -> ImageDataset {
        let prefix = split == .train ? "train" : "t10k"
        let images = try locate("\(prefix)-images-idx3-ubyte", in: directory)
        let labels = try locate("\(prefix)-labels-idx1-ubyte", in: directory)
        return try ImageDataset.idx(images: images, labels: labels,
                                    name: "Fashion-MNIST \(split.rawValue)", classNames: classNames)
    }

    private static func locate(_ base: String, in directory: String) throws -> String {
        for candidate in [base, base + ".gz"] {
            let path = directory + "/" + candidate
            if FileIO.exists(path) { return path }
        }
        let why = FileIO.isDirectory(directory)
            ? "neither \(base) nor \(base).gz is there"
            : "the directory does not exist"
        throw DataError("Fashion-MNIST not found in \(directory): install it with `apt-get install dataset-fashion-mnist`, or pass --data idx:DIR (a folder with the four IDX files) (\(why))")
    }
}
