// Samples' inputs kept in the type they were stored in (floats, bytes or half floats), in memory or in a mapped
// file, and turned into floats a row at a time, when a batch is copied into its shard.

/// The input rows of `count` samples, `width` values each, kept as they were stored:
/// - `Float` values;
/// - bytes, each read as `table[byte]` (pixels as `byte / 255`, or inverted as `1 − byte / 255`), a quarter of
///   the memory;
/// - IEEE half floats (`Float16` bit patterns), half the memory;
/// in an array or in a memory-mapped file (``MappedFile``). A value becomes a `Float` only when its row is read
/// (``copyRow(_:into:)``), and it is the `Float` a decode of the whole would have given, bit for bit.
public struct InputRows: Sendable, Equatable {
    /// How a stored value becomes a `Float`.
    public enum Encoding: Sendable, Equatable {
        /// 32-bit floats, read as they are.
        case float32
        /// One byte per value, read as `table[byte]` (256 entries).
        case byte(table: [Float])
        /// IEEE 754 half floats.
        case float16

        /// Bytes per stored value.
        public var size: Int {
            switch self {
            case .float32: 4
            case .byte: 1
            case .float16: 2
            }
        }

        /// Bytes read as `byte / 255`: image pixels in [0, 1], as the image loaders have always read them.
        public static let unitBytes = Encoding.byte(table: (0..<256).map { Float($0) / 255 })
        /// Bytes read as their value, 0…255.
        public static let plainBytes = Encoding.byte(table: (0..<256).map { Float($0) })
    }

    /// Where the stored values are.
    enum Storage: Sendable {
        case floats([Float])
        case bytes([UInt8])
        case halves([UInt16])
        /// `count × width` values of the encoding at byte `offset` of a mapped file.
        case mapped(MappedFile, offset: Int)
    }

    /// Number of samples.
    public let count: Int
    /// Values per sample.
    public let width: Int
    /// How each stored value reads as a `Float`.
    public let encoding: Encoding
    let storage: Storage

    /// Rows of `width` floats, sample after sample.
    public init(floats: [Float], width: Int) throws {
        try self.init(storage: .floats(floats), values: floats.count, width: width, encoding: .float32)
    }

    /// Rows of `width` bytes, each read as `encoding`'s table entry (``Encoding/unitBytes`` for pixels).
    public init(bytes: [UInt8], width: Int, encoding: Encoding = .unitBytes) throws {
        guard case .byte(let table) = encoding, table.count == 256 else {
            throw MLPError("byte rows need a table of 256 values to read them through")
        }
        try self.init(storage: .bytes(bytes), values: bytes.count, width: width, encoding: encoding)
    }

    /// Rows of `width` half floats, given as their bit patterns.
    public init(halves: [UInt16], width: Int) throws {
        try self.init(storage: .halves(halves), values: halves.count, width: width, encoding: .float16)
    }

    /// `count` rows of `width` values of `encoding`, stored at byte `offset` of `file` (which they must fit in).
    public init(mapped file: MappedFile, offset: Int, count: Int, width: Int, encoding: Encoding) throws {
        guard count >= 0, width > 0, offset >= 0,
              count.multipliedReportingOverflow(by: width * encoding.size).overflow == false,
              offset + count * width * encoding.size <= file.size else {
            throw MLPError("\(file.path): \(count) rows of \(width) values do not fit in the file at byte \(offset)")
        }
        if case .float32 = encoding, offset % 4 != 0 {
            throw MLPError("\(file.path): float rows at byte \(offset) are not aligned to 4 bytes")
        }
        if case .float16 = encoding, offset % 2 != 0 {
            throw MLPError("\(file.path): half-float rows at byte \(offset) are not aligned to 2 bytes")
        }
        self.count = count
        self.width = width
        self.encoding = encoding
        storage = .mapped(file, offset: offset)
    }

    private init(storage: Storage, values: Int, width: Int, encoding: Encoding) throws {
        guard width > 0, values % width == 0 else {
            throw MLPError("a training set needs whole rows: \(values) inputs are not a multiple of \(width)")
        }
        self.storage = storage
        self.count = values / width
        self.width = width
        self.encoding = encoding
    }

    /// True when both hold the same number of rows of the same width, with equal values (as floats).
    public static func == (a: InputRows, b: InputRows) -> Bool {
        a.count == b.count && a.width == b.width && a.floats == b.floats
    }

    /// Throws, naming the file, when the rows are mapped from a file that changed since it was mapped (see
    /// `MappedFile.checkUnchanged`); rows in memory never change.
    public func checkUnchanged() throws {
        if case .mapped(let file, _) = storage { try file.checkUnchanged() }
    }

    /// Bytes the stored values take (in memory, or mapped).
    public var storedBytes: Int { count * width * encoding.size }

    /// Every value as a `Float`, sample after sample: the stored array itself for float rows, a decoded copy
    /// otherwise.
    public var floats: [Float] {
        if case .floats(let values) = storage { return values }
        return floats(rows: 0..<count)
    }

    /// Rows `range` as floats, sample after sample.
    public func floats(rows range: Range<Int>) -> [Float] {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "rows out of range")
        return [Float](unsafeUninitializedCapacity: range.count * width) { buffer, initialized in
            withReader { reader in
                for (r, row) in range.enumerated() { reader.copyRow(row, into: buffer.baseAddress! + r * width) }
            }
            initialized = range.count * width
        }
    }

    /// Copies row `row` into `destination` as `width` floats.
    public func copyRow(_ row: Int, into destination: UnsafeMutablePointer<Float>) {
        precondition(row >= 0 && row < count, "row out of range")
        withReader { $0.copyRow(row, into: destination) }
    }

    /// The same rows with every value v read as `transform(v)`. Byte rows keep their bytes and change their
    /// table, so the values are those of `transform` on each decoded value, bit for bit.
    public func mapValues(_ transform: (Float) -> Float) -> InputRows {
        if case .byte(let table) = encoding {
            return InputRows(storage: storage, count: count, width: width, encoding: .byte(table: table.map(transform)))
        }
        return try! InputRows(floats: floats.map(transform), width: width)
    }

    /// Rows `indices`, in that order, in memory and stored as these are (bytes stay bytes).
    public func gathering(_ indices: [Int]) -> InputRows {
        func gather<T>(_ type: T.Type, _ reader: RowReader) -> [T] {
            let base = reader.base.assumingMemoryBound(to: T.self)
            return [T](unsafeUninitializedCapacity: indices.count * width) { buffer, initialized in
                for (r, i) in indices.enumerated() {
                    (buffer.baseAddress! + r * width).initialize(from: base + i * width, count: width)
                }
                initialized = indices.count * width
            }
        }
        precondition(indices.allSatisfy { $0 >= 0 && $0 < count }, "rows out of range")
        return withReader { reader in
            switch encoding {
            case .float32: try! InputRows(floats: gather(Float.self, reader), width: width)
            case .byte: try! InputRows(bytes: gather(UInt8.self, reader), width: width, encoding: encoding)
            case .float16: try! InputRows(halves: gather(UInt16.self, reader), width: width)
            }
        }
    }

    /// The first `n` rows (all of them if there are fewer).
    public func prefix(_ n: Int) -> InputRows {
        let kept = max(0, min(n, count)), values = kept * width
        switch storage {
        case .floats(let array): return try! InputRows(floats: Array(array[0..<values]), width: width)
        case .bytes(let array): return try! InputRows(bytes: Array(array[0..<values]), width: width, encoding: encoding)
        case .halves(let array): return try! InputRows(halves: Array(array[0..<values]), width: width)
        case .mapped(let file, let offset):
            return try! InputRows(mapped: file, offset: offset, count: kept, width: width, encoding: encoding)
        }
    }

    private init(storage: Storage, count: Int, width: Int, encoding: Encoding) {
        self.storage = storage
        self.count = count
        self.width = width
        self.encoding = encoding
    }

    /// Calls `body` with a reader of the rows, valid only inside `body`.
    package func withReader<R>(_ body: (RowReader) throws -> R) rethrows -> R {
        func table<T>(_ body: (UnsafePointer<Float>?) throws -> T) rethrows -> T {
            guard case .byte(let values) = encoding else { return try body(nil) }
            return try values.withUnsafeBufferPointer { try body($0.baseAddress!) }
        }
        return try table { table in
            func reader(_ base: UnsafeRawPointer?) -> RowReader {
                RowReader(base: base ?? UnsafeRawPointer(bitPattern: 16)!, width: width, encoding: encoding.kind,
                          table: table)
            }
            switch storage {
            case .floats(let array): return try array.withUnsafeBytes { try body(reader($0.baseAddress)) }
            case .bytes(let array): return try array.withUnsafeBytes { try body(reader($0.baseAddress)) }
            case .halves(let array): return try array.withUnsafeBytes { try body(reader($0.baseAddress)) }
            case .mapped(let file, let offset): return try body(reader(file.base + offset))
            }
        }
    }
}

extension InputRows.Encoding {
    var kind: RowReader.Kind {
        switch self {
        case .float32: .float32
        case .byte: .byte
        case .float16: .float16
        }
    }
}

/// A borrowed view of input rows (see `InputRows.withReader`): reads a row, or one value, as floats. Float rows
/// are also readable in place (`floatRow`).
package struct RowReader: @unchecked Sendable {
    /// The stored type.
    package enum Kind: Sendable { case float32, byte, float16 }

    let base: UnsafeRawPointer
    /// Values per row.
    package let width: Int
    let encoding: Kind
    /// The 256 values of the bytes, for byte rows.
    let table: UnsafePointer<Float>?

    init(base: UnsafeRawPointer, width: Int, encoding: Kind, table: UnsafePointer<Float>?) {
        self.base = base
        self.width = width
        self.encoding = encoding
        self.table = table
    }

    /// A reader of float rows at `floats`.
    package init(floats: UnsafePointer<Float>, width: Int) {
        self.init(base: UnsafeRawPointer(floats), width: width, encoding: .float32, table: nil)
    }

    /// Row `row` in place, when the rows are floats.
    @inline(__always)
    package func floatRow(_ row: Int) -> UnsafePointer<Float>? {
        encoding == .float32 ? base.assumingMemoryBound(to: Float.self) + row * width : nil
    }

    /// Row `row`'s bytes, when the rows are bytes.
    @inline(__always)
    func byteRow(_ row: Int) -> UnsafePointer<UInt8>? {
        encoding == .byte ? base.assumingMemoryBound(to: UInt8.self) + row * width : nil
    }

    /// Writes row `row` into `destination` as `width` floats.
    @inline(__always)
    package func copyRow(_ row: Int, into destination: UnsafeMutablePointer<Float>) {
        switch encoding {
        case .float32:
            destination.update(from: base.assumingMemoryBound(to: Float.self) + row * width, count: width)
        case .byte:
            let bytes = base.assumingMemoryBound(to: UInt8.self) + row * width, table = table!
            for i in 0..<width { destination[i] = table[Int(bytes[i])] }
        case .float16:
            let halves = base.assumingMemoryBound(to: UInt16.self) + row * width
            for i in 0..<width { destination[i] = Float(Float16(bitPattern: halves[i])) }
        }
    }

    /// Value `index` of the rows (row-major), as a float.
    @inline(__always)
    package func value(_ index: Int) -> Float {
        switch encoding {
        case .float32: base.assumingMemoryBound(to: Float.self)[index]
        case .byte: table![Int(base.assumingMemoryBound(to: UInt8.self)[index])]
        case .float16: Float(Float16(bitPattern: base.assumingMemoryBound(to: UInt16.self)[index]))
        }
    }
}
