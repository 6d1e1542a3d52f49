/// An error of the plugins module — loading a library, an instance's options, a plugin's call
/// through the host-API table, `plugins check` — reported to the user as it is: the message names
/// the plugin, option, term or tensor at fault and, where there is one, the fix. The modules above
/// have their own (RunError, EvaluationError, TrainingError, BenchmarkError).
public struct HostError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
