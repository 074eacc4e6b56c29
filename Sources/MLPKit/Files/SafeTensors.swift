// The safetensors file format (F32 tensors only): reading with full validation, and byte-exact writing.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A safetensors file: named 32-bit float tensors plus string metadata.
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

        var header: [UInt8] = Array("{".utf8)
        if !metadata.isEmpty {
            header += Array("\"__metadata__\":{".utf8)
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                if index > 0 { header.append(UInt8(ascii: ",")) }
                SafeTensors.appendJSONString(key, to: &header)
                header.append(UInt8(ascii: ":"))
                SafeTensors.appendJSONString(metadata[key]!, to: &header)
            }
            header.append(UInt8(ascii: "}"))
        }
        var offset = 0
        for (index, tensor) in sorted.enumerated() {
            if index > 0 || !metadata.isEmpty { header.append(UInt8(ascii: ",")) }
            SafeTensors.appendJSONString(tensor.name, to: &header)
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            let end = offset + tensor.values.count * 4
            header += Array(":{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}".utf8)
            offset = end
        }
        header.append(UInt8(ascii: "}"))
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

    // MARK: Reading

    /// Reads and validates the safetensors file at `path`.
    public static func read(_ path: String) throws -> SafeTensors {
        try SafeTensors(bytes: readWholeFile(path), path: path)
    }

    /// Parses and validates a safetensors file's bytes; `path` only names the file in error messages.
    public init(bytes: [UInt8], path: String) throws {
        func fail(_ problem: String) -> MLPError { MLPError("\(path) is not a valid safetensors file: \(problem)") }

        guard bytes.count >= 8 else {
            throw fail("it has \(bytes.count) bytes, too few for the 8-byte header length")
        }
        let declared = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
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
        guard case .object(let entries) = root else { throw fail("its header is not a JSON object") }

        let dataStart = 8 + headerLength
        let dataCount = bytes.count - dataStart
        var metadata: [String: String] = [:]
        var spans: [(name: String, shape: [Int], begin: Int, end: Int)] = []
        for (key, value) in entries {
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
            guard dtype == "F32" else {
                throw fail("tensor \"\(key)\" has dtype \(dtype); only F32 (32-bit float) tensors are supported")
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
            guard !overflow, product <= (end - begin) / 4, product * 4 == end - begin else {
                throw fail(
                    "tensor \"\(key)\": shape \(shape) needs \(overflow ? "too many" : String(product)) F32 values, but "
                        + "data_offsets [\(begin), \(end)] cover \(end - begin) bytes (\(Double(end - begin) / 4) values)")
            }
            spans.append((key, shape, begin, end))
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
        self.tensors = spans.map { span in
            let count = (span.end - span.begin) / 4
            let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                bytes.withUnsafeBytes { raw in
                    let base = dataStart + span.begin
                    for i in 0..<count {
                        let bits = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + i * 4, as: UInt32.self))
                        buffer[i] = Float(bitPattern: bits)
                    }
                }
                initialized = count
            }
            return Tensor(name: span.name, shape: span.shape, values: values)
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
        output.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): output += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x08: output += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: output += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x0A: output += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: output += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: output += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20: output += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}

/// The bytes of the file at `path`.
private func readWholeFile(_ path: String) throws -> [UInt8] {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { throw MLPError("cannot open \(path): \(String(cString: strerror(errno)))") }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n < 0 { throw MLPError("cannot read \(path): \(String(cString: strerror(errno)))") }
        if n == 0 { return bytes }
        bytes += chunk[0..<n]
    }
}

/// A parsed JSON value; objects keep their keys in order.
private indirect enum JSONValue {
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    /// The value as a non-negative integer, if it is one written without fraction or exponent.
    var nonNegativeInt: Int? {
        guard case .number(let text) = self, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int(text)
    }
}

/// A small strict JSON parser (RFC 8259) for safetensors headers, with a nesting limit; throws `MLPError`s
/// whose message says what is wrong and at which byte.
private struct JSONParser {
    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0

    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func error(_ problem: String) -> MLPError { MLPError("\(problem) at byte \(index)") }

    private mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard index < bytes.count, bytes[index] == byte else {
            throw error("expected '\(Character(Unicode.Scalar(byte)))'")
        }
        index += 1
    }

    private mutating func parseValue() throws -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of the header") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try parseWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try parseWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try parseWord("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character")
        }
    }

    private mutating func enter() throws {
        depth += 1
        if depth > 64 { throw error("JSON nested too deeply") }
    }

    private mutating func parseObject() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var entries: [(key: String, value: JSONValue)] = []
        var keys = Set<String>()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(entries)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try parseString()
            guard keys.insert(key).inserted else { throw error("duplicate key \"\(key)\"") }
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            entries.append((key, try parseValue()))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of the header") }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(entries)
            }
            try expect(UInt8(ascii: ","))
        }
    }

    private mutating func parseArray() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of the header") }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            try expect(UInt8(ascii: ","))
        }
    }

    private mutating func parseWord(_ word: String) throws {
        for byte in word.utf8 { try expect(byte) }
    }

    private mutating func parseNumber() throws -> JSONValue {
        let start = index
        func digits() -> Int {
            let first = index
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
            return index - first
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        let leadingZero = index < bytes.count && bytes[index] == 0x30
        let integerDigits = digits()
        guard integerDigits > 0, !(leadingZero && integerDigits > 1) else { throw error("malformed number") }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw error("malformed number") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw error("malformed number") }
        }
        return .number(String(decoding: bytes[start..<index], as: UTF8.self))
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("unexpected end of the header in a \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x61...0x66: digit = byte - 0x61 + 10
            case 0x41...0x46: digit = byte - 0x41 + 10
            default: throw error("bad \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private mutating func parseString() throws -> String {
        index += 1
        var output: [UInt8] = []
        while true {
            guard index < bytes.count else { throw error("unterminated string") }
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: output, as: UTF8.self)
            case 0..<0x20:
                index -= 1
                throw error("control character in a string")
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { throw error("unterminated string") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escape)
                case UInt8(ascii: "b"): output.append(0x08)
                case UInt8(ascii: "f"): output.append(0x0C)
                case UInt8(ascii: "n"): output.append(0x0A)
                case UInt8(ascii: "r"): output.append(0x0D)
                case UInt8(ascii: "t"): output.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try parseHex4()
                    if (0xD800..<0xDC00).contains(code) {
                        guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"),
                            bytes[index + 1] == UInt8(ascii: "u")
                        else { throw error("unpaired surrogate in a \\u escape") }
                        index += 2
                        let low = try parseHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in a \\u escape") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("unpaired surrogate in a \\u escape") }
                    output += Array(String(Character(scalar)).utf8)
                default:
                    throw error("bad escape sequence")
                }
            default:
                output.append(byte)
            }
        }
    }
}
