// A CSV table's columns read as numbers: the rows parsed in parallel, and the error naming a cell that is not one.
import MLPKit

/// Where `numbers(columns:)` met a cell that is not a number: its row, column and byte offset.
struct CellFailure {
    let row: Int
    let column: Int
    let offset: Int
}

extension CSVTable {
    /// The given columns of every row as Floats, row after row, and the first cell that is not a number, if any
    /// (the values are then incomplete).
    func parse(columns wanted: [Int]) -> (values: [Float], failure: CellFailure?) {
        let width = wanted.count
        let rows = rowCount
        guard width > 0 else { return ([], nil) }
        // slot[c]: where column c goes in an output row (its first request), or -1; repeats are copied after.
        var slot = [Int](repeating: -1, count: columns.count)
        var repeats: [(from: Int, to: Int)] = []
        for (position, column) in wanted.enumerated() {
            if slot[column] < 0 { slot[column] = position } else { repeats.append((slot[column], position)) }
        }
        let last = wanted.max()!
        let chunks = chunkCount()
        var failures = [CellFailure?](repeating: nil, count: chunks)
        let values = [Float](unsafeUninitializedCapacity: rows * width) { output, initialized in
            bytes.withUnsafeBufferPointer { buffer in
                rowStarts.withUnsafeBufferPointer { starts in
                    slot.withUnsafeBufferPointer { slot in
                        failures.withUnsafeMutableBufferPointer { failures in
                            let count = buffer.count
                            let shared = UncheckedSendable(value: (buffer.baseAddress!, starts, slot, output, failures))
                            forEachWorker(chunks) { chunk in
                                let (p, starts, slot, output, failures) = shared.value
                                failures[chunk] = Self.parseRows(
                                    p, count: count, starts: starts, rows: Self.chunk(chunk, of: chunks, rows: rows),
                                    slot: slot,
                                    last: last, repeats: repeats, into: output.baseAddress!, width: width)
                            }
                        }
                    }
                }
            }
            // Float has no invalid bit patterns; after a failure the unwritten rest is discarded unread.
            initialized = rows * width
        }
        return (values, failures.lazy.compactMap { $0 }.first)
    }

    /// Parses `rows` of the `count` bytes at `p` into output rows of `width` Floats at `output` (row r at
    /// r × width); returns the first cell that failed, if any (the rows after it are left unwritten).
    static func parseRows(
        _ p: UnsafePointer<UInt8>, count: Int, starts: UnsafeBufferPointer<Int>, rows: Range<Int>,
        slot: UnsafeBufferPointer<Int>, last: Int, repeats: [(from: Int, to: Int)],
        into output: UnsafeMutablePointer<Float>, width: Int
    ) -> CellFailure? {
        floatPowersOfTen.withUnsafeBufferPointer { floatPowers in
            doublePowersOfTen.withUnsafeBufferPointer { doublePowers in
                for row in rows {
                    let out = output + row * width
                    let end = contentEnd(p, starts[row], starts[row + 1])
                    var i = starts[row]
                    var column = 0
                    while true {
                        let position = slot[column]
                        if position >= 0 {
                            var (value, next) = (Float(0), -1)
                            if i + 8 <= count, let short = shortInteger(p, at: i, end: end) {
                                (value, next) = short
                            } else {
                                (value, next) = parseNumber(p, from: i, to: end, floatPowers, doublePowers)
                                if next < 0 || !value.isFinite {
                                    // Not a plain number: a quoted one, or no number at all.
                                    guard let quoted = quotedNumber(p, at: i, end: end, floatPowers, doublePowers)
                                    else { return CellFailure(row: row, column: column, offset: i) }
                                    (value, next) = quoted
                                }
                            }
                            out[position] = value
                            i = next
                        } else {
                            i = skipField(p, from: i, to: end)
                        }
                        if column == last { break }
                        column += 1
                        i += 1
                    }
                    for (from, to) in repeats { out[to] = out[from] }
                }
                return nil
            }
        }
    }

    /// The error for a cell that `numbers(columns:)` could not read.
    func cellError(_ failure: CellFailure) -> MLPError {
        let text = bytes.withUnsafeBufferPointer { buffer in
            let end = Self.contentEnd(buffer.baseAddress!, rowStarts[failure.row], rowStarts[failure.row + 1])
            return Self.fieldBytes(buffer.baseAddress!, from: failure.offset, to: end).text
        }
        let place = "\(path), line \(line(at: failure.offset)), column \"\(columns[failure.column])\""
        let content = Self.trimmed(text)
        if content.isEmpty { return MLPError("\(place): the cell is empty") }
        var shown = String(decoding: text, as: UTF8.self)
        if shown.count > 40 { shown = shown.prefix(40) + "…" }
        var word = String(decoding: content, as: UTF8.self).lowercased()
        if word.hasPrefix("-") || word.hasPrefix("+") { word.removeFirst() }
        if ["nan", "inf", "infinity"].contains(word) || Self.plainNumber(Array(content))?.isFinite == false {
            return MLPError("\(place): \"\(shown)\" is not a finite number")
        }
        return MLPError("\(place): \"\(shown)\" is not a number")
    }
}
