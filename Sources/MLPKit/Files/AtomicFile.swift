// Replacing files atomically: every file MLPKit writes goes through here.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that a reader sees either the old contents or the new ones, never a partial file.
public enum AtomicFile {
    /// Writes `bytes` to `path`: a temporary file in the same folder is written, flushed with `fsync`,
    /// then renamed over `path`. On failure the temporary file is removed and `path` is untouched.
    /// `durable: false` skips the `fsync` (the file is still replaced atomically): for long runs of files that can
    /// be made again, such as animation frames, followed by one `syncFolder` (an fsync per frame cost 15% of `traverse`).
    public static func write(_ bytes: some Collection<UInt8>, to path: String, durable: Bool = true) throws {
        let folder = parentFolder(of: path)
        let template = folder + "/." + baseName(of: path) + ".tmp-XXXXXX"
        var templateBytes = Array(template.utf8CString)
        let fd = templateBytes.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw MLPError("cannot write \(path): \(errorText()) (creating a temporary file in \(folder))")
        }
        let tempPath = templateBytes.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var ok = false
        defer {
            if !ok { unlink(tempPath) }
        }
        do {
            defer { close(fd) }
            let contiguous = Array(bytes)
            var written = 0
            try contiguous.withUnsafeBytes { raw in
                while written < raw.count {
                    let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw MLPError("cannot write \(path): \(errorText())")
                    }
                    written += n
                }
            }
            guard fchmod(fd, 0o644) == 0, !durable || fsync(fd) == 0 else {
                throw MLPError("cannot write \(path): \(errorText())")
            }
        }
        guard rename(tempPath, path) == 0 else {
            throw MLPError("cannot replace \(path): \(errorText())")
        }
        ok = true
    }

    /// Flushes everything written into `folder` to the disk, after a run of non-durable writes: one `sync` of the
    /// file systems, then an `fsync` of the folder (its entries).
    public static func syncFolder(_ folder: String) throws {
        sync()
        let fd = open(folder, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw MLPError("cannot open folder \(folder): \(errorText())") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw MLPError("cannot flush folder \(folder) to the disk: \(errorText())") }
    }

    /// Writes `text` as UTF-8 to `path`, atomically.
    public static func write(text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    /// Creates `path` and any missing parent folders; throws a clear error if it cannot.
    public static func createFolder(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw MLPError("cannot create folder \(current): \(errorText())")
            }
            var info = stat()
            if stat(current, &info) != 0 || (info.st_mode & S_IFMT) != S_IFDIR {
                throw MLPError("cannot create folder \(path): \(current) exists and is not a folder")
            }
        }
    }

    static func parentFolder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let folder = String(path[..<slash])
        return folder.isEmpty ? "/" : folder
    }

    static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}
