// Reading CSV files (RFC 4180) with a header row: the bytes kept whole, row starts found once, cells parsed on demand.
import MLPKit
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A CSV file with a header row: column names, and cells read as numbers or text on demand.
///
/// Format (RFC 4180): fields separated by commas, rows ended by LF or CRLF. A field whose first byte is `"` is
/// quoted: it may hold commas, line breaks and doubled quotes (`""` stands for one `"`), and only spaces may follow
/// its closing quote. A UTF-8 byte-order mark and a final line break are optional, and blank lines at the end of
/// the file are not rows. Every row must have as many fields as the header; a blank line inside the table is a
/// row of one empty field. Line numbers in errors count every line break, those inside quoted fields too
/// (the header is line 1).
///
/// Storage is the file's bytes plus the byte offset where each row starts (no per-cell index), so a
/// 60,000 × 785 table costs its own size and half a megabyte. `numbers(columns:)` parses on demand, its rows
/// split across threads; the result does not depend on the thread count.
public struct CSVTable: Sendable {
    /// The file's path (or the name given to `init(bytes:path:)`), which errors name.
    public let path: String
    /// The header's names, trimmed of surrounding spaces, quotes removed.
    public let columns: [String]
    /// The bytes parsed (the header's included).
    public var byteCount: Int { bytes.count }
    /// The number of data rows (the header excluded; blank lines at the end are not rows).
    public var rowCount: Int { rowStarts.count - 1 }

    /// The whole file, byte-order mark included.
    let bytes: [UInt8]
    /// Where each data row starts, then where the last one ends (rowCount + 1 offsets). Row r is
    /// bytes[rowStarts[r] ..< rowStarts[r + 1]], its line break included.
    let rowStarts: [Int]
    /// Lines of the file before these bytes' header line's (for a stretch of a file read with its header in front:
    /// errors give the file's own line numbers).
    let linesBefore: Int

    /// Reads the CSV file at `path`; errors name it.
    public static func read(_ path: String) throws -> CSVTable {
        try CSVTable(bytes: WholeFile.read(path, kind: "a CSV file"), path: path)
    }

    /// Parses `bytes` as a CSV file called `path` (which errors name): finds its rows, reads the header and
    /// checks that every row has as many fields as the header.
    public init(bytes: [UInt8], path: String) throws {
        try self.init(bytes: bytes, path: path, linesBefore: 0)
    }

    /// Parses a stretch of the file `path` whose data rows start after its line `linesBefore + 1 + (header lines)`,
    /// given with the header's bytes in front (`CSVChunks`).
    init(bytes: [UInt8], path: String, linesBefore: Int) throws {
        self.linesBefore = linesBefore
        let start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var starts: [Int] = []
        var counts: [Int]? = nil
        var columns: [String] = []
        try bytes.withUnsafeBufferPointer { buffer in
            guard let p = buffer.baseAddress, start < buffer.count else { return }
            let end = buffer.count
            // The header is read by the quote-aware scanner. The rest is too when it holds a quote anywhere;
            // otherwise rows end at every line break and memchr finds them.
            let header = try Self.scanQuoted(p, from: start, to: end, firstLine: 1, oneRow: true, path: path)
            starts = header.starts
            guard header.next < end else { return }
            if memchr(p + header.next, Int32(Self.quote), end - header.next) == nil {
                starts.append(contentsOf: Self.lineStarts(p, from: header.next, to: end))
            } else {
                let line = linesBefore + 1 + Self.lineBreaks(p, from: 0, to: header.next)
                let rest = try Self.scanQuoted(p, from: header.next, to: end, firstLine: line, oneRow: false, path: path)
                starts.append(contentsOf: rest.starts)
                counts = header.counts + rest.counts
            }
        }
        starts.append(bytes.count)
        // Blank lines at the end are not rows.
        bytes.withUnsafeBufferPointer { buffer in
            while starts.count > 1, Self.contentEnd(buffer.baseAddress!, starts[starts.count - 2], starts.last!)
                    == starts[starts.count - 2] {
                starts.removeLast()
            }
        }
        guard starts.count > 1 else { throw MLPError("\(path) is empty") }
        bytes.withUnsafeBufferPointer { buffer in
            let p = buffer.baseAddress!
            var i = starts[0]
            let end = Self.contentEnd(p, starts[0], starts[1])
            while true {
                let (text, next) = Self.fieldBytes(p, from: i, to: end)
                columns.append(String(decoding: Self.trimmed(text), as: UTF8.self))
                if next >= end { break }
                i = next + 1
            }
        }
        guard starts.count > 2 else { throw MLPError("\(path) has a header but no rows") }
        if columns == [""] {
            throw MLPError("\(path), line 1: the header is blank; the first line must name the columns")
        }
        self.path = path
        self.bytes = bytes
        self.columns = columns
        self.rowStarts = Array(starts.dropFirst())
        try checkFieldCounts(counts.map { Array($0.dropFirst()) })
    }

    /// The index of the column called `name` (the first, if several are); the error lists the columns there are.
    public func columnIndex(named name: String) throws -> Int {
        if let index = columns.firstIndex(of: name) { return index }
        let shown = columns.prefix(20).map { "\"\($0)\"" }.joined(separator: ", ")
        let more = columns.count > 20 ? " and \(columns.count - 20) more" : ""
        throw MLPError("\(path) has no column \"\(name)\"; its columns are \(shown)\(more)")
    }

    /// The given columns of every row as Floats, row after row (rowCount × wanted.count); throws an MLPError
    /// naming the file, the line number (header = line 1), the column name and the cell text when a cell is
    /// empty or not a number, e.g. `data.csv, line 17, column "age": "abc" is not a number`.
    ///
    /// Numbers are an optional sign, digits with an optional fraction, and an optional exponent (`-1.5e3`, `.5`,
    /// `5.`), with spaces around them allowed and the field quoted or not. They are rounded to the nearest
    /// Float exactly as `Float(String)` rounds them; `nan`, `inf` and values beyond Float's range are rejected
    /// as not finite. A column may be asked for more than once.
    public func numbers(columns wanted: [Int]) throws -> [Float] {
        for column in wanted where !columns.indices.contains(column) {
            throw MLPError("\(path): column index \(column) is out of range; the file has \(columns.count) columns")
        }
        let (values, failure) = parse(columns: wanted)
        if let failure { throw cellError(failure) }
        return values
    }

    /// One column as text (quotes removed, "" unescaped; spaces kept, as RFC 4180 says they are part of a field).
    public func strings(column: Int) -> [String] {
        precondition(columns.indices.contains(column), "column \(column) of \(columns.count)")
        return bytes.withUnsafeBufferPointer { buffer in
            let p = buffer.baseAddress!
            return (0..<rowCount).map { row in
                let end = Self.contentEnd(p, rowStarts[row], rowStarts[row + 1])
                var i = rowStarts[row]
                for _ in 0..<column { i = Self.skipField(p, from: i, to: end) + 1 }
                return String(decoding: Self.fieldBytes(p, from: i, to: end).text, as: UTF8.self)
            }
        }
    }

    /// Whether every cell of the column parses as a number (a finite one, as `numbers(columns:)` requires).
    public func isNumeric(column: Int) -> Bool {
        precondition(columns.indices.contains(column), "column \(column) of \(columns.count)")
        return parse(columns: [column]).failure == nil
    }
}
