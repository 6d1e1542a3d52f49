/// An error the host reports to the user as it is: the message names the file, flag, term or
/// tensor at fault and, where there is one, the fix. Every part of the host throws it.
public struct HostError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
