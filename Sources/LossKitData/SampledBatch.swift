/// The rows of one training step, as indices into the training set.
///
/// Rows are in draw order: first the labelled rows, then the unlabelled ones. Unlabelled rows
/// are marked, not dropped, because the unsupervised criteria train on them and some (NCE's
/// memory bank) need each row's data-set index. An unlabelled row may happen to be a labelled
/// image; it is still marked unlabelled, since it was drawn for the unsupervised criteria and
/// the supervised loss must count each labelled draw exactly once.
public struct SampledBatch: Equatable, Sendable {
    /// Data-set index of each row.
    public let indices: [Int]
    /// Whether each row's label may be used by the supervised loss.
    public let labelled: [Bool]

    public init(indices: [Int], labelled: [Bool]) {
        precondition(indices.count == labelled.count, "SampledBatch: \(indices.count) indices but \(labelled.count) labelled flags")
        self.indices = indices
        self.labelled = labelled
    }

    public var count: Int { indices.count }
    public var labelledCount: Int { labelled.reduce(0) { $0 + ($1 ? 1 : 0) } }
}
