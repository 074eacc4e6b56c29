// The MNIST downloader against a loopback HTTP server (good file, corrupt file, 404, unreachable mirror,
// dropped connection), and MD5 against known vectors.
import Foundation
import Testing
@testable import MLPData
@testable import MLPKit
import TestSupport

/// Collects log lines from the downloader (which may call it from another thread).
private final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    func append(_ line: String) { lock.withLock { storage.append(line) } }
    var lines: [String] { lock.withLock { storage } }
    var text: String { lines.joined(separator: "\n") }
}

/// `count` deterministic pseudo-random bytes.
private func sampleBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}

@Suite struct DownloadTests {
    private func downloader(_ mirrors: [String], _ files: [MNISTDownloader.RemoteFile], _ log: LogLines)
        -> MNISTDownloader
    {
        MNISTDownloader(mirrors: mirrors, files: files, timeout: 10, showsProgress: true, log: { log.append($0) })
    }

    @Test func goodDownloadLandsWithCorrectBytesAndNoPartFile() throws {
        let big = sampleBytes(300_000, seed: 1)
        let small = sampleBytes(100, seed: 2)
        let server = try LoopbackHTTPServer(
            routes: ["/m/big.gz": .init(body: big), "/m/small.gz": .init(body: small)], maxRequests: 2)
        let folder = try TemporaryFolder()
        let destination = folder.path + "/Data/mnist"
        let files = [
            MNISTDownloader.RemoteFile(name: "big.gz", md5: MD5.hex(of: big)),
            MNISTDownloader.RemoteFile(name: "small.gz", md5: MD5.hex(of: small)),
        ]
        let log = LogLines()
        try downloader([server.url("/m/")], files, log).download(into: destination)
        #expect(folder.contents("Data/mnist") == ["big.gz", "small.gz"])
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: destination + "/big.gz"))) == big)
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: destination + "/small.gz"))) == small)
        #expect(server.requests == ["/m/big.gz", "/m/small.gz"])
        if isatty(2) == 0 {
            // Not a terminal: progress comes as a few plain lines.
            #expect(log.text.contains(" of 293 KB (50%)"), "\(log.text)")
        }

        // A second run finds both files with the right checksum and asks no mirror (this one is unreachable).
        let again = LogLines()
        let closed = "http://127.0.0.1:\(try LoopbackHTTPServer.closedPort())/"
        try downloader([closed], files, again).download(into: destination)
        #expect(again.lines.filter { $0.contains("already present, checksum OK") }.count == 2)
    }

    @Test func corruptFileIsRejectedAndNotLeftBehind() throws {
        let served = sampleBytes(5000, seed: 3)
        let expected = sampleBytes(5000, seed: 4)
        let server = try LoopbackHTTPServer(routes: ["/data.gz": .init(body: served)], maxRequests: 1)
        let folder = try TemporaryFolder()
        let file = MNISTDownloader.RemoteFile(name: "data.gz", md5: MD5.hex(of: expected))
        let error = #expect(throws: MLPError.self) {
            try downloader([server.url("/")], [file], LogLines()).download(into: folder.path)
        }
        let message = error?.message ?? ""
        #expect(message.contains("data.gz"))
        #expect(message.contains(MD5.hex(of: served)))
        #expect(message.contains(MD5.hex(of: expected)))
        #expect(message.contains(server.url("/data.gz")))
        #expect(!message.contains("offline"))
        #expect(folder.contents().isEmpty, "neither data.gz nor data.gz.part may remain")
    }

    @Test func presentFileWithWrongChecksumIsReplaced() throws {
        let good = sampleBytes(2000, seed: 5)
        let server = try LoopbackHTTPServer(routes: ["/f.gz": .init(body: good)], maxRequests: 1)
        let folder = try TemporaryFolder()
        try folder.write(Array("stale".utf8), to: "f.gz")
        let log = LogLines()
        try downloader([server.url("/")], [.init(name: "f.gz", md5: MD5.hex(of: good))], log).download(into: folder.path)
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: folder.path + "/f.gz"))) == good)
        #expect(log.text.contains("downloading it again"))
    }

    @Test func mirrorThat404sFallsThroughToTheNext() throws {
        let body = sampleBytes(10_000, seed: 6)
        let server = try LoopbackHTTPServer(routes: ["/second/x.gz": .init(body: body)], maxRequests: 2)
        let folder = try TemporaryFolder()
        let log = LogLines()
        try downloader([server.url("/first/"), server.url("/second")], [.init(name: "x.gz", md5: MD5.hex(of: body))], log)
            .download(into: folder.path)
        #expect(server.requests == ["/first/x.gz", "/second/x.gz"])
        #expect(folder.contents() == ["x.gz"])
        #expect(log.text.contains("HTTP status 404"))
    }

    @Test func droppedConnectionIsAFailureAndLeavesNothing() throws {
        let body = sampleBytes(1000, seed: 7)
        let server = try LoopbackHTTPServer(routes: ["/t.gz": .init(body: body, declaredLength: 5000)], maxRequests: 1)
        let folder = try TemporaryFolder()
        let error = #expect(throws: MLPError.self) {
            try downloader([server.url("/")], [.init(name: "t.gz", md5: MD5.hex(of: body))], LogLines())
                .download(into: folder.path)
        }
        #expect(error?.message.contains("t.gz") == true)
        #expect(folder.contents().isEmpty)
    }

    @Test func unreachableMirrorGivesTheOfflineErrorWithURLsAndFolder() throws {
        let folder = try TemporaryFolder()
        let port = try LoopbackHTTPServer.closedPort()
        let mirrors = ["http://127.0.0.1:\(port)/a/", "http://127.0.0.1:\(port)/b/"]
        let files = MNISTDownloader.defaultFiles
        let error = #expect(throws: MLPError.self) {
            try downloader(mirrors, files, LogLines()).download(into: folder.path + "/mnist")
        }
        let message = error?.message ?? ""
        #expect(message.contains("offline"))
        #expect(message.contains(folder.path + "/mnist"))
        for file in files {
            #expect(message.contains(mirrors[0] + file.name))
            #expect(message.contains(mirrors[1] + file.name))
        }
        #expect(folder.contents("mnist").isEmpty)
    }

    @Test func defaultsAreTheTorchvisionMirrorsAndPublishedChecksums() {
        #expect(MNISTDownloader.defaultMirrors.first == "https://ossci-datasets.s3.amazonaws.com/mnist/")
        #expect(MNISTDownloader.defaultFiles.map(\.name) == [
            "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
        ])
        #expect(MNISTDownloader.defaultFiles.allSatisfy { $0.md5.count == 32 })
    }
}

@Suite struct MD5Tests {
    @Test func knownVectors() {
        #expect(MD5.hex(of: [UInt8]()) == "d41d8cd98f00b204e9800998ecf8427e")
        // RFC 1321 gives 900150983cd24fb0d6963f7d28e17f72 for "abc" (so does Python's hashlib).
        #expect(MD5.hex(of: Array("abc".utf8)) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(MD5.hex(of: Array("abcdefghijklmnopqrstuvwxyz".utf8)) == "c3fcd3d76192e4007dfb496cca67e13b")
        // 80 bytes, from RFC 1321's test suite.
        #expect(MD5.hex(of: Array(String(repeating: "1234567890", count: 8).utf8)) == "57edf4a22be3c955ac49da2e2107b67a")
        // Lengths around the padding boundary (values from Python's hashlib).
        #expect(MD5.hex(of: [UInt8](repeating: UInt8(ascii: "x"), count: 55)) == "04364420e25c512fd958a70738aa8f72")
        #expect(MD5.hex(of: [UInt8](repeating: UInt8(ascii: "x"), count: 56)) == "668a72d5ba17f08e62dabcafad6db14b")
        #expect(MD5.hex(of: [UInt8](repeating: UInt8(ascii: "x"), count: 64)) == "c1bb4f81d892b2d57947682aeb252456")
    }

    @Test func incrementalUpdatesMatchOneShot() {
        // hashlib.md5(bytes((i * 7 + 3) % 256 for i in range(1000))).hexdigest()
        let bytes = (0..<1000).map { UInt8(($0 * 7 + 3) % 256) }
        #expect(MD5.hex(of: bytes) == "10046f077f2082ac19676b8079f1cb1a")
        for pieceSize in [1, 3, 63, 64, 65, 200] {
            var md5 = MD5()
            var start = 0
            while start < bytes.count {
                md5.update(bytes[start..<min(start + pieceSize, bytes.count)])
                start += pieceSize
            }
            #expect(md5.hexDigest == "10046f077f2082ac19676b8079f1cb1a", "pieces of \(pieceSize)")
        }
        // hashlib.md5(b"a" * 1000000).hexdigest()
        var million = MD5()
        let block = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { million.update(block) }
        #expect(million.hexDigest == "7707d6ae4e027c70eea2a935c2296f21")
    }
}
