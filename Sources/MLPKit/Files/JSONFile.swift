// Summaries and records as stable, human-readable JSON: the one encoder setup.
import Foundation

/// Codable values as JSON with sorted keys, unescaped slashes and non-finite numbers as "inf", "-inf" or "nan":
/// pretty-printed in files and on screens, compact inside other files' metadata.
public enum JSONFile {
    /// `value` as JSON text: pretty-printed, or on one line when `compact`.
    public static func text(_ value: some Encodable, compact: Bool = false) throws -> String {
        String(decoding: try encoded(value, compact: compact), as: UTF8.self)
    }

    /// Encodes `value` and replaces `path` with it (pretty-printed, with a final newline).
    public static func write(_ value: some Encodable, to path: String) throws {
        try AtomicFile.write(Array(try encoded(value, compact: false)) + [0x0A], to: path)
    }

    private static func encoded(_ value: some Encodable, compact: Bool) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = compact ? [.sortedKeys, .withoutEscapingSlashes]
            : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf",
                                                                      negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(value)
    }
}
