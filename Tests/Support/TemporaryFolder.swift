// A fresh folder under /tmp for one test, removed with everything in it when the test ends.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import MLPKit

/// A unique temporary folder, deleted (recursively) when the value is released: at the end of the scope of the
/// local that holds it (`let temporary = try TemporaryFolder()`), so a test may keep just `temporary.path` in hand.
package final class TemporaryFolder {
    /// The folder's absolute path.
    package let path: String

    package init() throws {
        var template = Array("/tmp/mlpkit-test-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw MLPError("cannot create a temporary folder: \(String(cString: strerror(errno)))")
        }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// `path/name`, creating any folders in `name` that are missing.
    package func file(_ name: String) throws -> String {
        let full = path + "/" + name
        if let slash = full.lastIndex(of: "/") { try AtomicFile.createFolder(String(full[..<slash])) }
        return full
    }

    /// Writes `bytes` to `path/name` and returns the full path.
    @discardableResult
    package func write(_ bytes: [UInt8], to name: String) throws -> String {
        let full = try file(name)
        try AtomicFile.write(bytes, to: full)
        return full
    }

    /// The bytes of the file `path/name`, read with Foundation (not with the code under test).
    package func bytes(of name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "/" + name)))
    }

    /// The names in `path/sub` (sorted), or [] if it does not exist.
    package func contents(_ sub: String = "") -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: sub.isEmpty ? path : path + "/" + sub)) ?? []).sorted()
    }
}
