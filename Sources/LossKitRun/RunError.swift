/// A run that cannot be set up, read or written as asked: a setting out of range, an encoder or
/// term the plugins do not offer, a checkpoint or run folder that is not what it should be. The
/// message names the setting, file or tensor at fault and, where there is one, the fix.
public struct RunError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
