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

    /// The next stretch of rows as a table (header in front), or nil after the last.
    public func next() throws -> CSVTable? {
        while !atEnd && carry.count < chunkBytes {
            let more = try Self.readChunk(descriptor, max: chunkBytes, path: path)
            if more.isEmpty { atEnd = true } else { carry += more }
        }
        guard !carry.isEmpty else { return nil }
        let cut = atEnd ? carry.count : (Self.lastRowEnd(carry, stoppingAtFirst: false) ?? carry.count)
        var bytes = header
        bytes += carry[..<cut]
        carry.removeFirst(cut)
        // Blank lines at the very end are not rows; a stretch of only those is the end.
        if atEnd && carry.isEmpty && bytes[header.count...].allSatisfy({ $0 == 10 || $0 == 13 }) { return nil }
        let table = try CSVTable(bytes: bytes, path: path, linesBefore: lines - headerLines)
        lines += bytes.withUnsafeBufferPointer {
            CSVTable.lineBreaks($0.baseAddress!, from: header.count, to: $0.count)
        }
        return table
    }

    /// The offset after the last line break outside quotes in `bytes` (the first one when `stoppingAtFirst`), nil
    /// when there is none. A quote toggles being inside a quoted field; a doubled quote toggles twice.
    static func lastRowEnd(_ bytes: [UInt8], stoppingAtFirst: Bool) -> Int? {
        bytes.withUnsafeBufferPointer { buffer -> Int? in
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
