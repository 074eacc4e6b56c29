// Fetching the four MNIST IDX files from public mirrors, streamed to disk and checked against published MD5s.
import MLPImaging
import MLPKit
import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Downloads the MNIST IDX files (`.gz`) into a folder: each file is streamed to `NAME.part` with progress on
/// standard error, its MD5 checked, then renamed to `NAME`. Files already present with the right MD5 are kept.
/// A failed mirror is abandoned (its `.part` removed) for the next one; when every mirror fails the error says
/// why, and lists the URLs and the folder for a manual download.
public struct MNISTDownloader: Sendable {
    /// A file to fetch and its expected MD5 (lowercase hexadecimal).
    public struct RemoteFile: Sendable, Equatable {
        /// The file name, appended to each mirror's URL and used in the destination folder.
        public var name: String
        /// The published MD5 of the file.
        public var md5: String

        /// Creates a file entry.
        public init(name: String, md5: String) {
            self.name = name
            self.md5 = md5
        }
    }

    /// The mirrors torchvision uses, tried in this order.
    public static let defaultMirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]

    /// The four MNIST files with their published MD5s.
    public static let defaultFiles = [
        RemoteFile(name: "train-images-idx3-ubyte.gz", md5: "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        RemoteFile(name: "train-labels-idx1-ubyte.gz", md5: "d53e105ee54ea40749a09fcbcd1e9432"),
        RemoteFile(name: "t10k-images-idx3-ubyte.gz", md5: "9fb629c4189551a2d022fa330f9573f3"),
        RemoteFile(name: "t10k-labels-idx1-ubyte.gz", md5: "ec29112dd5afa0611ce80d1b7f02629c"),
    ]

    /// Base URLs, tried in order for each file (a missing trailing `/` is added).
    public var mirrors: [String]
    /// The files to fetch.
    public var files: [RemoteFile]
    /// Seconds without any data after which a request is abandoned.
    public var timeout: Double
    /// Whether to report progress: a redrawn line on standard error when it is a terminal, otherwise a few
    /// plain lines through `log`.
    public var showsProgress: Bool
    /// Receives one line per event (file skipped, mirror failed, file done).
    public var log: @Sendable (String) -> Void

    /// Creates a downloader; the defaults fetch MNIST from the standard mirrors and log to standard error.
    public init(
        mirrors: [String] = MNISTDownloader.defaultMirrors, files: [RemoteFile] = MNISTDownloader.defaultFiles,
        timeout: Double = 30, showsProgress: Bool = true,
        log: @escaping @Sendable (String) -> Void = { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
    ) {
        self.mirrors = mirrors
        self.files = files
        self.timeout = timeout
        self.showsProgress = showsProgress
        self.log = log
    }

    /// Fetches every file that is not already in `folder` with the right MD5, creating the folder if needed.
    public func download(into folder: String) throws {
        try AtomicFile.createFolder(folder)
        for (index, file) in files.enumerated() {
            let path = folder + "/" + file.name
            if FileManager.default.fileExists(atPath: path) {
                let present = try MNISTDownloader.md5(ofFile: path)
                if present == file.md5.lowercased() {
                    log("\(file.name): already present, checksum OK")
                    continue
                }
                log("\(file.name): present but its MD5 is \(present), expected \(file.md5); downloading it again")
            }
            var failures: [Attempt.Failure] = []
            var done = false
            for mirror in mirrors {
                let url = MNISTDownloader.url(mirror, file.name)
                do {
                    try fetch(url: url, file: file, to: path)
                    log("\(file.name): downloaded from \(url), checksum OK")
                    done = true
                    break
                } catch let failure as Attempt.Failure {
                    log("\(file.name): \(url) failed: \(failure.reason)")
                    failures.append(failure)
                }
            }
            if !done {
                throw allMirrorsFailed(file: file, failures: failures, remaining: Array(files[index...]), folder: folder)
            }
        }
    }

    /// The error for a file no mirror could deliver: why, and how to fetch the remaining files by hand.
    private func allMirrorsFailed(file: RemoteFile, failures: [Attempt.Failure], remaining: [RemoteFile], folder: String)
        -> MLPError
    {
        let offline = !failures.isEmpty && failures.allSatisfy(\.isConnectionProblem)
        var lines = [
            offline
                ? "cannot download \(file.name): the machine seems to be offline (no mirror could be reached):"
                : "cannot download \(file.name): every mirror failed:"
        ]
        lines += failures.map { "  \($0.url): \($0.reason)" }
        lines.append("Download these files by hand and put them in \(folder):")
        for item in remaining {
            lines.append("  " + mirrors.map { MNISTDownloader.url($0, item.name) }.joined(separator: "  or  "))
        }
        return MLPError(lines.joined(separator: "\n"))
    }

    /// Streams `url` to `path.part`, checks its MD5, and renames it to `path`; the `.part` never survives a failure.
    private func fetch(url: String, file: RemoteFile, to path: String) throws {
        guard let address = URL(string: url) else {
            throw Attempt.Failure(url: url, reason: "not a valid URL", isConnectionProblem: false)
        }
        let partPath = path + ".part"
        let descriptor = open(partPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else {
            throw Attempt.Failure(
                url: url, reason: "cannot create \(partPath): \(String(cString: strerror(errno)))",
                isConnectionProblem: false)
        }
        var keep = false
        defer {
            if !keep { unlink(partPath) }
        }
        let progress = showsProgress ? ProgressReporter(name: file.name, log: log) : nil
        let attempt = Attempt(descriptor: descriptor, progress: progress)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = max(timeout, 3600)
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: attempt, delegateQueue: queue)
        session.dataTask(with: address).resume()
        attempt.finished.wait()
        session.finishTasksAndInvalidate()
        progress?.finish()
        let closed = close(descriptor) == 0

        let outcome = attempt.outcome()
        if let problem = outcome.problem {
            throw Attempt.Failure(url: url, reason: problem, isConnectionProblem: outcome.isConnectionProblem)
        }
        guard closed else {
            throw Attempt.Failure(url: url, reason: "cannot write \(partPath)", isConnectionProblem: false)
        }
        if outcome.md5 != file.md5.lowercased() {
            throw Attempt.Failure(
                url: url,
                reason: "\(file.name) has MD5 \(outcome.md5), expected \(file.md5) "
                    + "(\(outcome.received) bytes received; the file is corrupt or not the expected one)",
                isConnectionProblem: false)
        }
        guard rename(partPath, path) == 0 else {
            throw Attempt.Failure(
                url: url, reason: "cannot rename \(partPath) to \(path): \(String(cString: strerror(errno)))",
                isConnectionProblem: false)
        }
        keep = true
    }

    private static func url(_ mirror: String, _ name: String) -> String {
        (mirror.hasSuffix("/") ? mirror : mirror + "/") + name
    }

    /// The MD5 of a file on disk, read in chunks.
    static func md5(ofFile path: String) throws -> String {
        var md5 = MD5()
        try WholeFile.forEachChunk(of: path) { md5.update($0) }
        return md5.hexDigest
    }
}

/// One request: receives the body on the session's serial delegate queue, writing it to disk and hashing it.
private final class Attempt: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    /// Why one mirror could not deliver one file.
    struct Failure: Error {
        var url: String
        var reason: String
        /// True when the server could not be reached at all (no network, unknown host, refused, timed out).
        var isConnectionProblem: Bool
    }

    let finished = DispatchSemaphore(value: 0)
    private let descriptor: Int32
    private let progress: ProgressReporter?
    private let lock = NSLock()
    private var md5 = MD5()
    private var received: Int64 = 0
    private var problem: String?
    private var connectionProblem = false

    init(descriptor: Int32, progress: ProgressReporter?) {
        self.descriptor = descriptor
        self.progress = progress
    }

    /// The result, read after `finished` is signalled.
    func outcome() -> (problem: String?, isConnectionProblem: Bool, md5: String, received: Int64) {
        lock.withLock { (problem, connectionProblem, md5.hexDigest, received) }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        lock.lock()
        defer { lock.unlock() }
        guard problem == nil else { return }
        if let response = dataTask.response as? HTTPURLResponse, response.statusCode != 200 {
            problem = "HTTP status \(response.statusCode)"
            dataTask.cancel()
            return
        }
        let ok = data.withUnsafeBytes { raw -> Bool in
            var written = 0
            while written < raw.count {
                let n = write(descriptor, raw.baseAddress! + written, raw.count - written)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                written += n
            }
            md5.update(raw)
            return true
        }
        guard ok else {
            problem = "cannot write the download to disk: \(String(cString: strerror(errno)))"
            dataTask.cancel()
            return
        }
        received += Int64(data.count)
        progress?.update(received: received, total: dataTask.response?.expectedContentLength ?? -1)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        lock.lock()
        if problem == nil {
            if let error {
                let code = (error as? URLError)?.code
                let connection: [URLError.Code] = [
                    .notConnectedToInternet, .cannotFindHost, .cannotConnectToHost, .timedOut, .dnsLookupFailed,
                    .networkConnectionLost, .cannotLoadFromNetwork, .internationalRoamingOff, .dataNotAllowed,
                ]
                connectionProblem = code.map { connection.contains($0) } ?? false
                problem = connectionProblem ? "cannot connect (\(error.localizedDescription))" : error.localizedDescription
            } else if let response = task.response as? HTTPURLResponse, response.statusCode != 200 {
                problem = "HTTP status \(response.statusCode)"
            } else if let expected = task.response?.expectedContentLength, expected >= 0, expected != received {
                problem = "the connection closed after \(received) of \(expected) bytes"
            }
        }
        lock.unlock()
        finished.signal()
    }
}

/// Progress on standard error: a line redrawn in place on a terminal, otherwise a plain line every 25%.
private final class ProgressReporter: @unchecked Sendable {
    private let name: String
    private let log: @Sendable (String) -> Void
    private let terminal = isatty(2) == 1
    private var lastDraw = 0.0
    private var lastQuarter = 0
    private var drew = false

    init(name: String, log: @escaping @Sendable (String) -> Void) {
        self.name = name
        self.log = log
    }

    func update(received: Int64, total: Int64) {
        if terminal {
            let now = Date().timeIntervalSinceReferenceDate
            guard now - lastDraw >= 0.1 || received == total else { return }
            lastDraw = now
            drew = true
            let amount = total > 0
                ? "\(size(received)) of \(size(total)) (\(received * 100 / total)%)"
                : size(received)
            FileHandle.standardError.write(Data("\r\u{1B}[2K\(name): \(amount)".utf8))
        } else if total > 0 {
            let quarter = Int(received * 4 / total)
            if quarter > lastQuarter && quarter < 4 {
                lastQuarter = quarter
                log("\(name): \(size(received)) of \(size(total)) (\(quarter * 25)%)")
            }
        }
    }

    /// Ends the redrawn line, if one was drawn.
    func finish() {
        if drew { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private func size(_ bytes: Int64) -> String {
        if bytes < 1_048_576 { return "\((bytes + 512) / 1024) KB" }
        let tenths = (bytes * 10 + 524_288) / 1_048_576
        return "\(tenths / 10).\(tenths % 10) MB"
    }
}
