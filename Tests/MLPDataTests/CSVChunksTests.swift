// A CSV file read a stretch of rows at a time holds the rows, cells and line numbers of the file read whole, for any
// stretch size, quoted line breaks included.
import Foundation
import Testing
@testable import MLPData
import MLPKit
import TestSupport

@Suite struct CSVChunksTests {
    /// 40 rows: a number, a label (every third quoted, with a comma and a line break in it) and a number.
    static let text: String = {
        var text = "\u{FEFF}a,\"la\nbel\",b\r\n"
        for r in 0..<40 {
            let label = r % 3 == 0 ? "\"x, \"\"y\"\"\nz\(r)\"" : "w\(r)"
            text += "\(r),\(label),\(Double(r) / 4)\r\n"
        }
        return text + "\n\n"
    }()

    @Test(arguments: [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 10_000])
    func stretchesOfAnySizeHoldTheWholeTable(chunkBytes: Int) throws {
        let folder = try TemporaryFolder()
        let path = try folder.write(Array(Self.text.utf8), to: "t.csv")
        let whole = try CSVTable.read(path)
        let chunks = try CSVChunks(path: path, chunkBytes: chunkBytes)
        var labels: [String] = [], numbers: [Float] = [], stretches = 0
        while let table = try chunks.next() {
            #expect(table.columns == whole.columns)
            labels += table.strings(column: 1)
            numbers += try table.numbers(columns: [0, 2])
            stretches += 1
        }
        #expect(labels == whole.strings(column: 1))
        #expect(numbers == (try whole.numbers(columns: [0, 2])))
        if chunkBytes <= 34 { #expect(stretches > 10, "small stretches cut the file into many") }
    }

    @Test(arguments: [5, 40, 10_000])
    func aBadCellNamesTheFilesLine(chunkBytes: Int) throws {
        let folder = try TemporaryFolder()
        let text = Self.text.replacingOccurrences(of: "\r\n29,", with: "\r\noops,")
        let path = try folder.write(Array(text.utf8), to: "t.csv")
        var wholeError = "", stretchError = ""
        do { _ = try CSVTable.read(path).numbers(columns: [0]) } catch let error as MLPError { wholeError = error.message }
        let chunks = try CSVChunks(path: path, chunkBytes: chunkBytes)
        do {
            while let table = try chunks.next() { _ = try table.numbers(columns: [0]) }
        } catch let error as MLPError { stretchError = error.message }
        #expect(!wholeError.isEmpty && stretchError == wholeError)
    }
}
