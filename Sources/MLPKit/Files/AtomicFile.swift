// Replacing files atomically: every file MLPKit writes goes through here.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Writes files so that a reader sees either the old contents or the new ones, never a partial file.
public enum AtomicFile {
    /// Writes `bytes` to `path`: a temporary file in the same folder is written, flushed with `fsync`,
    /// then renamed over `path`. On failure the temporary file is removed and `path` is untouched.
    /// `durable: false` skips the `fsync` (the file is still replaced atomically): for long runs of files that can
    /// be made again, such as animation frames, followed by one `syncFolder` (an fsync per frame cost 15% of `traverse`).
    public static func write(_ bytes: some Collection<UInt8>, to path: String, durable: Bool = true) throws {
        try write(bytes, to: path, durable: durable, beforeReplacing: {})
    }

    /// Writes `bytes` to `path` like `write(_:to:)`, first keeping the file already at `path`, if any, as
    /// `previous` (by a hard link renamed over `previous`): at every moment both names hold a whole file.
    public static func write(_ bytes: some Collection<UInt8>, to path: String, keepingPreviousAs previous: String)
        throws {
        try write(bytes, to: path, durable: true) {
            guard access(path, F_OK) == 0 else { return }
            let link = parentFolder(of: previous) + "/." + baseName(of: previous) + ".link-\(getpid())"
            unlink(link)
            let slot = TemporaryFiles.register(Array(link.utf8CString))
            defer { TemporaryFiles.unregister(slot) }
            if Glibc.link(path, link) == 0 {
                guard rename(link, previous) == 0 else {
                    unlink(link)
                    throw MLPError("cannot keep \(path) as \(previous): \(errorText())")
                }
            } else if rename(path, previous) != 0 {
                throw MLPError("cannot keep \(path) as \(previous): \(errorText())")
            }
        }
    }

    private static func write(_ bytes: some Collection<UInt8>, to path: String, durable: Bool,
                              beforeReplacing: () throws -> Void) throws {
        let folder = parentFolder(of: path)
        let template = folder + "/." + baseName(of: path) + ".tmp-XXXXXX"
        var templateBytes = Array(template.utf8CString)
        let fd = templateBytes.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw MLPError("cannot write \(path): \(errorText()) (creating a temporary file in \(folder))")
        }
        let slot = TemporaryFiles.register(templateBytes)
        defer { TemporaryFiles.unregister(slot) }
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
        try beforeReplacing()
        guard rename(tempPath, path) == 0 else {
            throw MLPError("cannot replace \(path): \(errorText())")
        }
        ok = true
        if durable { try syncEntries(of: folder) }
    }

    /// Makes the folder's entries (a rename) durable.
    private static func syncEntries(of folder: String) throws {
        let fd = open(folder, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw MLPError("cannot open folder \(folder): \(errorText())") }
        defer { close(fd) }
        guard fsync(fd) == 0 || errno == EINVAL else {
            throw MLPError("cannot flush folder \(folder) to the disk: \(errorText())")
        }
    }

    /// Removes the temporary files of writes in progress; async-signal-safe, for a process about to exit at once
    /// (a second Ctrl-C): what it leaves is whole files only.
    package static func removeTemporaryFiles() { TemporaryFiles.removeAll() }

    /// Sets up what `removeTemporaryFiles` uses; call before installing a signal handler that calls it.
    package static func prepareForSignals() { TemporaryFiles.prepare() }

    /// Flushes everything written into `folder` to the disk, after a run of non-durable writes: one `sync` of the
    /// file systems, then an `fsync` of the folder (its entries).
    public static func syncFolder(_ folder: String) throws {
        sync()
        try syncEntries(of: folder)
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

/// The temporary files being written right now (a fixed table set up once), so that a process stopping at once can
/// remove them from a signal handler without allocating.
private enum TemporaryFiles {
    static let capacity = 16, pathBytes = 4096
    /// Per slot: 0 free, 1 being filled, 2 holding a path.
    nonisolated(unsafe) static let states: UnsafeMutablePointer<Atomic<Int>> = {
        let states = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: capacity)
        for i in 0..<capacity { (states + i).initialize(to: Atomic(0)) }
        return states
    }()
    nonisolated(unsafe) static let paths = UnsafeMutablePointer<CChar>.allocate(capacity: capacity * pathBytes)

    static func prepare() { _ = (states, paths) }

    /// Records a NUL-terminated path; nil when the table is full or the path too long (it is then not removed).
    static func register(_ path: [CChar]) -> Int? {
        guard path.count <= pathBytes else { return nil }
        for slot in 0..<capacity where states[slot].compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
            path.withUnsafeBufferPointer { (paths + slot * pathBytes).update(from: $0.baseAddress!, count: path.count) }
            states[slot].store(2, ordering: .releasing)
            return slot
        }
        return nil
    }

    static func unregister(_ slot: Int?) {
        if let slot { states[slot].store(0, ordering: .releasing) }
    }

    static func removeAll() {
        for slot in 0..<capacity where states[slot].load(ordering: .acquiring) == 2 {
            unlink(paths + slot * pathBytes)
        }
    }
}
