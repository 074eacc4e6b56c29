// A CSV field's syntax: the bytes of the format, where a field ends, and its text with quotes removed.

extension CSVTable {
    /// The bytes of the format.
    static let comma = UInt8(ascii: ","), quote = UInt8(ascii: "\""), newline = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r"), space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")

    /// Where the field starting at `from` ends (at its comma, or `end`).
    @inline(__always)
    static func skipField(_ p: UnsafePointer<UInt8>, from: Int, to end: Int) -> Int {
        var i = from
        if i < end && p[i] == quote {
            i += 1
            while i < end {
                if p[i] == quote {
                    if i + 1 < end && p[i + 1] == quote { i += 2; continue }
                    i += 1
                    break
                }
                i += 1
            }
        }
        while i < end && p[i] != comma { i += 1 }
        return i
    }

    /// The text of the field starting at `from` (quotes removed and `""` unescaped) and where it ends.
    static func fieldBytes(_ p: UnsafePointer<UInt8>, from: Int, to end: Int) -> (text: [UInt8], next: Int) {
        guard from < end && p[from] == quote else {
            let next = skipField(p, from: from, to: end)
            return (Array(UnsafeBufferPointer(start: p + from, count: next - from)), next)
        }
        var text: [UInt8] = []
        var i = from + 1
        while i < end {
            if p[i] == quote {
                if i + 1 < end && p[i + 1] == quote { text.append(quote); i += 2; continue }
                i += 1
                break
            }
            text.append(p[i])
            i += 1
        }
        while i < end && p[i] != comma { i += 1 }
        return (text, i)
    }

    /// `text` without the spaces and tabs around it.
    static func trimmed(_ text: [UInt8]) -> ArraySlice<UInt8> {
        var slice = text[...]
        while let first = slice.first, first == space || first == tab { slice.removeFirst() }
        while let last = slice.last, last == space || last == tab { slice.removeLast() }
        return slice
    }
}
