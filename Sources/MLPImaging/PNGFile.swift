// Reading and writing PNG files through libpng's simplified API (png_image_*).
//
// The classic libpng API reports errors with setjmp/longjmp, which Swift cannot use safely; the
// simplified API keeps the longjmp inside libpng and returns 0 with a message in `png_image.message`.
// Writes encode to memory first and then replace the file atomically, so a failed write never leaves
// a truncated or deleted file behind.
import MLPKit
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CPNG
import CZlib

/// An 8-bit grayscale image: `width * height` bytes, row-major, 0 is black and 255 is white.
public struct GrayImage: Sendable, Equatable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// One byte per pixel, rows top to bottom.
    public var pixels: [UInt8]

    /// Wraps existing pixels; the count is checked when the image is written.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// PNG encoding, decoding and atomic file writes for ``Canvas`` (RGB) and ``GrayImage`` (grayscale).
public enum PNGFile {
    // png.h defines these as macros, which Swift does not import; values are from libpng 1.6's png.h.
    /// PNG_IMAGE_VERSION: the png_image layout this code was written against.
    private static let imageVersion: UInt32 = 1
    /// PNG_FORMAT_GRAY: one 8-bit sRGB channel.
    private static let formatGray: UInt32 = 0
    /// PNG_FORMAT_RGB (PNG_FORMAT_FLAG_COLOR): three 8-bit sRGB channels.
    private static let formatRGB: UInt32 = 0x02
    /// The 8-byte signature every PNG file starts with.
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    // MARK: Encoding

    /// Encodes `width` × `height` RGB pixels (3 bytes each, row-major) as a PNG file's bytes.
    public static func encode(rgb: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        try encode(rgb, width: width, height: height, channels: 3, context: "cannot encode PNG")
    }

    /// Encodes `width` × `height` grayscale pixels (1 byte each, row-major) as a PNG file's bytes.
    public static func encode(gray: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        try encode(gray, width: width, height: height, channels: 1, context: "cannot encode PNG")
    }

    // MARK: Writing

    /// Writes `canvas` to `path` as an RGB PNG, atomically: on any failure the file at `path`, if
    /// there was one, is left as it was.
    public static func write(_ canvas: Canvas, to path: String) throws {
        let bytes = try encode(canvas.pixels, width: canvas.width, height: canvas.height, channels: 3,
                               context: "cannot write \(path)")
        try AtomicFile.write(bytes, to: path)
    }

    /// Writes `image` to `path` as a grayscale PNG, atomically: on any failure the file at `path`, if
    /// there was one, is left as it was.
    public static func write(_ image: GrayImage, to path: String) throws {
        let bytes = try encode(image.pixels, width: image.width, height: image.height, channels: 1,
                               context: "cannot write \(path)")
        try AtomicFile.write(bytes, to: path)
    }

    // MARK: Reading

    /// Reads any PNG at `path` as 8-bit grayscale (colour is converted to luminance, transparency is
    /// composited on white). Decodes straight into the result's buffer, so it runs at libpng's speed.
    public static func readGray(_ path: String) throws -> GrayImage {
        let (width, height, pixels) = try read(path, format: formatGray, channels: 1)
        return GrayImage(width: width, height: height, pixels: pixels)
    }

    /// The width and height a PNG file's header declares (its first 24 bytes), without decoding it; nil when the
    /// file cannot be read or does not start as a PNG does (decoding it then says what is wrong).
    public static func size(of path: String) -> (width: Int, height: Int)? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var header = [UInt8](repeating: 0, count: 24)
        guard fread(&header, 1, 24, file) == 24, Array(header[0..<8]) == signature,
              Array(header[12..<16]) == Array("IHDR".utf8) else { return nil }
        func word(_ at: Int) -> Int { header[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (word(16), word(20))
    }

    /// Reads any PNG at `path` as 8-bit RGB, 3 bytes per pixel, row-major (transparency is composited
    /// on white).
    public static func readRGB(_ path: String) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        try read(path, format: formatRGB, channels: 3)
    }

    // MARK: Internals

    private static func encode(_ pixels: [UInt8], width: Int, height: Int, channels: Int,
                               context: String) throws -> [UInt8] {
        guard width > 0, height > 0 else {
            throw MLPError("\(context): image size \(width)x\(height) is empty; width and height must be positive")
        }
        // libpng takes 32-bit sizes and a 32-bit signed row stride.
        guard width <= Int(Int32.max) / channels, height <= Int(Int32.max) else {
            throw MLPError("\(context): image size \(width)x\(height) is too large for PNG")
        }
        let (count, overflow) = (width * channels).multipliedReportingOverflow(by: height)
        guard !overflow else { throw MLPError("\(context): image size \(width)x\(height) is too large") }
        guard pixels.count == count else {
            throw MLPError("\(context): a \(width)x\(height) image needs \(count) bytes of pixels, got \(pixels.count)")
        }

        var image = png_image()
        image.version = imageVersion
        image.width = UInt32(width)
        image.height = UInt32(height)
        image.format = channels == 1 ? formatGray : formatRGB
        defer { png_image_free(&image) }

        // One compression pass in the usual case: start with room for the worst case (stored deflate
        // blocks plus chunk overhead, as png.h's PNG_IMAGE_PNG_SIZE_MAX estimates), and only if libpng
        // still reports the buffer too small — it then says how big it must be — encode again.
        let raw = count + height
        var capacity = raw + raw / 8 + raw / 64 + 1024
        for _ in 0..<2 {
            var size = capacity
            var output = [UInt8](repeating: 0, count: capacity)
            let ok = pixels.withUnsafeBytes { src in
                output.withUnsafeMutableBytes { dst in
                    png_image_write_to_memory(&image, dst.baseAddress, &size, 0, src.baseAddress, 0, nil)
                }
            }
            if ok != 0 {
                output.removeSubrange(size...)
                return output
            }
            guard size > capacity else { break }
            capacity = size
            png_image_free(&image)
            image.warning_or_error = 0
        }
        throw MLPError("\(context): libpng could not encode the image: \(message(of: &image))")
    }

    private static func read(_ path: String, format: UInt32, channels: Int) throws
        -> (width: Int, height: Int, pixels: [UInt8]) {
        // Open the file ourselves: errno gives a precise reason (no such file, permission denied,
        // a folder), and the signature check gives a clear "not a PNG" before libpng is involved.
        guard let file = fopen(path, "rb") else {
            let reason = errno == ENOENT ? "no such file" : String(cString: strerror(errno))
            throw MLPError("cannot read PNG \(path): \(reason)")
        }
        defer { fclose(file) }
        var head = [UInt8](repeating: 0, count: 8)
        let got = head.withUnsafeMutableBytes { fread($0.baseAddress, 1, 8, file) }
        if got < 8 && ferror(file) != 0 {
            throw MLPError("cannot read PNG \(path): \(String(cString: strerror(errno)))")
        }
        guard got == 8, head == signature else {
            throw MLPError("cannot read PNG \(path): not a PNG file (it does not start with the PNG signature)")
        }
        rewind(file)

        var image = png_image()
        image.version = imageVersion
        defer { png_image_free(&image) }
        guard png_image_begin_read_from_stdio(&image, file) != 0 else {
            throw MLPError("cannot read PNG \(path): \(message(of: &image))")
        }
        let width = Int(image.width), height = Int(image.height)
        let (count, overflow) = (width * channels).multipliedReportingOverflow(by: height)
        guard width > 0, height > 0, !overflow, width * channels <= Int(Int32.max) else {
            throw MLPError("cannot read PNG \(path): unusable image size \(width)x\(height)")
        }
        image.format = format
        // Transparent pixels are composited on white; for gray output libpng uses the green channel.
        var white = png_color(red: 255, green: 255, blue: 255)
        var ok: Int32 = 0
        let pixels = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            ok = png_image_finish_read(&image, &white, buffer.baseAddress, Int32(width * channels), nil)
            initialized = ok != 0 ? count : 0
        }
        guard ok != 0 else {
            throw MLPError("cannot read PNG \(path): \(message(of: &image))")
        }
        return (width, height, pixels)
    }

    /// libpng's error text from `image.message`, a NUL-terminated char[64].
    private static func message(of image: inout png_image) -> String {
        let text = withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return text.isEmpty ? "unknown libpng error" : text
    }
}
