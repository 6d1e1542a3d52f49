import Foundation

/// The single error type thrown by every reader and writer in this module.
///
/// A data file that fails to load is usually fixed by a person looking at the file,
/// not by code branching on an error case, so the message carries everything they need:
/// the file path and, for a corrupt file, the byte offset and what was expected versus
/// what was found. One type with a message keeps that promise in a single place instead
/// of spreading it over an enum whose cases callers would only print anyway.
public struct DataError: Error, CustomStringConvertible, LocalizedError {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }

    // Without this, `error.localizedDescription` on Linux prints Foundation's generic
    // "The operation could not be completed" and the carefully written message is lost.
    public var errorDescription: String? { message }
}
