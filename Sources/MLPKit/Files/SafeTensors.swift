// The safetensors file format: reading with full validation (floats and integers of 8 to 64 bits, as Float), and
// byte-exact writing (F32).

/// A safetensors file: named tensors, held as 32-bit floats, plus string metadata. Reading takes the element types
/// numpy and PyTorch write for data (`ElementType`); writing writes F32.
///
/// Layout: an 8-byte little-endian header length N; an N-byte JSON header
/// `{"__metadata__": {…}, "name": {"dtype": "F32", "shape": […], "data_offsets": [begin, end]}, …}` padded
/// with spaces so that 8 + N is a multiple of 8; then the little-endian tensor data, which the offsets
/// (relative to the start of the data) cover exactly, without gaps or overlaps.
///
/// Writing matches the reference Python package (`safetensors.numpy.save`) byte for byte: tensors sorted
/// by name (UTF-8 byte order), compact JSON, metadata keys sorted (Python's own key order varies from run to
/// run), and no `__metadata__` entry when there is no metadata. Equal contents always give identical bytes.
public struct SafeTensors: Sendable, Equatable {
    /// One named tensor: its shape and its values in row-major order.
    public struct Tensor: Sendable, Equatable {
        /// The tensor's name (its key in the file).
        public var name: String
        /// The size of each dimension; `[]` is a scalar (one value).
        public var shape: [Int]
        /// The `shape`-product values, row-major.
        public var values: [Float]

        /// Creates a tensor; `values.count` must equal the product of `shape` (checked when encoding).
        public init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    /// The largest header accepted when reading, in bytes (the Python package's limit too).
    public static let maxHeaderSize = 100_000_000

    /// The tensors: when read, in the order of their data in the file; when written, sorted by name.
    public var tensors: [Tensor]
    /// Free-form string metadata (the header's `__metadata__`).
    public var metadata: [String: String]

    /// Creates a file's contents from tensors and metadata.
    public init(tensors: [Tensor] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor called `name`, if any.
    public subscript(name: String) -> Tensor? {
        tensors.first { $0.name == name }
    }

    // MARK: Writing

    /// The file's bytes. Throws if a tensor's values do not match its shape, a dimension is negative,
    /// two tensors share a name, or a tensor is called `__metadata__`.
    public func encoded() throws -> [UInt8] {
        try encode(naming: "safetensors data")
    }

    /// Writes the file atomically (a reader never sees a partial file).
    public func write(to path: String) throws {
        try AtomicFile.write(encode(naming: path), to: path)
    }

    private func encode(naming target: String) throws -> [UInt8] {
        let sorted = tensors.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        for (index, tensor) in sorted.enumerated() {
            if tensor.name == "__metadata__" {
                throw MLPError("cannot write \(target): a tensor may not be called __metadata__")
            }
            if index > 0 && sorted[index - 1].name == tensor.name {
                throw MLPError("cannot write \(target): two tensors are called \"\(tensor.name)\"")
            }
            if let bad = tensor.shape.first(where: { $0 < 0 }) {
                throw MLPError("cannot write \(target): tensor \"\(tensor.name)\" has a negative dimension (\(bad))")
            }
            let (product, overflow) = SafeTensors.product(tensor.shape)
            if overflow || product != tensor.values.count {
                throw MLPError(
                    "cannot write \(target): tensor \"\(tensor.name)\" has shape \(tensor.shape) but "
                        + "\(tensor.values.count) values")
            }
        }

        var header = SafeTensors.headerJSON(metadata: metadata, tensors: sorted.map {
            (name: $0.name, dtype: "F32", shape: $0.shape, bytes: $0.values.count * 4)
        })
        let offset = sorted.reduce(0) { $0 + $1.values.count * 4 }
        header += repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8)

        var bytes: [UInt8] = []
        bytes.reserveCapacity(8 + header.count + offset)
        bytes += SafeTensors.littleEndianBytes(UInt64(header.count))
        bytes += header
        for tensor in sorted {
            for value in tensor.values { bytes += SafeTensors.littleEndianBytes(value.bitPattern) }
        }
        return bytes
    }

    /// The header's JSON for `tensors` laid out in the order given (each `bytes` long, one after another): compact,
    /// metadata keys sorted, strings escaped as the reference implementation does; no padding.
    package static func headerJSON(metadata: [String: String],
                                   tensors: [(name: String, dtype: String, shape: [Int], bytes: Int)]) -> [UInt8] {
        var header: [UInt8] = Array("{".utf8)
        if !metadata.isEmpty {
            header += Array("\"__metadata__\":{".utf8)
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                if index > 0 { header.append(UInt8(ascii: ",")) }
                appendJSONString(key, to: &header)
                header.append(UInt8(ascii: ":"))
                appendJSONString(metadata[key]!, to: &header)
            }
            header.append(UInt8(ascii: "}"))
        }
        var offset = 0
        for (index, tensor) in tensors.enumerated() {
            if index > 0 || !metadata.isEmpty { header.append(UInt8(ascii: ",")) }
            appendJSONString(tensor.name, to: &header)
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            let end = offset + tensor.bytes
            header += Array(":{\"dtype\":\"\(tensor.dtype)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}".utf8)
            offset = end
        }
        header.append(UInt8(ascii: "}"))
        return header
    }

    // MARK: Reading

    /// Reads and validates the safetensors file at `path`.
    public static func read(_ path: String) throws -> SafeTensors {
        try SafeTensors(bytes: WholeFile.read(path, kind: "a safetensors file"), path: path)
    }

    /// Parses and validates a safetensors file's bytes; `path` only names the file in error messages.
    public init(bytes: [UInt8], path: String) throws {
        let layout = try bytes.withUnsafeBytes { try Layout(parsing: $0, path: path) }
        metadata = layout.metadata
        tensors = layout.entries.map { entry in
            let values = [Float](unsafeUninitializedCapacity: entry.count) { buffer, initialized in
                bytes.withUnsafeBytes { raw in
                    entry.type.decode(entry.count,
                                      from: UnsafeRawBufferPointer(rebasing: raw[(layout.dataStart + entry.begin)...]),
                                      into: buffer.baseAddress!)
                }
                initialized = entry.count
            }
            return Tensor(name: entry.name, shape: entry.shape, values: values)
        }
    }

    /// A validated file's header: its metadata, and where each tensor's data lie, with its element type and shape.
    /// Reading it decodes nothing, so a mapped file's tensors can be read in place.
    public struct Layout: Sendable {
        /// One tensor's place in the file.
        public struct Entry: Sendable {
            /// The tensor's name.
            public let name: String
            /// Its shape.
            public let shape: [Int]
            /// Its element type.
            public let type: ElementType
            /// Its data: bytes begin ..< end of the data section.
            public let begin: Int, end: Int
            /// Its number of values.
            public var count: Int { (end - begin) / type.size }
        }

        /// The header's `__metadata__`.
        public let metadata: [String: String]
        /// The tensors, in the order of their data.
        public let entries: [Entry]
        /// Where the data section starts in the file (8 + the header's length).
        public let dataStart: Int

        /// The tensor called `name`, if any.
        public subscript(name: String) -> Entry? { entries.first { $0.name == name } }

        /// Parses and validates the header of the file `bytes` holds (its data section must be there whole);
        /// `path` names the file in errors.
        public init(parsing bytes: UnsafeRawBufferPointer, path: String) throws {
            func fail(_ problem: String) -> MLPError { MLPError("\(path) is not a valid safetensors file: \(problem)") }

            guard bytes.count >= 8 else {
                throw fail("it has \(bytes.count) bytes, too few for the 8-byte header length")
            }
            let declared = (0..<8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[$1]) }
            guard declared <= UInt64(SafeTensors.maxHeaderSize) else {
                throw fail("its header length (\(declared) bytes) is over the \(SafeTensors.maxHeaderSize)-byte limit")
            }
            let headerLength = Int(declared)
            guard 8 + headerLength <= bytes.count else {
                throw fail("its header length (\(headerLength) bytes) runs past the end of the file (\(bytes.count) bytes)")
            }
            guard let text = String(validating: bytes[8..<8 + headerLength], as: UTF8.self) else {
                throw fail("its header is not valid UTF-8")
            }
            guard text.utf8.first == UInt8(ascii: "{") else {
                throw fail("its header does not start with a JSON object ('{')")
            }
            let root: JSONValue
            do { root = try JSONParser.parse(Array(text.utf8)) } catch let error as MLPError {
                throw fail("its header is not valid JSON (\(error.message))")
            }
            guard case .object(let items) = root else { throw fail("its header is not a JSON object") }
            let dataStart = 8 + headerLength
            let dataCount = bytes.count - dataStart
            var metadata: [String: String] = [:]
            var spans: [(name: String, shape: [Int], type: ElementType, begin: Int, end: Int)] = []
            for (key, value) in items {
                if key == "__metadata__" {
                    guard case .object(let items) = value else { throw fail("__metadata__ is not a JSON object") }
                    for (name, item) in items {
                        guard case .string(let string) = item else {
                            throw fail("metadata entry \"\(name)\" is not a string")
                        }
                        metadata[name] = string
                    }
                    continue
                }
                guard case .object(let fields) = value else {
                    throw fail("the entry for tensor \"\(key)\" is not a JSON object")
                }
                func field(_ name: String) throws -> JSONValue {
                    guard let found = fields.first(where: { $0.key == name }) else {
                        throw fail("tensor \"\(key)\" has no \"\(name)\" field")
                    }
                    return found.value
                }
                guard case .string(let dtype) = try field("dtype") else {
                    throw fail("tensor \"\(key)\": \"dtype\" is not a string")
                }
                guard let type = ElementType(rawValue: dtype) else {
                    throw fail("tensor \"\(key)\" has dtype \(dtype); the types read are "
                               + ElementType.allCases.map(\.rawValue).joined(separator: ", "))
                }
                guard case .array(let shapeItems) = try field("shape"), shapeItems.allSatisfy({ $0.nonNegativeInt != nil })
                else {
                    throw fail("tensor \"\(key)\": \"shape\" is not a list of non-negative integers")
                }
                guard case .array(let offsetItems) = try field("data_offsets"), offsetItems.count == 2,
                    let begin = offsetItems[0].nonNegativeInt, let end = offsetItems[1].nonNegativeInt
                else {
                    throw fail("tensor \"\(key)\": \"data_offsets\" is not a pair of non-negative integers")
                }
                guard begin <= end, end <= dataCount else {
                    throw fail(
                        "tensor \"\(key)\": data_offsets [\(begin), \(end)] are out of range "
                            + "(the data section has \(dataCount) bytes)")
                }
                let shape = shapeItems.map { $0.nonNegativeInt! }
                let (product, overflow) = SafeTensors.product(shape)
                let size = type.size
                guard !overflow, product <= (end - begin) / size, product * size == end - begin else {
                    throw fail(
                        "tensor \"\(key)\": shape \(shape) needs \(overflow ? "too many" : String(product)) \(dtype) values, "
                            + "but data_offsets [\(begin), \(end)] cover \(end - begin) bytes "
                            + "(\(Double(end - begin) / Double(size)) values)")
                }
                spans.append((key, shape, type, begin, end))
            }

            spans.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
            var position = 0
            for (index, span) in spans.enumerated() {
                if span.begin != position {
                    let previous = index == 0 ? "the start of the data section" : "tensor \"\(spans[index - 1].name)\""
                    let problem = span.begin > position ? "leaving a gap" : "overlapping"
                    throw fail(
                        "tensor \"\(span.name)\" starts at byte \(span.begin) of the data section but "
                            + "\(previous) ends at \(position) (\(problem))")
                }
                position = span.end
            }
            guard position == dataCount else {
                throw fail("the tensors cover \(position) bytes but the data section has \(dataCount)")
            }
            self.metadata = metadata
            self.dataStart = dataStart
            entries = spans.map { Entry(name: $0.name, shape: $0.shape, type: $0.type, begin: $0.begin, end: $0.end) }
        }
    }

    /// The element types read, each decoded to Float: exactly, except F64 and I32 beyond 2²⁴ (rounded to nearest).
    public enum ElementType: String, CaseIterable, Sendable {
        case F64, F32, F16, BF16, I32, I16, I8, U16, U8

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .F64: 8
            case .F32, .I32: 4
            case .F16, .BF16, .I16, .U16: 2
            case .I8, .U8: 1
            }
        }

        /// Decodes `count` little-endian elements at `raw` into `values`.
        public func decode(_ count: Int, from raw: UnsafeRawBufferPointer, into values: UnsafeMutablePointer<Float>) {
            func each<T: FixedWidthInteger>(_: T.Type, _ convert: (T) -> Float) {
                for i in 0..<count {
                    values[i] = convert(T(littleEndian: raw.loadUnaligned(fromByteOffset: i * size, as: T.self)))
                }
            }
            switch self {
            case .F64: each(UInt64.self) { Float(Double(bitPattern: $0)) }
            case .F32: each(UInt32.self) { Float(bitPattern: $0) }
            case .F16: each(UInt16.self) { Float(Float16(bitPattern: $0)) }
            case .BF16: each(UInt16.self) { Float(bitPattern: UInt32($0) << 16) }
            case .I32: each(Int32.self) { Float($0) }
            case .I16: each(Int16.self) { Float($0) }
            case .I8: each(Int8.self) { Float($0) }
            case .U16: each(UInt16.self) { Float($0) }
            case .U8: each(UInt8.self) { Float($0) }
            }
        }
    }

    // MARK: Helpers

    private static func product(_ shape: [Int]) -> (Int, Bool) {
        var result = 1
        for dimension in shape {
            let (next, overflow) = result.multipliedReportingOverflow(by: dimension)
            if overflow { return (0, true) }
            result = next
        }
        return (result, false)
    }

    private static func littleEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }

    /// Appends `string` as a JSON string, escaped exactly as the reference implementation (serde_json) does.
    private static func appendJSONString(_ string: String, to output: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        let backslash = UInt8(ascii: "\\")
        output.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            let short: UInt8? = switch byte {
            case UInt8(ascii: "\""), backslash: byte
            case 0x08: UInt8(ascii: "b")
            case 0x0C: UInt8(ascii: "f")
            case 0x0A: UInt8(ascii: "n")
            case 0x0D: UInt8(ascii: "r")
            case 0x09: UInt8(ascii: "t")
            default: nil
            }
            if let short {
                output.append(backslash)
                output.append(short)
            } else if byte < 0x20 {
                output.append(contentsOf: [backslash, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                           hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            } else {
                output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
