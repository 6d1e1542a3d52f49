/// A benchmark asked for something it cannot time (no windows, no steps, no pairs).
public struct BenchmarkError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// Throws unless `value` ≥ 1: every count a benchmark takes a median or a rate over.
    static func requirePositive(_ value: Int, _ name: String) throws(BenchmarkError) {
        guard value >= 1 else { throw BenchmarkError("\(name) must be at least 1, got \(value)") }
    }
}
