/// Counts of (true class, predicted class) pairs for a `classes`-way classifier.
///
/// `counts` is row-major `[classes × classes]`: `counts[t · classes + p]` is the number of
/// examples of true class `t` predicted as `p`. Accuracy is the trace over the total,
/// `Σ_c counts[c, c] / Σ counts`; the accuracy of class `c` is its recall,
/// `counts[c, c] / Σ_p counts[c, p]`.
///
///     var m = ConfusionMatrix(classes: 3)
///     m.add(truth: 2, predicted: 1)
///     m[truth: 2, predicted: 1]   // 1
public struct ConfusionMatrix: Equatable {
    public let classes: Int
    /// Row = true class, column = predicted class.
    public private(set) var counts: [Int]

    /// An all-zero matrix; traps if `classes < 1` (a programming error).
    public init(classes: Int) {
        precondition(classes >= 1, "ConfusionMatrix needs at least one class, got \(classes)")
        self.classes = classes
        self.counts = [Int](repeating: 0, count: classes * classes)
    }

    /// Counts the pairs `(truth[i], predicted[i])`; traps if the arrays differ in length or a label
    /// is outside `0..<classes` (the evaluations check labels before building one).
    public init(truth: [Int32], predicted: [Int32], classes: Int) {
        precondition(truth.count == predicted.count,
                     "ConfusionMatrix: \(truth.count) true labels but \(predicted.count) predictions")
        self.init(classes: classes)
        for i in 0..<truth.count { add(truth: truth[i], predicted: predicted[i]) }
    }

    /// Adds one example; traps if either label is outside `0..<classes`.
    public mutating func add(truth: Int32, predicted: Int32) {
        precondition(truth >= 0 && Int(truth) < classes, "ConfusionMatrix: true label \(truth) outside 0..<\(classes)")
        precondition(predicted >= 0 && Int(predicted) < classes,
                     "ConfusionMatrix: predicted label \(predicted) outside 0..<\(classes)")
        counts[Int(truth) * classes + Int(predicted)] += 1
    }

    public subscript(truth truth: Int, predicted predicted: Int) -> Int {
        counts[truth * classes + predicted]
    }

    /// Number of examples counted.
    public var total: Int { counts.reduce(0, +) }

    /// `Σ_c counts[c, c] / Σ counts`; 0 when nothing has been counted.
    public var accuracy: Double {
        let n = total
        guard n > 0 else { return 0 }
        var correct = 0
        for c in 0..<classes { correct += counts[c * classes + c] }
        return Double(correct) / Double(n)
    }

    /// Per true class, `counts[c, c] / Σ_p counts[c, p]` (recall); `.nan` for a class with no examples.
    public func perClassAccuracy() -> [Double] {
        (0..<classes).map { c in
            var row = 0
            for p in 0..<classes { row += counts[c * classes + p] }
            return row == 0 ? .nan : Double(counts[c * classes + c]) / Double(row)
        }
    }
}
