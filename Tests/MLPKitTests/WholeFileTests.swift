// WholeFile: a file read whole or chunk by chunk gives its bytes, and each failure names the file and the problem.
import Testing
@testable import MLPKit
import TestSupport

@Suite struct WholeFileTests {
    /// The message of the MLPError `body` throws, or nil when it throws none.
    private func message(_ body: () throws -> Any) -> String? {
        do {
            _ = try body()
            return nil
        } catch {
            return (error as? MLPError)?.message ?? "not an MLPError: \(error)"
        }
    }

    @Test func readsEveryByteWholeAndInChunks() throws {
        let folder = try TemporaryFolder()
        // Empty, short, exactly one chunk, and several chunks with a short last one.
        for size in [0, 5, 1 << 16, 3 << 16 + 17] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
            let path = try folder.write(bytes, to: "file-\(size)")
            #expect(try WholeFile.read(path) == bytes)
            var chunks: [Int] = [], joined: [UInt8] = []
            try WholeFile.forEachChunk(of: path) { chunk in
                chunks.append(chunk.count)
                joined += chunk
            }
            #expect(joined == bytes)
            #expect(chunks.dropLast().allSatisfy { $0 == 1 << 16 } && chunks.allSatisfy { $0 > 0 && $0 <= 1 << 16 })
        }
    }

    @Test func failuresNameTheFileAndTheProblem() throws {
        let folder = try TemporaryFolder()
        let missing = folder.path + "/missing.csv"
        #expect(message { try WholeFile.read(missing) } == "cannot open \(missing): No such file or directory")
        #expect(message { try WholeFile.forEachChunk(of: missing) { _ in } }
                == "cannot open \(missing): No such file or directory")
        #expect(message { try WholeFile.read(folder.path, kind: "a CSV file") }
                == "cannot read \(folder.path): it is a folder, not a CSV file")
        #expect(message { try WholeFile.forEachChunk(of: folder.path) { _ in } }
                == "cannot read \(folder.path): it is a folder, not a file")
    }

    @Test func theReadersThatUseItKeepTheirMessages() throws {
        let folder = try TemporaryFolder()
        #expect(message { try SafeTensors.read(folder.path) }
                == "cannot read \(folder.path): it is a folder, not a safetensors file")
        #expect(message { try SafeTensors.read(folder.path + "/none.safetensors") }
                == "cannot open \(folder.path)/none.safetensors: No such file or directory")
    }
}
