// Reading the MNIST database's own IDX files, plain or gzip-compressed, with every size checked before allocating.
import MLPImaging
import MLPKit
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads MNIST in its original IDX format: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
/// `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each plain or gzip-compressed (`.gz`).
///
/// Polarity: IDX pixels are 0 for background and 255 for ink (white digits on black), the inverse of the PNG
/// mosaics. Loaded values are pixel / 255 (the bytes kept as bytes), so here background is 0.0; `Dataset.inverted()` converts.
///
/// Layout (all integers big-endian): an images file is the magic 0x00000803, the image count, 28 (rows),
/// 28 (columns), then count × 784 pixel bytes; a labels file is the magic 0x00000801, the count, then one byte
/// per label (0…9). Headers, sizes and labels are checked and reported as `MLPError`s naming the file.
public enum IDXLoader {
    /// The magic number that starts an images file (unsigned bytes, 3 dimensions).
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// The magic number that starts a labels file (unsigned bytes, 1 dimension).
    public static let labelsMagic: UInt32 = 0x0000_0801

    static let trainImages = "train-images-idx3-ubyte"
    static let trainLabels = "train-labels-idx1-ubyte"
    static let testImages = "t10k-images-idx3-ubyte"
    static let testLabels = "t10k-labels-idx1-ubyte"
    static let allNames = [trainImages, trainLabels, testImages, testLabels]

    /// Loads the training and test sets from the four IDX files in `folder` (each plain or `.gz`).
    public static func load(from folder: String) throws -> (train: Dataset, test: Dataset) {
        var paths: [String] = []
        var missing: [String] = []
        for name in allNames {
            if let path = locate(name, in: folder) { paths.append(path) } else { missing.append(name) }
        }
        guard missing.isEmpty else {
            throw MLPError(
                "cannot load MNIST from \(folder): missing \(missing.joined(separator: ", ")) "
                    + "(looked for each name plain and with .gz)")
        }
        let train = try load(images: paths[0], labels: paths[1])
        let test = try load(images: paths[2], labels: paths[3])
        return (train, test)
    }

    /// Loads the test set alone (`t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, plain or `.gz`).
    public static func loadTest(from folder: String) throws -> Dataset {
        let missing = [testImages, testLabels].filter { locate($0, in: folder) == nil }
        guard missing.isEmpty, let images = locate(testImages, in: folder), let labels = locate(testLabels, in: folder) else {
            throw MLPError("cannot load MNIST from \(folder): missing \(missing.joined(separator: ", ")) "
                           + "(looked for each name plain and with .gz)")
        }
        return try load(images: images, labels: labels)
    }

    /// Loads one images file and its labels file (each plain, or gzip if its name ends in `.gz`).
    public static func load(images imagesPath: String, labels labelsPath: String) throws -> Dataset {
        let (imageCount, pixels) = try readImages(imagesPath)
        let labels = try readLabels(labelsPath)
        guard labels.count == imageCount else {
            throw MLPError(
                "\(imagesPath) holds \(imageCount) images but \(labelsPath) holds \(labels.count) labels; "
                    + "they must match")
        }
        return Dataset(unchecked: pixels, labels: labels, rows: 28, columns: 28)
    }

    /// The path of `name` in `folder`: the plain file, else `name.gz`, else the same names with the last `-`
    /// written as `.` (`train-images.idx3-ubyte`, another common spelling); nil when none exists.
    static func locate(_ name: String, in folder: String) -> String? {
        var dotted = name
        if let dash = name.lastIndex(of: "-"), let previous = name[..<dash].lastIndex(of: "-") {
            dotted.replaceSubrange(previous...previous, with: ".")
        }
        for candidate in [name, name + ".gz", dotted, dotted + ".gz"] where MNIST.isFile(folder + "/" + candidate) {
            return folder + "/" + candidate
        }
        return nil
    }

    /// Reads an images file: returns the image count and the raw pixel bytes (count × 28 × 28).
    static func readImages(_ path: String) throws -> (count: Int, pixels: [UInt8]) {
        let source = try IDXSource(path: path)
        try checkMagic(source.read(4, what: "the magic number"), expected: imagesMagic, path: path)
        let header = try source.read(12, what: "an images header")
        let count = Int(bigEndianWord(header, 0))
        let rows = Int(bigEndianWord(header, 1))
        let columns = Int(bigEndianWord(header, 2))
        guard rows == 28 && columns == 28 else {
            throw MLPError("\(path) holds \(rows)×\(columns) images; MNIST images are 28×28")
        }
        let pixels = try source.readPayload(count * 784, what: "\(count) images of 28×28 bytes")
        return (count, pixels)
    }

    /// Reads a labels file: one byte per label, each checked to be 0…9.
    static func readLabels(_ path: String) throws -> [UInt8] {
        let source = try IDXSource(path: path)
        try checkMagic(source.read(4, what: "the magic number"), expected: labelsMagic, path: path)
        let count = Int(bigEndianWord(try source.read(4, what: "a labels header"), 0))
        let labels = try source.readPayload(count, what: "\(count) labels")
        if let bad = labels.firstIndex(where: { $0 > 9 }) {
            throw MLPError("\(path): label \(labels[bad]) at index \(bad) is out of range (labels are 0…9)")
        }
        return labels
    }

    /// Reads an IDX file of unsigned bytes with any number of dimensions (1 to 4): its shape and its bytes,
    /// sizes checked before allocating (`--data` for `train`: images of any size, labels of any range).
    public static func readBytes(_ path: String) throws -> (shape: [Int], bytes: [UInt8]) {
        let (source, shape, count) = try openBytes(path)
        return (shape, try source.readPayload(count, what: describe(shape)))
    }

    /// Reads an IDX file of unsigned bytes as `readBytes` does, but a stretch at a time: `shape(dimensions)` first,
    /// then `body(bytes)` for each stretch of at most `piece` bytes, in order, so that memory holds one stretch.
    public static func readBytes(_ path: String, inPiecesOf piece: Int, shape: ([Int]) throws -> Void,
                                 _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let (source, dimensions, count) = try openBytes(path)
        try shape(dimensions)
        try source.readPayload(count, what: describe(dimensions), piece: piece, body)
    }

    private static func describe(_ shape: [Int]) -> String { "\(shape.map(String.init).joined(separator: "×")) bytes" }

    /// Opens an IDX file of unsigned bytes and reads its header: the source at its payload, the shape, the bytes.
    private static func openBytes(_ path: String) throws -> (IDXSource, [Int], Int) {
        let source = try IDXSource(path: path)
        let magic = try source.read(4, what: "the magic number")
        let dimensions = Int(magic[3])
        guard magic[0] == 0, magic[1] == 0, magic[2] == 0x08, (1...4).contains(dimensions) else {
            let hint = magic[0] == 0x1f && magic[1] == 0x8b ? " (it is gzip-compressed: give it a .gz name)" : ""
            throw MLPError("\(path) is not an IDX file of unsigned bytes: it should start with 00 00 08 and 1 to 4 "
                           + "dimensions, but starts with \(magic.map { String($0, radix: 16) }.joined(separator: " "))\(hint)")
        }
        let header = try source.read(4 * dimensions, what: "the sizes of \(dimensions) dimensions")
        let shape = (0..<dimensions).map { Int(bigEndianWord(header, $0)) }
        let (count, overflow) = shape.reduce((1, false)) { product, size in
            let (value, over) = product.0.multipliedReportingOverflow(by: size)
            return (value, product.1 || over)
        }
        guard !overflow, count <= 1 << 34 else {
            throw MLPError("\(path): its header announces a shape \(shape) too large to read")
        }
        return (source, shape, count)
    }

    private static func bigEndianWord(_ bytes: [UInt8], _ index: Int) -> UInt32 {
        bytes[index * 4..<index * 4 + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    private static func checkMagic(_ header: [UInt8], expected: UInt32, path: String) throws {
        let magic = bigEndianWord(header, 0)
        if magic == expected { return }
        func hex(_ value: UInt32) -> String {
            let digits = String(value, radix: 16)
            return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
        }
        var hint = ""
        if header[0] == 0x1f && header[1] == 0x8b {
            hint = " (it is gzip-compressed: give it a .gz name)"
        } else if magic == imagesMagic {
            hint = " (that is an images file, but a labels file was expected)"
        } else if magic == labelsMagic {
            hint = " (that is a labels file, but an images file was expected)"
        }
        throw MLPError("\(path) is not an MNIST \(expected == imagesMagic ? "images" : "labels") file: "
            + "its magic number is \(hex(magic)), expected \(hex(expected))\(hint)")
    }
}

/// The bytes of one IDX file, plain (read with POSIX calls, size known up front) or gzip (inflated in pieces).
private final class IDXSource {
    let path: String
    private var descriptor: Int32 = -1
    private var fileSize = 0
    private var position = 0
    private var gzip: GzipReader?

    init(path: String) throws {
        self.path = path
        if path.hasSuffix(".gz") {
            let compressed = try WholeFile.read(path, kind: "an IDX file")
            fileSize = compressed.count
            gzip = try GzipReader(compressed: compressed, path: path)
            return
        }
        descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw MLPError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw MLPError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        fileSize = Int(info.st_size)
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Reads the next `size` bytes of the header (`what` names them in errors).
    func read(_ size: Int, what: String) throws -> [UInt8] {
        var header = [UInt8](repeating: 0, count: size)
        if let gzip {
            try header.withUnsafeMutableBytes { try gzip.readExactly(into: $0, what: what) }
        } else {
            guard fileSize >= position + size else {
                throw MLPError(
                    "cannot read \(path): the file is truncated (\(fileSize) bytes; it ends before \(what))")
            }
            try header.withUnsafeMutableBytes { try readFully(into: $0, at: position) }
        }
        position += size
        return header
    }

    /// Reads the `size` bytes after the header, checking first that the file holds exactly that many.
    func readPayload(_ size: Int, what: String) throws -> [UInt8] {
        try checkPayload(size, what: what)
        var payload = [UInt8](repeating: 0, count: size)
        try payload.withUnsafeMutableBytes { try fill($0, what: what) }
        try finishPayload(size, what: what)
        return payload
    }

    /// `readPayload` a stretch of at most `piece` bytes at a time, each passed to `body` in order.
    func readPayload(_ size: Int, what: String, piece: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try checkPayload(size, what: what)
        var buffer = [UInt8](repeating: 0, count: min(size, max(piece, 1)))
        var done = 0
        while done < size {
            let count = min(buffer.count, size - done)
            try buffer.withUnsafeMutableBytes { raw in
                let stretch = UnsafeMutableRawBufferPointer(rebasing: raw[0..<count])
                try fill(stretch, what: what)
                try body(UnsafeRawBufferPointer(stretch))
            }
            done += count
        }
        try finishPayload(size, what: what)
    }

    /// Fills `buffer` with the next bytes of the payload.
    private func fill(_ buffer: UnsafeMutableRawBufferPointer, what: String) throws {
        if let gzip {
            try gzip.readExactly(into: buffer, what: what)
        } else {
            try readFully(into: buffer, at: position)
        }
        position += buffer.count
    }

    /// Checks that a payload of `size` bytes fits the file.
    private func checkPayload(_ size: Int, what: String) throws {
        let expected = position + size
        if let gzip {
            // Deflate expands data at most ~1032×; a larger claim means a truncated file or a corrupt header.
            guard size <= gzip.compressedCount * 1032 + 4096 else {
                throw MLPError(
                    "cannot read \(path): its header announces \(what) (\(size) bytes), more than "
                        + "\(gzip.compressedCount) compressed bytes can hold; the file is truncated or corrupt")
            }
        } else if fileSize != expected {
            if fileSize < expected {
                throw MLPError(
                    "cannot read \(path): the file is truncated: its header announces \(what), which takes "
                        + "\(expected) bytes in all, but the file has only \(fileSize)")
            }
            throw MLPError(
                "cannot read \(path): the file has \(fileSize - expected) bytes more than the "
                    + "\(what) its header announces (\(expected) bytes expected)")
        }
    }

    /// Checks, after the payload, that a gzip file ends there.
    private func finishPayload(_ size: Int, what: String) throws {
        if let gzip, try !gzip.atEnd() {
            throw MLPError(
                "cannot read \(path): the decompressed file is longer than the \(what) its header "
                    + "announces (\(position) bytes expected)")
        }
    }

    private func readFully(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < buffer.count {
            let n = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw MLPError("cannot read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { throw MLPError("cannot read \(path): the file ended early (it changed while being read?)") }
            done += n
        }
    }
}
