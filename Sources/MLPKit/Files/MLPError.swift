// The one error type MLPKit throws: a message meant for a person, naming the file or option at fault.

/// An error with a complete, human-readable message (it names the file, option or layer involved).
public struct MLPError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, in a sentence a user can act on.
    public let message: String

    /// Creates an error carrying `message`.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
