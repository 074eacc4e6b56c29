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
    /// The number of data rows (the header excluded; blank lines at the end are not rows).
    public var rowCount: Int { rowStarts.count - 1 }

    /// The whole file, byte-order mark included.
    let bytes: [UInt8]
    /// Where each data row starts, then where the last one ends (rowCount + 1 offsets). Row r is
    /// bytes[rowStarts[r] ..< rowStarts[r + 1]], its line break included.
    let rowStarts: [Int]

    /// Reads the CSV file at `path`; errors name it.
    public static func read(_ path: String) throws -> CSVTable {
        try CSVTable(bytes: readWholeFile(path), path: path)
    }

    /// Parses `bytes` as a CSV file called `path` (which errors name): finds its rows, reads the header and
    /// checks that every row has as many fields as the header.
    public init(bytes: [UInt8], path: String) throws {
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
            if memchr(p + header.next, Int32(quote), end - header.next) == nil {
                starts.append(contentsOf: Self.lineStarts(p, from: header.next, to: end))
            } else {
                let line = 1 + Self.lineBreaks(p, from: 0, to: header.next)
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

// MARK: - Reading and finding rows

/// Up to `count` bytes from `descriptor`, fewer only at the end of the file.
private func readUpTo(_ count: Int, from descriptor: Int32, path: String) throws -> [UInt8] {
    var failure: Int32 = 0
    let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, done in
        done = 0
        while done < count {
            let n = read(descriptor, buffer.baseAddress! + done, count - done)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { failure = errno; break }
            if n == 0 { break }
            done += n
        }
    }
    if failure != 0 { throw MLPError("cannot read \(path): \(String(cString: strerror(failure)))") }
    return bytes
}

private let comma = UInt8(ascii: ","), quote = UInt8(ascii: "\""), newline = UInt8(ascii: "\n")
private let carriageReturn = UInt8(ascii: "\r"), space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")

extension CSVTable {
    /// Reads the file at `path` whole (a regular file in one read; a pipe until it ends).
    static func readWholeFile(_ path: String) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw MLPError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw MLPError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw MLPError("cannot read \(path): it is a folder, not a CSV file") }
        // One byte more than the size, so that a file read whole shows its end without a second read.
        let size = max(Int(info.st_size), 0) + 1
        var bytes = try readUpTo(size, from: descriptor, path: path)
        while bytes.count >= size {  // the file grew, or is a pipe
            let more = try readUpTo(1 << 16, from: descriptor, path: path)
            bytes += more
            if more.count < 1 << 16 { break }
        }
        return bytes
    }

    /// The offsets after each line break in p[from..<end] that starts another line, `from` first: the row starts
    /// of a stretch with no quotes.
    static func lineStarts(_ p: UnsafePointer<UInt8>, from: Int, to end: Int) -> [Int] {
        var starts = [from]
        var i = from
        while i < end, let found = memchr(p + i, Int32(newline), end - i) {
            i = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - p + 1
            if i < end { starts.append(i) }
        }
        return starts
    }

    /// Finds the rows of p[from..<end] keeping track of quoted fields (only the first row when `oneRow`):
    /// where each starts, how many fields it has, and where scanning stopped. Throws on a quoted field that is
    /// never closed or is followed by text; `firstLine` is the line number at `from`.
    static func scanQuoted(
        _ p: UnsafePointer<UInt8>, from: Int, to end: Int, firstLine: Int, oneRow: Bool, path: String
    ) throws -> (starts: [Int], counts: [Int], next: Int) {
        var starts = [from], counts: [Int] = []
        var line = firstLine, fields = 1, atFieldStart = true
        var i = from
        while i < end {
            let byte = p[i]
            if byte == quote && atFieldStart {
                let openLine = line
                i += 1
                while true {
                    guard i < end else {
                        throw MLPError(
                            "\(path), line \(openLine): a quoted field is never closed (its closing \" is missing)")
                    }
                    if p[i] == quote {
                        if i + 1 < end && p[i + 1] == quote { i += 2; continue }
                        i += 1
                        break
                    }
                    if p[i] == newline { line += 1 }
                    i += 1
                }
                while i < end && (p[i] == space || p[i] == tab) { i += 1 }
                let endsField = i == end || p[i] == comma || p[i] == newline
                    || (p[i] == carriageReturn && (i + 1 == end || p[i + 1] == newline))
                guard endsField else {
                    throw MLPError("\(path), line \(line): text after the closing quote of a quoted field "
                                   + "(a quote inside a quoted field is written as two, \"\")")
                }
                atFieldStart = false
                continue
            }
            atFieldStart = false
            if byte == comma {
                fields += 1
                atFieldStart = true
            } else if byte == newline {
                counts.append(fields)
                line += 1
                i += 1
                if oneRow { return (starts, counts, i) }
                if i < end { starts.append(i) }
                fields = 1
                atFieldStart = true
                continue
            }
            i += 1
        }
        if counts.count < starts.count { counts.append(fields) }
        return (starts, counts, end)
    }

    /// Where row content ends: `end` less a final LF or CRLF (or a lone CR at the end of the file).
    @inline(__always)
    static func contentEnd(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int {
        var e = end
        if e > start && p[e - 1] == newline { e -= 1 }
        if e > start && p[e - 1] == carriageReturn { e -= 1 }
        return e
    }

    /// The number of line breaks in p[from..<end].
    static func lineBreaks(_ p: UnsafePointer<UInt8>, from: Int, to end: Int) -> Int {
        count(newline, p, from: from, to: end)
    }

    /// The line number (header = 1) of byte `offset`.
    func line(at offset: Int) -> Int {
        bytes.withUnsafeBufferPointer { 1 + Self.lineBreaks($0.baseAddress!, from: 0, to: offset) }
    }

    /// How many chunks of rows the work is cut into: one for small tables, else about a megabyte each (64 at
    /// most), so that threads share the work whatever their number.
    func chunkCount() -> Int {
        min(max(bytes.count >> 20, 1), 64, max(rowCount, 1))
    }

    /// The rows of chunk `chunk` out of `chunks`.
    static func chunk(_ chunk: Int, of chunks: Int, rows: Int) -> Range<Int> {
        (rows * chunk / chunks) ..< (rows * (chunk + 1) / chunks)
    }

    /// Checks that every data row has as many fields as the header. `counts` holds each row's count where the
    /// scanner found them (a file with quotes); otherwise commas are counted, in parallel.
    func checkFieldCounts(_ counts: [Int]?) throws {
        let expected = columns.count
        let chunks = chunkCount()
        var bad = [Int?](repeating: nil, count: chunks)
        bytes.withUnsafeBufferPointer { buffer in
            rowStarts.withUnsafeBufferPointer { starts in
                bad.withUnsafeMutableBufferPointer { bad in
                    let shared = UncheckedSendable(value: (buffer.baseAddress!, starts, bad))
                    forEachWorker(chunks) { chunk in
                        let (p, starts, bad) = shared.value
                        for row in Self.chunk(chunk, of: chunks, rows: starts.count - 1) {
                            let count = counts?[row] ?? Self.commas(p, from: starts[row], to: starts[row + 1]) + 1
                            if count != expected { bad[chunk] = row; return }
                        }
                    }
                }
            }
        }
        guard let row = bad.lazy.compactMap({ $0 }).first else { return }
        let (count, blank) = bytes.withUnsafeBufferPointer { buffer in
            let p = buffer.baseAddress!
            return (counts?[row] ?? Self.commas(p, from: rowStarts[row], to: rowStarts[row + 1]) + 1,
                    Self.contentEnd(p, rowStarts[row], rowStarts[row + 1]) == rowStarts[row])
        }
        let place = "\(path), line \(line(at: rowStarts[row]))"
        let header = "the header has \(expected) field\(expected == 1 ? "" : "s")"
        if blank { throw MLPError("\(place) is blank, but \(header)") }
        throw MLPError("\(place) has \(count) field\(count == 1 ? "" : "s"), but \(header)")
    }

    /// The number of commas in p[from..<end].
    static func commas(_ p: UnsafePointer<UInt8>, from: Int, to end: Int) -> Int {
        count(comma, p, from: from, to: end)
    }

    /// The number of bytes equal to `byte` in p[from..<end], 8 at a time: in `word ^ pattern` the matching bytes
    /// are the zero ones, and the expression below sets the top bit of exactly those.
    static func count(_ byte: UInt8, _ p: UnsafePointer<UInt8>, from: Int, to end: Int) -> Int {
        let pattern = UInt64(byte) &* 0x0101_0101_0101_0101, low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        var count = 0, i = from
        while end - i >= 8 {
            let x = UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self) ^ pattern
            count &+= (~(((x & low7) &+ low7) | x | low7)).nonzeroBitCount
            i += 8
        }
        while i < end {
            if p[i] == byte { count &+= 1 }
            i += 1
        }
        return count
    }
}

// MARK: - Fields

extension CSVTable {
    /// Where the field starting at `from` ends (at its comma, or `end`).
    @inline(__always)
    static func skipField(_ p: UnsafePointer<UInt8>, from: Int, to end: Int) -> Int {
        var i = from
        if i < end && p[i] == quote {
            i += 1
            while i < end {
                if p[i] == quote {
                    if i + 1 < end && p[i + 1] == quote { i += 2; continue }
                    i += 1
                    break
                }
                i += 1
            }
        }
        while i < end && p[i] != comma { i += 1 }
        return i
    }

    /// The text of the field starting at `from` (quotes removed and `""` unescaped) and where it ends.
    static func fieldBytes(_ p: UnsafePointer<UInt8>, from: Int, to end: Int) -> (text: [UInt8], next: Int) {
        guard from < end && p[from] == quote else {
            let next = skipField(p, from: from, to: end)
            return (Array(UnsafeBufferPointer(start: p + from, count: next - from)), next)
        }
        var text: [UInt8] = []
        var i = from + 1
        while i < end {
            if p[i] == quote {
                if i + 1 < end && p[i + 1] == quote { text.append(quote); i += 2; continue }
                i += 1
                break
            }
            text.append(p[i])
            i += 1
        }
        while i < end && p[i] != comma { i += 1 }
        return (text, i)
    }

    /// `text` without the spaces and tabs around it.
    static func trimmed(_ text: [UInt8]) -> ArraySlice<UInt8> {
        var slice = text[...]
        while let first = slice.first, first == space || first == tab { slice.removeFirst() }
        while let last = slice.last, last == space || last == tab { slice.removeLast() }
        return slice
    }
}

// MARK: - Numbers

/// Where `numbers(columns:)` met a cell that is not a number: its row, column and byte offset.
struct CellFailure {
    let row: Int
    let column: Int
    let offset: Int
}

/// 10^0 … 10^22, each exact as a Double (5^22 < 2^53), so each product below is exact.
private let doublePowersOfTen: [Double] = (0...22).reduce(into: []) { powers, k in
    powers.append(k == 0 ? 1 : powers[k - 1] * 10)
}
/// 10^0 … 10^10, each exact as a Float (5^10 < 2^24).
private let floatPowersOfTen: [Float] = doublePowersOfTen[0...10].map { Float(exactly: $0)! }

extension CSVTable {
    /// The given columns of every row as Floats, row after row, and the first cell that is not a number, if any
    /// (the values are then incomplete).
    func parse(columns wanted: [Int]) -> (values: [Float], failure: CellFailure?) {
        let width = wanted.count
        let rows = rowCount
        guard width > 0 else { return ([], nil) }
        // slot[c]: where column c goes in an output row (its first request), or -1; repeats are copied after.
        var slot = [Int](repeating: -1, count: columns.count)
        var repeats: [(from: Int, to: Int)] = []
        for (position, column) in wanted.enumerated() {
            if slot[column] < 0 { slot[column] = position } else { repeats.append((slot[column], position)) }
        }
        let last = wanted.max()!
        let chunks = chunkCount()
        var failures = [CellFailure?](repeating: nil, count: chunks)
        let values = [Float](unsafeUninitializedCapacity: rows * width) { output, initialized in
            bytes.withUnsafeBufferPointer { buffer in
                rowStarts.withUnsafeBufferPointer { starts in
                    slot.withUnsafeBufferPointer { slot in
                        failures.withUnsafeMutableBufferPointer { failures in
                            let count = buffer.count
                            let shared = UncheckedSendable(value: (buffer.baseAddress!, starts, slot, output, failures))
                            forEachWorker(chunks) { chunk in
                                let (p, starts, slot, output, failures) = shared.value
                                failures[chunk] = Self.parseRows(
                                    p, count: count, starts: starts, rows: Self.chunk(chunk, of: chunks, rows: rows),
                                    slot: slot,
                                    last: last, repeats: repeats, into: output.baseAddress!, width: width)
                            }
                        }
                    }
                }
            }
            // Float has no invalid bit patterns; after a failure the unwritten rest is discarded unread.
            initialized = rows * width
        }
        return (values, failures.lazy.compactMap { $0 }.first)
    }

    /// Parses `rows` of the `count` bytes at `p` into output rows of `width` Floats at `output` (row r at
    /// r × width); returns the first cell that failed, if any (the rows after it are left unwritten).
    static func parseRows(
        _ p: UnsafePointer<UInt8>, count: Int, starts: UnsafeBufferPointer<Int>, rows: Range<Int>,
        slot: UnsafeBufferPointer<Int>, last: Int, repeats: [(from: Int, to: Int)],
        into output: UnsafeMutablePointer<Float>, width: Int
    ) -> CellFailure? {
        floatPowersOfTen.withUnsafeBufferPointer { floatPowers in
            doublePowersOfTen.withUnsafeBufferPointer { doublePowers in
                for row in rows {
                    let out = output + row * width
                    let end = contentEnd(p, starts[row], starts[row + 1])
                    var i = starts[row]
                    var column = 0
                    while true {
                        let position = slot[column]
                        if position >= 0 {
                            var (value, next) = (Float(0), -1)
                            if i + 8 <= count, let short = shortInteger(p, at: i, end: end) {
                                (value, next) = short
                            } else {
                                (value, next) = parseNumber(p, from: i, to: end, floatPowers, doublePowers)
                                if next < 0 || !value.isFinite {
                                    // Not a plain number: a quoted one, or no number at all.
                                    guard let quoted = quotedNumber(p, at: i, end: end, floatPowers, doublePowers)
                                    else { return CellFailure(row: row, column: column, offset: i) }
                                    (value, next) = quoted
                                }
                            }
                            out[position] = value
                            i = next
                        } else {
                            i = skipField(p, from: i, to: end)
                        }
                        if column == last { break }
                        column += 1
                        i += 1
                    }
                    for (from, to) in repeats { out[to] = out[from] }
                }
                return nil
            }
        }
    }

    /// The common cell, 1 to 7 digits then a comma or the row's `end`, read 8 bytes at once (p[i ..< i + 8]
    /// must be readable): its value (exact, below 2^24) and where it ends; nil for anything else.
    @inline(__always)
    static func shortInteger(_ p: UnsafePointer<UInt8>, at i: Int, end: Int) -> (Float, Int)? {
        let word = UInt64(littleEndian: UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
        // A byte is a digit when its high nibble is 3 and its low nibble under 10 (adding 6 keeps the high
        // nibble 3). Bytes are in memory order from the low end; a carry only reaches bytes past a non-digit.
        let highNibbles: UInt64 = 0xF0F0_F0F0_F0F0_F0F0, threes: UInt64 = 0x3030_3030_3030_3030
        let notDigits = ((word & highNibbles) ^ threes) | (((word &+ 0x0606_0606_0606_0606) & highNibbles) ^ threes)
        let digits = notDigits.trailingZeroBitCount >> 3
        guard digits > 0 && digits < 8 && i + digits <= end else { return nil }
        guard i + digits == end || (word >> UInt64(digits << 3)) & 0xFF == UInt64(comma) else { return nil }
        // Shift the digits to the top, zeros (leading zeros of the number) below, then combine pairs, quads, eights.
        var v = (word &- threes) << UInt64((8 - digits) << 3)
        v = (v &* 10 &+ (v >> 8)) & 0x00FF_00FF_00FF_00FF
        v = (v &* 100 &+ (v >> 16)) & 0x0000_FFFF_0000_FFFF
        v = (v &* 10000 &+ (v >> 32)) & 0xFFFF_FFFF
        return (Float(v), i + digits)
    }

    /// The value of the quoted field at `i` when it holds a finite number (spaces around it allowed, inside the
    /// quotes and after them), and where the field ends; nil otherwise.
    static func quotedNumber(
        _ p: UnsafePointer<UInt8>, at i: Int, end: Int,
        _ floatPowers: UnsafeBufferPointer<Float>, _ doublePowers: UnsafeBufferPointer<Double>
    ) -> (Float, Int)? {
        guard i < end && p[i] == quote, let found = memchr(p + i + 1, Int32(quote), end - i - 1) else { return nil }
        let close = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - p
        let (value, next) = parseNumber(p, from: i + 1, to: close, floatPowers, doublePowers)
        guard next == close && value.isFinite else { return nil }
        var fieldEnd = close + 1
        while fieldEnd < end && (p[fieldEnd] == space || p[fieldEnd] == tab) { fieldEnd += 1 }
        guard fieldEnd == end || p[fieldEnd] == comma else { return nil }
        return (value, fieldEnd)
    }

    /// The value of `text` when it is a number, spaces around it allowed (±infinity beyond Float's range).
    static func plainNumber(_ text: [UInt8]) -> Float? {
        text.withUnsafeBufferPointer { buffer -> Float? in
            guard let p = buffer.baseAddress else { return nil }
            let (value, next) = floatPowersOfTen.withUnsafeBufferPointer { floatPowers in
                doublePowersOfTen.withUnsafeBufferPointer { doublePowers in
                    parseNumber(p, from: 0, to: buffer.count, floatPowers, doublePowers)
                }
            }
            return next == buffer.count ? value : nil
        }
    }

    /// Parses a number at p[from...], spaces around it allowed, up to a comma or `end`: the value (±infinity
    /// beyond Float's range) and where it stopped (at the comma or `end`), or next = -1 when the text is not a
    /// number. Rounds as `Float(String)` does: exactly, to nearest even.
    @inline(__always)
    static func parseNumber(
        _ p: UnsafePointer<UInt8>, from: Int, to end: Int,
        _ floatPowers: UnsafeBufferPointer<Float>, _ doublePowers: UnsafeBufferPointer<Double>
    ) -> (value: Float, next: Int) {
        var i = from
        while i < end && (p[i] == space || p[i] == tab) { i += 1 }
        let textStart = i
        var negative = false
        if i < end && (p[i] == UInt8(ascii: "-") || p[i] == UInt8(ascii: "+")) {
            negative = p[i] == UInt8(ascii: "-")
            i += 1
        }
        // mantissa: the first 19 significant digits (fits a UInt64); exponent: the power of ten to scale it by.
        var mantissa: UInt64 = 0, significant = 0, digits = 0, exponent = 0
        while i < end {
            let digit = p[i] &- UInt8(ascii: "0")
            if digit >= 10 { break }
            if mantissa != 0 || digit != 0 {
                if significant < 19 { mantissa = mantissa &* 10 &+ UInt64(digit) } else { exponent += 1 }
                significant += 1
            }
            digits += 1
            i += 1
        }
        if i < end && p[i] == UInt8(ascii: ".") {
            i += 1
            while i < end {
                let digit = p[i] &- UInt8(ascii: "0")
                if digit >= 10 { break }
                if mantissa != 0 || digit != 0 {
                    if significant < 19 { mantissa = mantissa &* 10 &+ UInt64(digit); exponent -= 1 }
                    significant += 1
                } else {
                    exponent -= 1
                }
                digits += 1
                i += 1
            }
        }
        guard digits > 0 else { return (0, -1) }
        if i < end && (p[i] | 0x20) == UInt8(ascii: "e") {
            i += 1
            var negativeExponent = false
            if i < end && (p[i] == UInt8(ascii: "-") || p[i] == UInt8(ascii: "+")) {
                negativeExponent = p[i] == UInt8(ascii: "-")
                i += 1
            }
            var written = 0, exponentDigits = 0
            while i < end {
                let digit = p[i] &- UInt8(ascii: "0")
                if digit >= 10 { break }
                if written < 100_000 { written = written * 10 + Int(digit) }
                exponentDigits += 1
                i += 1
            }
            guard exponentDigits > 0 else { return (0, -1) }
            exponent += negativeExponent ? -written : written
        }
        let textEnd = i
        while i < end && (p[i] == space || p[i] == tab) { i += 1 }
        guard i == end || p[i] == comma else { return (0, -1) }

        var value: Float
        if mantissa == 0 {
            value = 0
        } else if mantissa < 1 << 24 && exponent >= -10 && exponent <= 10 {
            // Exact mantissa and power of ten, so one multiply or divide rounds correctly.
            let m = Float(mantissa)
            value = exponent >= 0 ? m * floatPowers[exponent] : m / floatPowers[-exponent]
        } else if let rounded = roundedViaDouble(mantissa, exponent, significant > 19, doublePowers) {
            value = rounded
        } else {
            // Rare (a tie within the Double estimate's error, or an exponent beyond 10^±22): the library.
            let text = String(decoding: UnsafeBufferPointer(start: p + textStart, count: textEnd - textStart),
                              as: UTF8.self)
            guard let parsed = Float(text) else { return (0, -1) }
            return (parsed, i)
        }
        return (negative ? -value : value, i)
    }

    /// mantissa × 10^exponent rounded to a Float, when a Double estimate settles it: the estimate is within
    /// 2^-51 of the true value relatively (one rounding converting the mantissa, one scaling by an exact power of
    /// ten, and under 10^-18 more when digits were dropped), so when no Float rounding boundary — the midpoint
    /// between two adjacent Floats — lies that close to it, the true value rounds to the same Float. nil when
    /// one does (the caller then asks the library).
    @inline(__always)
    static func roundedViaDouble(
        _ mantissa: UInt64, _ exponent: Int, _ dropped: Bool, _ powers: UnsafeBufferPointer<Double>
    ) -> Float? {
        guard exponent >= -22 && exponent <= 22 else { return nil }
        let m = Double(mantissa)
        let estimate = exponent >= 0 ? m * powers[exponent] : m / powers[-exponent]
        let nearest = Float(estimate)
        guard nearest.isFinite && nearest < .greatestFiniteMagnitude else { return nil }
        // Exact when nothing was rounded: mantissa and product both below 2^53.
        if !dropped && mantissa < 1 << 53 && exponent >= 0 && estimate < 9_007_199_254_740_992 { return nearest }
        let margin = estimate * 0x1p-51
        let below = (Double(nearest) + Double(nearest.nextDown)) / 2
        let above = (Double(nearest) + Double(nearest.nextUp)) / 2
        guard estimate - below > margin && above - estimate > margin else { return nil }
        return nearest
    }

    /// The error for a cell that `numbers(columns:)` could not read.
    func cellError(_ failure: CellFailure) -> MLPError {
        let text = bytes.withUnsafeBufferPointer { buffer in
            let end = Self.contentEnd(buffer.baseAddress!, rowStarts[failure.row], rowStarts[failure.row + 1])
            return Self.fieldBytes(buffer.baseAddress!, from: failure.offset, to: end).text
        }
        let place = "\(path), line \(line(at: failure.offset)), column \"\(columns[failure.column])\""
        let content = Self.trimmed(text)
        if content.isEmpty { return MLPError("\(place): the cell is empty") }
        var shown = String(decoding: text, as: UTF8.self)
        if shown.count > 40 { shown = shown.prefix(40) + "…" }
        var word = String(decoding: content, as: UTF8.self).lowercased()
        if word.hasPrefix("-") || word.hasPrefix("+") { word.removeFirst() }
        if ["nan", "inf", "infinity"].contains(word) || Self.plainNumber(Array(content))?.isFinite == false {
            return MLPError("\(place): \"\(shown)\" is not a finite number")
        }
        return MLPError("\(place): \"\(shown)\" is not a number")
    }
}
