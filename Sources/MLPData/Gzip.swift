// gzip decompression through zlib, from memory into caller-provided buffers (and compression, for tests).
import MLPKit
import CZlib

/// Inflates a gzip file held in memory, a piece at a time, so a caller can read a header, check it, and only
/// then allocate the rest. Concatenated gzip members (what `cat a.gz b.gz` makes) are read as one stream.
final class GzipReader {
    private let compressed: [UInt8]
    private let path: String
    private let stream: UnsafeMutablePointer<z_stream>
    private var consumed = 0
    private var finished = false

    /// Prepares to inflate `compressed`; `path` only names the file in error messages.
    init(compressed: [UInt8], path: String) throws {
        guard !compressed.isEmpty else { throw MLPError("cannot read \(path): the file is empty") }
        self.compressed = compressed
        self.path = path
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 15 + 32: the largest window, with automatic gzip/zlib header detection.
        let status = inflateInit2_(stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deinitialize(count: 1)
            stream.deallocate()
            throw MLPError("cannot decompress \(path): zlib could not start (error \(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// The number of compressed bytes in the file.
    var compressedCount: Int { compressed.count }

    /// Fills `buffer` completely, or up to the end of the data; returns how many bytes were written.
    /// Throws a clear error for corrupt or truncated data.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var produced = 0
        while produced < buffer.count && !finished {
            let status: Int32 = compressed.withUnsafeBufferPointer { input in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + consumed)
                stream.pointee.avail_in = UInt32(input.count - consumed)
                stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self) + produced
                stream.pointee.avail_out = UInt32(min(buffer.count - produced, Int(UInt32.max)))
                let before = Int(stream.pointee.avail_out)
                let status = inflate(stream, Z_NO_FLUSH)
                produced += before - Int(stream.pointee.avail_out)
                consumed = input.count - Int(stream.pointee.avail_in)
                return status
            }
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                try startNextMember()
            case Z_BUF_ERROR:
                // No progress possible: with room left in the output, the input ran out mid-stream.
                if consumed >= compressed.count {
                    throw MLPError("cannot read \(path): the gzip data is truncated (it ends in the middle of the stream)")
                }
                throw MLPError("cannot read \(path): the gzip data is corrupt (zlib made no progress)")
            case Z_DATA_ERROR, Z_NEED_DICT:
                throw MLPError("cannot read \(path): not valid gzip data (\(zlibMessage()))")
            case Z_MEM_ERROR:
                throw MLPError("cannot read \(path): out of memory while decompressing")
            default:
                throw MLPError("cannot read \(path): decompression failed (zlib error \(status): \(zlibMessage()))")
            }
        }
        return produced
    }

    /// Reads exactly `buffer.count` bytes; throws if the data ends first (`what` names the missing part).
    func readExactly(into buffer: UnsafeMutableRawBufferPointer, what: String) throws {
        let got = try read(into: buffer)
        if got < buffer.count {
            throw MLPError(
                "cannot read \(path): the file is truncated (decompressed, it ends after \(got) of the "
                    + "\(buffer.count) bytes of \(what))")
        }
    }

    /// True when no decompressed bytes are left.
    func atEnd() throws -> Bool {
        var probe: UInt8 = 0
        return try withUnsafeMutableBytes(of: &probe) { try read(into: $0) } == 0
    }

    /// After one gzip member ends: stop at the end of the file, or continue with the next member.
    private func startNextMember() throws {
        if consumed >= compressed.count {
            finished = true
            return
        }
        guard compressed.count - consumed >= 2, compressed[consumed] == 0x1f, compressed[consumed + 1] == 0x8b else {
            throw MLPError(
                "cannot read \(path): unexpected data after the end of the gzip stream "
                    + "(\(compressed.count - consumed) bytes that are not another gzip member)")
        }
        guard inflateReset(stream) == Z_OK else {
            throw MLPError("cannot read \(path): zlib could not start the next gzip member")
        }
    }

    private func zlibMessage() -> String {
        stream.pointee.msg.map { String(cString: $0) } ?? "no details"
    }
}

/// gzip helpers built on zlib.
package enum Gzip {
    /// Decompresses a whole gzip file held in memory; `path` names it in error messages. Refuses to produce
    /// more than `limit` bytes.
    static func decompress(_ bytes: [UInt8], path: String, limit: Int = 1 << 30) throws -> [UInt8] {
        let reader = try GzipReader(compressed: bytes, path: path)
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = try chunk.withUnsafeMutableBytes { try reader.read(into: $0) }
            if got == 0 { break }
            output += chunk[0..<got]
            if output.count > limit {
                throw MLPError("cannot read \(path): it decompresses to more than \(limit) bytes")
            }
        }
        return output
    }

    /// Compresses `bytes` into a single gzip member (used to make test files).
    package static func compress(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        // 15 + 16: the largest window, with a gzip (not zlib) header and trailer.
        guard deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                             Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return [] }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, UInt(bytes.count))) + 32
        var output = [UInt8](repeating: 0, count: bound)
        var input = bytes
        let written: Int = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = UInt32(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(outBuffer.count)
                _ = deflate(&stream, Z_FINISH)
                return outBuffer.count - Int(stream.avail_out)
            }
        }
        return Array(output[0..<written])
    }
}
