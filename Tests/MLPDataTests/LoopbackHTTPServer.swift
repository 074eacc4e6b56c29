// A tiny HTTP/1.0 server on 127.0.0.1 for download tests: fixed responses, a bounded number of requests,
// a deadline, and POSIX sockets on one background thread.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import TestSupport

/// Serves fixed responses on an ephemeral port of 127.0.0.1 until it has answered `maxRequests` requests,
/// its deadline passes, or it is released. Unknown paths get 404.
final class LoopbackHTTPServer: @unchecked Sendable {
    /// One canned response.
    struct Response {
        var status = 200
        var body: [UInt8]
        /// The Content-Length to announce (defaults to the body's size; larger simulates a dropped connection).
        var declaredLength: Int? = nil
    }

    /// The port the server listens on.
    let port: UInt16
    private let listener: Int32
    private let routes: [String: Response]
    private let lock = NSLock()
    private var stopped = false
    private var served: [String] = []
    private let done = DispatchSemaphore(value: 0)

    /// Starts serving `routes` (path → response) on a background thread.
    init(routes: [String: Response], maxRequests: Int, timeout: Double = 20) throws {
        self.routes = routes
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw ServerError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            close(listener)
            throw ServerError("bind/listen: \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        port = UInt16(bigEndian: address.sin_port)
        let deadline = Date().addingTimeInterval(timeout)
        let thread = Thread { [self] in
            serve(maxRequests: maxRequests, deadline: deadline)
            done.signal()
        }
        thread.start()
    }

    deinit {
        stop()
    }

    /// `http://127.0.0.1:PORT` followed by `path`.
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// The request paths answered so far, in order.
    var requests: [String] { lock.withLock { served } }

    /// Stops serving and waits for the thread to end.
    func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        if first {
            done.wait()
            close(listener)
        }
    }

    /// A port on 127.0.0.1 that nothing listens on (bound, read, then closed).
    static func closedPort() throws -> UInt16 {
        let server = try LoopbackHTTPServer(routes: [:], maxRequests: 0, timeout: 0)
        let port = server.port
        server.stop()
        return port
    }

    private func serve(maxRequests: Int, deadline: Date) {
        var count = 0
        while count < maxRequests && Date() < deadline && !lock.withLock({ stopped }) {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            count += 1
            handle(connection)
        }
    }

    private func handle(_ connection: Int32) {
        defer { close(connection) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !request.containsSequence([13, 10, 13, 10]) && request.count < 65536 {
            let n = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { return }
            request += chunk[0..<n]
        }
        let firstLine = String(decoding: request.prefix { $0 != 13 }, as: UTF8.self).split(separator: " ")
        let path = firstLine.count >= 2 ? String(firstLine[1]) : "/"
        lock.withLock { served.append(path) }
        let response = routes[path] ?? Response(status: 404, body: Array("not found\n".utf8))
        let reason = response.status == 200 ? "OK" : response.status == 404 ? "Not Found" : "Error"
        let head = "HTTP/1.0 \(response.status) \(reason)\r\nContent-Type: application/octet-stream\r\n"
            + "Content-Length: \(response.declaredLength ?? response.body.count)\r\nConnection: close\r\n\r\n"
        let bytes = Array(head.utf8) + response.body
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(connection, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
        // Close gracefully: end our side, then drain until the client closes (or the receive timeout).
        shutdown(connection, Int32(SHUT_WR))
        while chunk.withUnsafeMutableBytes({ recv(connection, $0.baseAddress!, $0.count, 0) }) > 0 {}
    }
}

/// A failure to start the test server.
struct ServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Array where Element == UInt8 {
    fileprivate func containsSequence(_ needle: [UInt8]) -> Bool {
        guard count >= needle.count else { return false }
        return (0...(count - needle.count)).contains { self[$0..<$0 + needle.count].elementsEqual(needle) }
    }
}
