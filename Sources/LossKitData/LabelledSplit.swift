import LossKitCore
import LossKitFormats

/// Which training images keep their label in a semi-supervised run (`--labels-per-class N`).
///
/// Semi-supervised experiments are compared at a fixed label budget, "100 labels per class",
/// so the split takes exactly `perClass` images of every class, each class's subset drawn
/// uniformly at random. The draw uses only the seeded xoshiro256** generator and integer
/// arithmetic, so the same labels and seed give the same indices on every machine and thread
/// count, and a run can be reproduced from its recorded seed.
///
/// This type only names the labelled images. Every training image, labelled or not, remains
/// in the unlabelled pool that the unsupervised criteria see (see `BatchSampler`).
public struct LabelledSplit: Equatable, Sendable {
    /// Indices into the training set, sorted ascending, without repeats.
    public let labelledIndices: [Int]
    /// The per-class budget this split was drawn with; `nil` when every image is labelled.
    public let perClass: Int?

    public init(labelledIndices: [Int], perClass: Int?) {
        self.labelledIndices = labelledIndices
        self.perClass = perClass
    }

    /// Draws the split.
    ///
    /// - Parameters:
    ///   - labels: the training labels, one per image, each in `0..<classes`.
    ///   - classes: the number of classes (`ImageDataset.classCount`).
    ///   - perClass: images to label in each class; `nil` labels every image (fully supervised).
    ///     Zero is allowed and labels none (purely unsupervised training).
    ///   - seed: the generator seed. Classes are visited in order 0, 1, ..., and for each a
    ///     partial Fisher–Yates shuffle of that class's indices (in data-set order) picks
    ///     `perClass` of them, all from one generator seeded with `seed`.
    /// - Throws: `DataError` if `perClass` is negative, a label is out of range, or a class has
    ///   fewer than `perClass` images.
    public static func choose(labels: [Int32], classes: Int, perClass: Int?, seed: UInt64) throws -> LabelledSplit {
        guard classes > 0 else {
            throw DataError("labelled split: the data set must have at least one class, got \(classes)")
        }
        var members = [[Int]](repeating: [], count: classes)
        for (i, label) in labels.enumerated() {
            guard label >= 0, Int(label) < classes else {
                throw DataError("labelled split: label \(label) of image \(i) is outside 0..<\(classes)")
            }
            members[Int(label)].append(i)
        }
        guard let perClass else {
            return LabelledSplit(labelledIndices: Array(labels.indices), perClass: nil)
        }
        guard perClass >= 0 else {
            throw DataError("--labels-per-class must be zero or more, got \(perClass)")
        }
        // Check every class before drawing, so the message names the first short class.
        for (c, list) in members.enumerated() where list.count < perClass {
            throw DataError("class \(c) has only \(list.count) images, fewer than --labels-per-class \(perClass)")
        }
        let random = RandomGenerator(seed: seed)
        var chosen: [Int] = []
        chosen.reserveCapacity(perClass * classes)
        for var list in members {
            // Partial Fisher–Yates: after step k, list[0...k] is a uniform k+1-subset in random order.
            for k in 0 ..< perClass {
                list.swapAt(k, k + random.below(list.count - k))
            }
            chosen.append(contentsOf: list[0 ..< perClass])
        }
        chosen.sort()
        return LabelledSplit(labelledIndices: chosen, perClass: perClass)
    }

    /// The number of labelled images.
    public var count: Int { labelledIndices.count }

    /// A mask over the training set: `true` at the labelled indices.
    public func mask(datasetSize: Int) -> [Bool] {
        var mask = [Bool](repeating: false, count: datasetSize)
        for i in labelledIndices { mask[i] = true }
        return mask
    }
}
