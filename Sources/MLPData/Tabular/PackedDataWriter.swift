// Writing a packed data file (safetensors x and y) as rows arrive, so that its size is not bounded by memory.
import Foundation
import MLPKit

/// Writes `x` [n, features…] in a chosen element type as rows arrive, then `y` and the metadata, into one
/// safetensors file that `train --data` maps instead of reading. The file appears whole or not at all: it is
/// written beside its final name and renamed at the end (an error, or dropping the writer unfinished, removes it).
///
/// Layout: a header area reserved up front (its JSON padded with spaces), so the rows go straight to their place;
/// `x` first, then `y`. A header that outgrows the reserve (thousands of class names) is written by copying the
/// data behind a larger one.
public final class PackedDataWriter {
    /// The stored type of x.
    public enum ElementType: String, Sendable, CaseIterable {
        case u8, f16, f32

        var dtype: String { rawValue.uppercased() }
        var size: Int { self == .u8 ? 1 : self == .f16 ? 2 : 4 }
    }

    /// The final path.
    public let path: String
    /// x's stored type.
    public let type: ElementType
    /// Values per row.
    public let width: Int
    /// U8 only: what each byte is divided by when read (1 or 255).
    public let divisor: Float
    /// Whole rows written so far.
    public var rows: Int { values / width }
    /// Values written so far (a stretch of bytes may end inside a row).
    private var values = 0

    private let partial: String
    private let handle: FileHandle
    private let reserve: Int
    private var buffer: [UInt8] = []
    private var finished = false

    /// Starts `path` (written as `path.partial` until `finish`). `divisor` (1 or 255) applies to U8 only.
    public init(path: String, type: ElementType, width: Int, divisor: Float = 1) throws {
        guard width > 0 else { throw MLPError("\(path): rows of no values cannot be packed") }
        guard divisor == 1 || divisor == 255 else { throw MLPError("a U8 divisor is 1 or 255, not \(divisor)") }
        self.path = path
        self.type = type
        self.width = width
        self.divisor = divisor
        partial = path + ".partial"
        reserve = (4096 + 48 * width + 7) / 8 * 8
        guard FileManager.default.createFile(atPath: partial, contents: nil),
              let handle = FileHandle(forWritingAtPath: partial) else {
            throw MLPError("cannot write \(partial): \(String(cString: strerror(errno)))")
        }
        self.handle = handle
        try write(Array(repeating: 0x20, count: 8 + reserve))
        buffer.reserveCapacity(1 << 22)
    }

    deinit {
        try? handle.close()
        if !finished { try? FileManager.default.removeItem(atPath: partial) }
    }

    /// Appends rows `range` of `rows`, each value converted to x's type. Throws, naming the row (counted from the
    /// file's first) and the value, when one does not fit it: U8 takes the integers 0…255 (or, with divisor 255,
    /// the values b / 255), F16 the finite values up to 65,504 in size.
    public func append(_ rows: InputRows, _ range: Range<Int>) throws {
        precondition(rows.width == width)
        let row = UnsafeMutablePointer<Float>.allocate(capacity: width)
        defer { row.deallocate() }
        try rows.withReader { reader in
            for r in range {
                reader.copyRow(r, into: row)
                try append(row)
                values += width
            }
        }
        try flushIfFull()
    }

    /// Appends pixel bytes, each read as byte / `divisor` (byte / 255 for F16 and F32), which may begin or end
    /// inside a row (IDX images read a stretch at a time).
    public func appendBytes(_ bytes: UnsafeRawBufferPointer) throws {
        if type == .u8 {
            buffer.append(contentsOf: bytes)
        } else {
            try withRoom(bytes.count) { out in
                for (i, byte) in bytes.enumerated() { store(Float(byte) / 255, at: i, in: out) }
            }
        }
        values += bytes.count
        try flushIfFull()
    }

    /// Appends one row (number `rows`, counted from the file's first), converted to x's type.
    private func append(_ row: UnsafePointer<Float>) throws {
        try withRoom(width) { out in
            for j in 0..<width {
                let v = row[j]
                switch type {
                case .f32:
                    break
                case .f16:
                    guard Float16(v).isFinite || !v.isFinite else { throw misfit(row, j, "is too large for F16 (--dtype f16)") }
                case .u8:
                    let scaled = (v * divisor).rounded()
                    guard scaled >= 0, scaled <= 255, Float(UInt8(scaled)) / divisor == v else {
                        throw misfit(row, j, divisor == 1 ? "is not an integer from 0 to 255 (--dtype u8)"
                                                       : "is not a byte / 255 (--dtype u8)")
                    }
                }
                store(v, at: j, in: out)
            }
        }
    }

    private func misfit(_ row: UnsafePointer<Float>, _ j: Int, _ what: String) -> MLPError {
        MLPError("\(path): row \(rows + 1), value \(j + 1) is \(row[j]), which \(what)")
    }

    /// Calls `body` with room for `count` more values at the end of the buffer.
    private func withRoom(_ count: Int, _ body: (UnsafeMutableRawPointer) throws -> Void) throws {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: count * type.size))
        try buffer.withUnsafeMutableBytes { try body($0.baseAddress! + start) }
    }

    /// Stores value `i` of a stretch as x's type (a U8 value is a byte / `divisor`, checked by the caller).
    @inline(__always)
    private func store(_ value: Float, at i: Int, in out: UnsafeMutableRawPointer) {
        switch type {
        case .f32: out.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
        case .f16: out.storeBytes(of: Float16(value).bitPattern.littleEndian, toByteOffset: 2 * i, as: UInt16.self)
        case .u8: out.storeBytes(of: UInt8((value * divisor).rounded()), toByteOffset: i, as: UInt8.self)
        }
    }

    /// Writes `y` (`columns` values per row: class indices into `classes` when given, else numbers), the
    /// metadata, and the header, and puts the file in place. `shape` is one row's shape ([features] for a
    /// table, [height, width] for images).
    public func finish(y: [Float], columns: Int, classes: [String]?, shape: [Int], metadata: [String: String]) throws {
        precondition(shape.reduce(1, *) == width)
        guard rows > 0 else { throw MLPError("\(path): there are no rows to pack") }
        guard values % width == 0 else { throw MLPError("\(path): the values end inside a row") }
        guard y.count == rows * columns else {
            throw MLPError("\(path): \(rows) rows but \(y.count) target values (\(columns) per row)")
        }
        let xBytes = rows * width * type.size
        if let classes {
            for v in y { withUnsafeBytes(of: Int32(v).littleEndian) { buffer += $0 } }
            precondition(classes.count < 1 << 24)
        } else {
            for v in y { withUnsafeBytes(of: v.bitPattern.littleEndian) { buffer += $0 } }
        }
        try flush()
        var metadata = metadata
        if type == .u8 { metadata["x.divisor"] = divisor == 255 ? "255" : "1" }
        if let classes {
            metadata["y.classes"] = String(decoding: try JSONEncoder().encode(classes), as: UTF8.self)
        }
        let header = SafeTensors.headerJSON(metadata: metadata, tensors: [
            (name: "x", dtype: type.dtype, shape: [rows] + shape, bytes: xBytes),
            (name: "y", dtype: classes == nil ? "F32" : "I32", shape: columns == 1 ? [rows] : [rows, columns],
             bytes: rows * columns * 4),
        ])
        try handle.synchronize()
        if header.count <= reserve {
            try handle.seek(toOffset: 0)
            var start = withUnsafeBytes(of: UInt64(reserve).littleEndian) { Array($0) }
            start += header + Array(repeating: 0x20, count: reserve - header.count)
            handle.write(Data(start))
            try handle.synchronize()
            try handle.close()
        } else {
            try handle.close()
            try copyBehind(header, dataBytes: xBytes + rows * columns * 4)
        }
        finished = true
        guard rename(partial, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: partial)
            throw MLPError("cannot write \(path): \(reason)")
        }
    }

    /// Rewrites the partial file with `header` (padded to a multiple of 8) in front of its data section.
    private func copyBehind(_ header: [UInt8], dataBytes: Int) throws {
        let padded = header + Array(repeating: 0x20, count: (8 - header.count % 8) % 8)
        let larger = partial + ".header"
        guard FileManager.default.createFile(atPath: larger, contents: nil),
              let output = FileHandle(forWritingAtPath: larger), let input = FileHandle(forReadingAtPath: partial) else {
            throw MLPError("cannot write \(larger): \(String(cString: strerror(errno)))")
        }
        defer { try? output.close(); try? input.close() }
        output.write(Data(withUnsafeBytes(of: UInt64(padded.count).littleEndian) { Array($0) } + padded))
        try input.seek(toOffset: UInt64(8 + reserve))
        var left = dataBytes
        while left > 0 {
            let chunk = input.readData(ofLength: min(left, 1 << 24))
            guard !chunk.isEmpty else { throw MLPError("cannot read \(partial): it ended early") }
            output.write(chunk)
            left -= chunk.count
        }
        try output.synchronize()
        guard rename(larger, partial) == 0 else {
            throw MLPError("cannot write \(partial): \(String(cString: strerror(errno)))")
        }
    }

    /// The rows written so far, read back in place from the file being written (to fit statistics before
    /// `finish`, without holding the rows in memory).
    public func rowsWritten() throws -> InputRows {
        try flush()
        let encoding: InputRows.Encoding = switch type {
        case .u8: divisor == 255 ? .unitBytes : .plainBytes
        case .f16: .float16
        case .f32: .float32
        }
        return try InputRows(mapped: MappedFile(path: partial), offset: 8 + reserve, count: rows, width: width,
                             encoding: encoding)
    }

    private func flushIfFull() throws { if buffer.count >= 1 << 22 { try flush() } }

    private func flush() throws {
        try write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    private func write(_ bytes: [UInt8]) throws {
        do { try handle.write(contentsOf: Data(bytes)) } catch {
            throw MLPError("cannot write \(partial): \(error.localizedDescription)")
        }
    }
}
