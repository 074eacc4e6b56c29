// Reading a CSV file a stretch of rows at a time, so that a file larger than memory can be converted.
import MLPKit
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A CSV file read in stretches of whole rows of about `chunkBytes` each: every stretch is parsed as a `CSVTable`
/// with the file's header in front, so its cells, errors and line numbers are those of the file. Rows never
/// straddle two stretches, quoted line breaks included (a stretch ends at a line break outside quotes).
public final class CSVChunks {
    /// The file's path.
    public let path: String
    /// The header's bytes, line break included.
    private let header: [UInt8]
    /// Lines in the header (more than one only when a quoted name holds a line break).
    private let headerLines: Int
    private let descriptor: Int32
    private let chunkBytes: Int
    /// Bytes read but not yet handed out (the start of a row cut by the last read).
    private var carry: [UInt8] = []
    private var atEnd = false
    /// Lines handed out so far, the header's included.
    private var lines = 0

    /// Opens `path` and reads its header; errors name the file.
    public init(path: String, chunkBytes: Int = 1 << 24) throws {
        self.path = path
        self.chunkBytes = chunkBytes
        descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw MLPError("cannot open \(path): \(String(cString: strerror(errno)))") }
        var first: [UInt8] = []
        var atEnd = false
        // Read until the header row is complete (a line break outside quotes), however long it is.
        var cut: Int?
        repeat {
            let more = try Self.readChunk(descriptor, max: 1 << 16, path: path)
            atEnd = more.isEmpty
            first += more
            cut = Self.lastRowEnd(first, stoppingAtFirst: true)
        } while cut == nil && !atEnd
        let headerEnd = cut ?? first.count
        header = Array(first[(first.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0) ..< headerEnd])
        headerLines = max(1, header.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) })
        carry = Array(first[headerEnd...])
        self.atEnd = atEnd
        lines = headerLines
        guard !header.allSatisfy({ $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) else {
            close(descriptor)
            throw MLPError(header.isEmpty ? "\(path) is empty" : "\(path), line 1: the header is blank; the first line must name the columns")
        }
    }

    deinit { close(descriptor) }

    /// The next stretch of rows as a table (header in front), or nil after the last: the rows that end within
    /// `chunkBytes`, or the one row that runs longer.
    public func next() throws -> CSVTable? {
        while !atEnd && carry.count < chunkBytes { try readMore() }
        guard !carry.isEmpty else { return nil }
        var cut = Self.lastRowEnd(carry, within: min(chunkBytes, carry.count), stoppingAtFirst: false)
            ?? Self.lastRowEnd(carry, stoppingAtFirst: true)
        while cut == nil {  // a row longer than what was read: read on to its end
            if atEnd {
                cut = carry.count
            } else {
                try readMore()
                cut = Self.lastRowEnd(carry, stoppingAtFirst: true)
            }
        }
        // Blank lines are rows inside the table but not at its end: a stretch of only those takes the rows after them
        // too, and when none follow, the file has ended.
        func blank(_ end: Int) -> Bool { carry[..<end].allSatisfy { $0 == 10 || $0 == 13 } }
        while blank(cut!) {
            let rest = Array(carry[cut!...])
            if let next = Self.lastRowEnd(rest, stoppingAtFirst: true) {
                cut! += next
            } else if !atEnd {
                try readMore()
            } else if blank(carry.count) {
                carry.removeAll()
                return nil
            } else {
                cut = carry.count
            }
        }
        var bytes = header
        bytes += carry[..<cut!]
        carry.removeFirst(cut!)
        let table = try CSVTable(bytes: bytes, path: path, linesBefore: lines - headerLines)
        lines += bytes.withUnsafeBufferPointer {
            CSVTable.lineBreaks($0.baseAddress!, from: header.count, to: $0.count)
        }
        return table
    }

    /// Reads up to `chunkBytes` more bytes onto `carry` (none at the end of the file).
    private func readMore() throws {
        let more = try Self.readChunk(descriptor, max: chunkBytes, path: path)
        if more.isEmpty { atEnd = true } else { carry += more }
    }

    /// The offset after the last line break outside quotes in `bytes[0..<limit]` (the first one when
    /// `stoppingAtFirst`), nil when there is none; `bytes` starts a row. A quote toggles being inside a quoted
    /// field; a doubled quote toggles twice.
    static func lastRowEnd(_ bytes: [UInt8], within limit: Int? = nil, stoppingAtFirst: Bool) -> Int? {
        bytes.withUnsafeBufferPointer { whole -> Int? in
            let buffer = UnsafeBufferPointer(rebasing: whole[0 ..< (limit ?? whole.count)])
            guard let p = buffer.baseAddress else { return nil }
            if memchr(p, Int32(UInt8(ascii: "\"")), buffer.count) == nil {
                if stoppingAtFirst {
                    return memchr(p, Int32(UInt8(ascii: "\n")), buffer.count).map {
                        UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self) - p + 1
                    }
                }
                var i = buffer.count
                while i > 0 && p[i - 1] != UInt8(ascii: "\n") { i -= 1 }
                return i > 0 ? i : nil
            }
            var quoted = false, last: Int?
            for i in 0..<buffer.count {
                if p[i] == UInt8(ascii: "\"") { quoted.toggle() }
                else if p[i] == UInt8(ascii: "\n") && !quoted {
                    last = i + 1
                    if stoppingAtFirst { return last }
                }
            }
            return last
        }
    }

    /// Up to `max` bytes from the file (empty at its end).
    private static func readChunk(_ descriptor: Int32, max: Int, path: String) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: max) { buffer, count in
            count = 0
            while count < max {
                let n = read(descriptor, buffer.baseAddress! + count, max - count)
                if n < 0 && errno == EINTR { continue }
                if n < 0 { throw MLPError("cannot read \(path): \(String(cString: strerror(errno)))") }
                if n == 0 { break }
                count += n
            }
        }
    }
}
