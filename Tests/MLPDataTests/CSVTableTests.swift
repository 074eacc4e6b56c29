// CSVTable: numbers rounded exactly as Float(String) rounds them, RFC 4180 quoting and line counting, and a clear
// error, naming the file and line, for every kind of bad file.
import Foundation
import MLPData
import MLPKit
import Testing
import TestSupport

/// The table in `text`, called `data.csv`.
private func table(_ text: String) throws -> CSVTable {
    try CSVTable(bytes: Array(text.utf8), path: "data.csv")
}

/// The message of the MLPError that `body` throws; nil when it throws none.
private func message(_ body: () throws -> Any) -> String? {
    do {
        _ = try body()
        return nil
    } catch let error as MLPError {
        return error.message
    } catch {
        return "not an MLPError: \(error)"
    }
}

/// One column `x` holding `cells`: their values as CSVTable reads them.
private func parsed(_ cells: [String]) throws -> [Float] {
    try table("x\n" + cells.joined(separator: "\n") + "\n").numbers(columns: [0])
}

/// The cells (and values) where CSVTable and Float(String) disagree, bit for bit, for the failure message.
private func disagreements(_ cells: [String]) throws -> [String] {
    let values = try parsed(cells)
    return zip(cells, values).compactMap { cell, value in
        let expected = Float(cell.trimmingCharacters(in: .whitespaces))!
        return value.bitPattern == expected.bitPattern ? nil : "\(cell): \(value) against \(expected)"
    }
}

@Suite struct CSVTableTests {
    // MARK: Numbers

    @Test func awkwardNumbersRoundAsFloatStringDoes() throws {
        let cells = ["0.1", "-3.4028235e38", "3.4028235e38", "1e-45", "7e-46", "1.4e-45", "1.17549435e-38",
                     "16777217", "16777216", "16777218", "33554435", "123456789012", "9007199254740993",
                     " 2.5 ", "\t-2.5\t", "+7", ".5", "5.", "-.5e1", "0", "-0", "0000123", "0.000001",
                     "1e10", "1e-10", "1E3", "2.5e+3", "12345678.9", "0.123456789", "0.1234567890123",
                     "0.12345678901234568", "1234567890123456789012", "1.00000000000000000000000001",
                     "4.7019774e-38", "340282356779733661637539395458142568447", "1e-50", "0e999", "99999999"]
        #expect(try disagreements(cells) == [])
        let values = try parsed(["-0", "+7", ".5", "5.", " 2.5 ", "16777217", "1e-45"])
        #expect(values[0].sign == .minus && values[0] == 0)
        #expect(Array(values[1...]) == [7, 0.5, 5, 2.5, 16_777_216, Float.leastNonzeroMagnitude])
    }

    /// Random decimals of every length, many of them at or next to the midpoint between two Floats — where a
    /// parser that rounds twice (decimal → Double → Float) or estimates carelessly goes wrong.
    @Test func randomDecimalsRoundAsFloatStringDoes() throws {
        var random = SplitMix64(seed: 42)
        var cells: [String] = []
        for _ in 0..<20_000 {
            let x = Float(bitPattern: UInt32(truncatingIfNeeded: random.next()) & 0x7FFF_FFFF)
            guard x.isFinite, x < .greatestFiniteMagnitude else { continue }
            let midpoint = (Double(x) + Double(x.nextUp)) / 2
            switch random.nextInt(below: 5) {
            case 0: cells.append("\(x)")
            case 1: cells.append(String(format: "%.17g", midpoint))  // the midpoint itself, exactly or nearly
            case 2: cells.append(String(format: "%.\(9 + random.nextInt(below: 12))g", midpoint))
            case 3: cells.append(String(format: "%.\(1 + random.nextInt(below: 8))f", Double(random.nextInt(below: 1_000_000)) / 997))
            default:
                let count = 1 + random.nextInt(below: 21)
                let digits = (0..<count).map { _ in String(random.nextInt(below: 10)) }.joined()
                let exponent = random.nextInt(below: 60) - 22 - count  // within Float's range (below 10^38)
                cells.append("\(random.nextInt(below: 2) == 0 ? "-" : "")\(digits)e\(exponent)")
            }
        }
        let wrong = try disagreements(cells)
        #expect(wrong.count == 0, "of \(cells.count), e.g. \(wrong.prefix(5))")
    }

    /// The 8-bytes-at-once path for 1 to 7 digits, at every length and with leading zeros, and its hand-over to
    /// the general parser at 8 digits and at the end of the file.
    @Test func shortIntegersReadExactly() throws {
        let numbers = Array(0..<3000) + [9999, 10000, 99999, 100_000, 1_234_567, 9_999_999, 10_000_000, 16_777_217]
        let cells = numbers.map(String.init) + ["007", "0000000", "00000001"]
        let values = try parsed(cells)
        #expect(values == numbers.map(Float.init) + [7, 0, 1])
        // Rows of several columns, the last cell of the file within 8 bytes of its end, no final newline.
        let small = try table("a,b,c\n1,22,333\n4444,5,6")
        #expect(try small.numbers(columns: [0, 1, 2]) == [1, 22, 333, 4444, 5, 6])
    }

    @Test func columnsComeInTheOrderAskedForAndMayRepeat() throws {
        let t = try table("a,b,c\n1,2,3\n4,5,6\n")
        #expect(try t.numbers(columns: [2, 0, 2]) == [3, 1, 3, 6, 4, 6])
        #expect(try t.numbers(columns: [1]) == [2, 5])
        #expect(try t.numbers(columns: []) == [])
        #expect(message { try t.numbers(columns: [3]) } == "data.csv: column index 3 is out of range; the file has 3 columns")
    }

    @Test func textInANumberColumnNamesTheLineAndColumn() throws {
        let t = try table("id,age,score\n1,30,2.5\n2,abc,3\n3,,4\n4,nan,5\n5,-inf,6\n6,1e39,7\n7,1.5.2,8\n")
        #expect(try t.numbers(columns: [0, 2]) == [1, 2.5, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8])
        #expect(message { try t.numbers(columns: [1]) } == "data.csv, line 3, column \"age\": \"abc\" is not a number")
        let cases = [
            (" ", "the cell is empty"),
            ("\"\"", "the cell is empty"),
            ("nan", "\"nan\" is not a finite number"),
            ("-inf", "\"-inf\" is not a finite number"),
            ("Infinity", "\"Infinity\" is not a finite number"),
            ("1e39", "\"1e39\" is not a finite number"),
            ("1.5.2", "\"1.5.2\" is not a number"),
            ("0x10", "\"0x10\" is not a number"),
            ("1e", "\"1e\" is not a number"),
            ("\"1,5\"", "\"1,5\" is not a number"),
        ]
        for (cell, problem) in cases {
            #expect(message { try table("id,age\n1,2\n2,\(cell)\n").numbers(columns: [1]) }
                    == "data.csv, line 3, column \"age\": \(problem)", "cell \(cell)")
        }
        #expect(!t.isNumeric(column: 1))
        #expect(t.isNumeric(column: 0) && t.isNumeric(column: 2))
    }

    /// A table big enough to be cut into chunks parsed on several threads: the values are right, and with two
    /// bad cells far apart the error names the first, whichever thread finishes first.
    @Test func largeTablesParseInChunksAndReportTheFirstBadCell() throws {
        let rows = 40_000, width = 20
        var text = "label," + (1..<width).map { "p\($0)" }.joined(separator: ",") + "\n"
        var expected: [Float] = []
        for row in 0..<rows {
            let cells = (0..<width).map { column in (row * 31 + column * 7) % 256 }
            expected += cells.map(Float.init)
            text += cells.map(String.init).joined(separator: ",") + "\n"
        }
        let good = try table(text)
        #expect(text.utf8.count > 2 << 20)
        #expect(good.rowCount == rows)
        #expect(try good.numbers(columns: Array(0..<width)) == expected)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[30_001] = lines[30_001].replacingOccurrences(of: ",", with: ",x", options: [], range: nil)
        lines[2_001] = "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,oops"
        let bad = try table(lines.joined(separator: "\n"))
        #expect(message { try bad.numbers(columns: Array(0..<width)) }
                == "data.csv, line 2002, column \"p19\": \"oops\" is not a number")
    }

    // MARK: Quoting, line breaks, byte-order mark

    @Test func quotedFieldsHoldCommasQuotesAndLineBreaks() throws {
        let text = "name,note,value\n\"Smith, J\",\"said \"\"hi\"\"\",1\n\"two\nlines\",\"\",2\n\"three\r\nlines\nhere\",x,3\n"
        let t = try table(text)
        #expect(t.rowCount == 3)
        #expect(t.strings(column: 0) == ["Smith, J", "two\nlines", "three\r\nlines\nhere"])
        #expect(t.strings(column: 1) == ["said \"hi\"", "", "x"])
        #expect(try t.numbers(columns: [2]) == [1, 2, 3])
        #expect(!t.isNumeric(column: 1))
        // Line numbers count the breaks inside quotes: the row "\"three…" starts on line 5 and its last cell is on 7.
        let bad = try table(text + "\"four\nlines\",y,oops\n")
        #expect(message { try bad.numbers(columns: [2]) } == "data.csv, line 9, column \"value\": \"oops\" is not a number")
    }

    @Test func quotedNumbersAndHeaderNames() throws {
        let t = try table("\" a \",\"b,c\" , d \n\"1\",\" 2.5 \",3\n\"-4e2\" ,\"5\",\"6\"\n")
        #expect(t.columns == ["a", "b,c", "d"])
        #expect(try t.numbers(columns: [0, 1, 2]) == [1, 2.5, 3, -400, 5, 6])
        #expect(try t.columnIndex(named: "b,c") == 1)
        #expect(message { try table("a\n\"1\"\"\"\n").numbers(columns: [0]) }
                == "data.csv, line 2, column \"a\": \"1\"\" is not a number")
    }

    @Test func crlfAndLFReadTheSame() throws {
        let lf = try table("a,b\n1,x\n2,y\n")
        let crlf = try table("a,b\r\n1,x\r\n2,y\r\n")
        #expect(crlf.columns == ["a", "b"])
        #expect(crlf.rowCount == 2)
        #expect(try crlf.numbers(columns: [0]) == lf.numbers(columns: [0]))
        #expect(crlf.strings(column: 1) == ["x", "y"])
        #expect(try table("a,b\r\n1,x\r\n2,y").strings(column: 1) == ["x", "y"])
    }

    @Test func byteOrderMarkIsSkipped() throws {
        let t = try CSVTable(bytes: [0xEF, 0xBB, 0xBF] + Array("label,x\n3,4\n".utf8), path: "data.csv")
        #expect(t.columns == ["label", "x"])
        #expect(try t.columnIndex(named: "label") == 0)
        #expect(try t.numbers(columns: [0, 1]) == [3, 4])
    }

    @Test func lastRowNeedsNoLineBreakAndBlankLinesAtTheEndAreNotRows() throws {
        let t = try table("a,b\n1,2\n3,4")
        #expect(t.rowCount == 2)
        #expect(try t.numbers(columns: [0, 1]) == [1, 2, 3, 4])
        #expect(try table("a,b\n1,2\n3,4\n").rowCount == 2)
        #expect(try table("a,b\n1,2\n3,4\n\n\r\n\n").rowCount == 2)
        // A one-column table: a blank line inside it is a row with an empty cell.
        let one = try table("a\n1\n\n3\n")
        #expect(one.rowCount == 3)
        #expect(message { try one.numbers(columns: [0]) } == "data.csv, line 3, column \"a\": the cell is empty")
        #expect(one.strings(column: 0) == ["1", "", "3"])
    }

    @Test func stringsKeepSpacesAndUnescapeQuotes() throws {
        let t = try table("k,v\n cat ,\"a \"\"b\"\"\"\ndog,\n")
        #expect(t.strings(column: 0) == [" cat ", "dog"])
        #expect(t.strings(column: 1) == ["a \"b\"", ""])
    }

    // MARK: Bad files

    @Test func raggedRowsNameTheLineAndBothCounts() throws {
        #expect(message { try table("a,b,c\n1,2,3\n4,5\n6,7,8\n") } == "data.csv, line 3 has 2 fields, but the header has 3 fields")
        #expect(message { try table("a,b\n1,2,3\n") } == "data.csv, line 2 has 3 fields, but the header has 2 fields")
        #expect(message { try table("a,b\n1,2\n\n3,4\n") } == "data.csv, line 3 is blank, but the header has 2 fields")
        // With quotes in the file (another scanner), after a quoted line break: the row starts on line 4.
        #expect(message { try table("a,b\n\"x\ny\",2\n1\n") } == "data.csv, line 4 has 1 field, but the header has 2 fields")
        #expect(message { try table("a,b\n\"x,y\",2,3\n") } == "data.csv, line 2 has 3 fields, but the header has 2 fields")
    }

    @Test func badQuotingIsReported() throws {
        #expect(message { try table("a,b\n1,\"open\n2,3\n") }
                == "data.csv, line 2: a quoted field is never closed (its closing \" is missing)")
        #expect(message { try table("a,b\n1,\"x\"y\n") }
                == "data.csv, line 2: text after the closing quote of a quoted field (a quote inside a quoted field is written as two, \"\")")
        // After a quoted line break, the lines are still counted right.
        #expect(message { try table("a,b\n\"x\ny\",1\n2,\"z\"q\n") }?.hasPrefix("data.csv, line 4: text after") == true)
        #expect(message { try table("a,b\n\"x\ny\",1\n2,\"z\n") }?.hasPrefix("data.csv, line 4: a quoted field") == true)
        // A quote inside an unquoted field is an ordinary character.
        #expect(try table("a,b\n1,x\"y\n").strings(column: 1) == ["x\"y"])
    }

    @Test func emptyAndHeaderOnlyFiles() throws {
        #expect(message { try table("") } == "data.csv is empty")
        #expect(message { try CSVTable(bytes: [0xEF, 0xBB, 0xBF], path: "data.csv") } == "data.csv is empty")
        #expect(message { try table("\n\r\n") } == "data.csv is empty")
        #expect(message { try table("a,b\n") } == "data.csv has a header but no rows")
        #expect(message { try table("a,b") } == "data.csv has a header but no rows")
        #expect(message { try table("a,b\n\n") } == "data.csv has a header but no rows")
        #expect(message { try table("\n1,2\n") } == "data.csv, line 1: the header is blank; the first line must name the columns")
    }

    @Test func unknownColumnListsTheColumns() throws {
        let t = try table("label, p0 ,p1\n1,2,3\n")
        #expect(t.columns == ["label", "p0", "p1"])
        #expect(try t.columnIndex(named: "p0") == 1)
        #expect(message { try t.columnIndex(named: "p2") }
                == "data.csv has no column \"p2\"; its columns are \"label\", \"p0\", \"p1\"")
        let wide = try table((0..<30).map { "c\($0)" }.joined(separator: ",") + "\n" + Array(repeating: "0", count: 30).joined(separator: ",") + "\n")
        #expect(message { try wide.columnIndex(named: "x") }?.hasSuffix("\"c19\" and 10 more") == true)
    }

    @Test func readNamesTheFile() throws {
        let folder = try TemporaryFolder()
        let path = try folder.write(Array("label,x\n1,2.5\n0,-1\n".utf8), to: "data.csv")
        let t = try CSVTable.read(path)
        #expect(t.path == path)
        #expect(try t.numbers(columns: [1, 0]) == [2.5, 1, -1, 0])
        #expect(message { try CSVTable.read(path + ".missing") } == "cannot open \(path).missing: No such file or directory")
        try folder.write(Array("label,x\n1,y\n".utf8), to: "data.csv")
        #expect(message { try CSVTable.read(path).numbers(columns: [1]) } == "\(path), line 2, column \"x\": \"y\" is not a number")
    }
}
