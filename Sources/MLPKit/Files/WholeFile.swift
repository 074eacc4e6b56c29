// Reading files whole (the other side of AtomicFile): every reader of a whole file goes through here.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file from start to end, at once or a chunk at a time, with errors that name the file and say what is
/// wrong: `cannot open PATH: No such file or directory` (or the system's reason: no permission, …),
/// `cannot read PATH: it is a folder, not a CSV file` (the file's `kind` named by the caller), or
/// `cannot read PATH: ` and the system's reason when reading fails. There is no size limit: a file is read as long
/// as it goes on, so pipes and files still growing work too.
package enum WholeFile {
    /// The bytes of the file at `path`: a regular file in one read, a pipe or a growing file until it ends.
    /// `kind` says what the file should be, for the error when `path` is a folder ("a CSV file").
    package static func read(_ path: String, kind: String = "a file") throws -> [UInt8] {
        let (descriptor, size) = try openForReading(path, kind: kind)
        defer { close(descriptor) }
        // One byte more than the size, so that a file read whole shows its end without a second read.
        let first = size + 1
        var bytes = try readUpTo(first, from: descriptor, path: path)
        while bytes.count >= first {  // the file grew, or is a pipe
            let more = try readUpTo(1 << 16, from: descriptor, path: path)
            bytes += more
            if more.count < 1 << 16 { break }
        }
        return bytes
    }

    /// Calls `body` with the bytes of the file at `path` in order, 64 KiB at a time (the last chunk shorter), for a
    /// file that need not be held whole (a checksum). `kind` is as in ``read(_:kind:)``.
    package static func forEachChunk(of path: String, kind: String = "a file",
                                     _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let (descriptor, _) = try openForReading(path, kind: kind)
        defer { close(descriptor) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try fill($0, from: descriptor, path: path) }
            if count > 0 { try chunk.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) } }
            if count < chunk.count { return }
        }
    }

    /// Opens `path` for reading and checks that it is not a folder: the descriptor and the file's size (0 for a pipe).
    private static func openForReading(_ path: String, kind: String) throws -> (descriptor: Int32, size: Int) {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw MLPError("cannot open \(path): \(String(cString: strerror(errno)))") }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw MLPError("cannot read \(path): \(reason)")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            close(descriptor)
            throw MLPError("cannot read \(path): it is a folder, not \(kind)")
        }
        return (descriptor, max(Int(info.st_size), 0))
    }
}

/// Up to `count` bytes from `descriptor`, fewer only at the end of the file.
private func readUpTo(_ count: Int, from descriptor: Int32, path: String) throws -> [UInt8] {
    try [UInt8](unsafeUninitializedCapacity: count) { buffer, done in
        done = try fill(UnsafeMutableRawBufferPointer(buffer), from: descriptor, path: path)
    }
}

/// Fills `buffer` from `descriptor`; returns how many bytes came, fewer than the buffer holds only at the end of the
/// file.
private func fill(_ buffer: UnsafeMutableRawBufferPointer, from descriptor: Int32, path: String) throws -> Int {
    var done = 0
    while done < buffer.count {
        let n = read(descriptor, buffer.baseAddress! + done, buffer.count - done)
        if n < 0 && errno == EINTR { continue }
        if n < 0 { throw MLPError("cannot read \(path): \(String(cString: strerror(errno)))") }
        if n == 0 { break }
        done += n
    }
    return done
}
