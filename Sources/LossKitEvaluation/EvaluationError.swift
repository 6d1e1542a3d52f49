import LossKitCore

/// A problem with the inputs of an evaluation (kNN, linear probe, PCA): wrong shapes, label
/// counts that disagree with the number of rows, labels outside `0..<classes`, an empty set,
/// non-finite features, or a setting out of range. The message names the evaluation, the input
/// and the values involved, e.g.
/// `kNN: train has 128 columns but test has 64 (feature dimensions must match)`.
public struct EvaluationError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Input checks shared by the evaluations; each throws an `EvaluationError` prefixed with `what`.
enum EvaluationChecks {
    /// A rank-2 tensor `[rows, columns]` with at least one row and one column.
    static func matrix(_ t: Tensor, _ name: String, _ what: String) throws -> (rows: Int, columns: Int) {
        guard t.rank == 2 else {
            throw EvaluationError("\(what): \(name) must be a [rows, features] matrix, got shape \(shapeText(t.shape))")
        }
        guard t.shape[0] > 0 else { throw EvaluationError("\(what): \(name) is empty (0 rows)") }
        guard t.shape[1] > 0 else { throw EvaluationError("\(what): \(name) has 0 feature columns") }
        return (t.shape[0], t.shape[1])
    }

    /// Every element finite (NaN or infinity would make comparisons and sums meaningless).
    static func finite(_ t: Tensor, _ name: String, _ what: String) throws {
        let p = t.data
        for i in 0..<t.count where !p[i].isFinite {
            let columns = t.rank == 2 ? t.shape[1] : t.count
            throw EvaluationError("\(what): \(name) has a non-finite value (\(p[i])) at row \(i / columns), column \(i % columns)")
        }
    }

    /// `labels.count == rows` and every label in `0..<classes`.
    static func labels(_ labels: [Int32], _ name: String, rows: Int, rowsName: String, classes: Int, _ what: String) throws {
        guard labels.count == rows else {
            throw EvaluationError("\(what): \(rowsName) has \(rows) rows but \(name) has \(labels.count) labels")
        }
        for (i, l) in labels.enumerated() where l < 0 || Int(l) >= classes {
            throw EvaluationError("\(what): \(name)[\(i)] = \(l) is outside 0..<\(classes) (classes = \(classes))")
        }
    }

    static func classes(_ classes: Int, _ what: String) throws {
        guard classes >= 1 else { throw EvaluationError("\(what): classes must be at least 1, got \(classes)") }
    }
}
