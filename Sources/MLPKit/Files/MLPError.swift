// The one error type MLPKit throws: a message meant for a person, naming the file or setting at fault.

/// An error with a complete, human-readable message (it names the file, setting or layer involved).
public struct MLPError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What went wrong, in a sentence a user can act on.
    public let message: String
    /// The setting at fault, by its field name in MLPKit's types (`learningRate`, `batchSize`), when the error is
    /// about one setting; the message then reads "field problem". Front ends that name settings in their own words
    /// (a command line's `--learning-rate`) say `problem` after their name for it.
    public let field: String?
    /// The message without the field's name ("must be positive, got 0") when `field` is set; else the message.
    public let problem: String

    /// Creates an error carrying `message`.
    public init(_ message: String) {
        self.message = message
        field = nil
        problem = message
    }

    /// Creates an error about the setting `field`: its message is "`field` `problem`".
    public init(field: String, _ problem: String) {
        message = "\(field) \(problem)"
        self.field = field
        self.problem = problem
    }

    public var description: String { message }
}
