// Summaries as stable, human-readable JSON.
import Foundation

/// Writes Codable values as pretty-printed JSON with sorted keys, atomically.
public enum JSONFile {
    /// Encodes `value` and replaces `path` with it.
    public static func write(_ value: some Encodable, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let data = try encoder.encode(value)
        try AtomicFile.write(Array(data) + [0x0A], to: path)
    }
}
