// A file mapped into memory read-only, so that data larger than memory is paged in as it is read.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A regular file mapped read-only into memory for as long as the object lives. The pages are the kernel's page
/// cache: they count against no process's private memory, and the kernel drops them under pressure and reads them
/// again when touched.
///
/// A mapped file must not change while it is mapped. `checkUnchanged()` compares its size and modification time
/// with those at mapping time (the trainer calls it after every epoch), so a rewritten file is reported instead
/// of training on a mix of old and new bytes.
public final class MappedFile: @unchecked Sendable {
    /// The file's path, for messages.
    public let path: String
    /// The file's size in bytes.
    public let size: Int
    /// The first byte.
    public let base: UnsafeRawPointer
    private let identity: Identity

    /// What tells a changed file: its size and modification time.
    private struct Identity: Equatable {
        var size: Int
        var seconds: Int
        var nanoseconds: Int
    }

    /// Maps the regular file at `path`. Throws, naming the file, when it cannot be opened, is not a regular file or
    /// cannot be mapped.
    public init(path: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw MLPError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard let identity = MappedFile.identity(of: descriptor), let info = MappedFile.status(of: descriptor),
              (info.st_mode & S_IFMT) == S_IFREG else {
            throw MLPError("cannot map \(path): it is not a regular file")
        }
        self.path = path
        size = identity.size
        self.identity = identity
        if size == 0 {
            base = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16))
            return
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), mapped != MAP_FAILED else {
            throw MLPError("cannot map \(path): \(String(cString: strerror(errno)))")
        }
        _ = madvise(mapped, size, MADV_RANDOM)
        base = UnsafeRawPointer(mapped)
    }

    deinit {
        if size == 0 {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        } else {
            munmap(UnsafeMutableRawPointer(mutating: base), size)
        }
    }

    /// The file's bytes `range` (which must lie inside it), borrowed for `body`.
    public func withBytes<R>(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        precondition(range.lowerBound >= 0 && range.upperBound <= size, "bytes out of the mapped file")
        return try body(UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count))
    }

    /// Throws, naming the file, if it is no longer the file that was mapped: its size or modification time changed
    /// (or it is gone), so the bytes read since may be a mix of the old and the new contents.
    public func checkUnchanged() throws {
        let descriptor = open(path, O_RDONLY)
        let now = descriptor >= 0 ? MappedFile.identity(of: descriptor) : nil
        if descriptor >= 0 { close(descriptor) }
        guard let now else { throw MLPError("\(path) was removed or cannot be read while it was being trained on") }
        guard now == identity else {
            let change = now.size != identity.size ? "its size went from \(identity.size) to \(now.size) bytes"
                                                   : "it was written to (its modification time changed)"
            throw MLPError("\(path) changed while it was being trained on (\(change)); the results would mix two "
                           + "versions of the data")
        }
    }

    private static func status(of descriptor: Int32) -> stat? {
        var info = stat()
        return fstat(descriptor, &info) == 0 ? info : nil
    }

    private static func identity(of descriptor: Int32) -> Identity? {
        guard let info = status(of: descriptor) else { return nil }
        #if canImport(Darwin)
        let time = info.st_mtimespec
        #else
        let time = info.st_mtim
        #endif
        return Identity(size: Int(info.st_size), seconds: Int(time.tv_sec), nanoseconds: Int(time.tv_nsec))
    }
}
