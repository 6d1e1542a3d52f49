/// Which half of a dataset with a fixed train/test partition to load.
///
/// Fashion-MNIST and CIFAR-10 both ship the partition in their file names, so the split
/// is a choice of files, not a random division; one shared type (also reachable as
/// `FashionMNIST.Split` and `CIFAR10.Split`) keeps call sites uniform across datasets.
public enum DatasetSplit: String, Sendable, CaseIterable {
    case train
    case test
}
