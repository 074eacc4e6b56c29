// Finding a CSV file's rows and line numbers, and checking that every row has as many fields as the header.
import MLPKit
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension CSVTable {
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
        bytes.withUnsafeBufferPointer { linesBefore + 1 + Self.lineBreaks($0.baseAddress!, from: 0, to: offset) }
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
