// Animated GIFs through giflib: frames reduced to at most 256 colours, looped forever, written atomically.
import CGIF
import MLPKit
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes an animated GIF frame by frame; `finish(to:)` writes the file atomically.
///
/// Each frame is stored as the rectangle in which it differs from the frame before (the rest is kept: disposal
/// "do not dispose"), with a palette of its own: the exact colours when the rectangle has at most 256 of them
/// (the charts and figures here have a few dozen), else a fixed 6 × 7 × 6 colour cube (each channel rounded to
/// its nearest level, no dithering). The animation loops forever (the NETSCAPE2.0 extension).
public final class GIFWriter {
    /// Frame size in pixels.
    public let width: Int
    public let height: Int
    /// Hundredths of a second each frame is shown.
    public let delay: Int
    /// Frames appended so far.
    public private(set) var frameCount = 0

    private let sink = ByteSink()
    private var gif: UnsafeMutablePointer<GifFileType>?
    private var previous: [UInt8] = []

    /// Starts an animation of `width` × `height` frames shown `delay` hundredths of a second each (1…65535).
    public init(width: Int, height: Int, delay: Int) throws {
        guard width > 0, height > 0, width <= 65_535, height <= 65_535 else {
            throw MLPError("a GIF frame must be 1…65535 pixels wide and high, got \(width)×\(height)")
        }
        guard (1...65_535).contains(delay) else {
            throw MLPError("--gif-delay must be between 1 and 65535 hundredths of a second, got \(delay)")
        }
        self.width = width
        self.height = height
        self.delay = delay
        var error: Int32 = 0
        gif = EGifOpen(Unmanaged.passUnretained(sink).toOpaque(), { file, bytes, count in
            guard let file, let bytes, let user = file.pointee.UserData else { return 0 }
            Unmanaged<ByteSink>.fromOpaque(user).takeUnretainedValue().bytes
                .append(contentsOf: UnsafeBufferPointer(start: bytes, count: Int(count)))
            return count
        }, &error)
        guard let gif else { throw Self.failure("start", code: error) }
        EGifSetGifVersion(gif, true)
        try check(EGifPutScreenDesc(gif, Int32(width), Int32(height), 8, 0, nil), "write the screen descriptor")
        // Loop forever: application extension NETSCAPE2.0, sub-block 1, loop count 0.
        try check(EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE), "write the loop extension")
        var name = Array("NETSCAPE2.0".utf8)
        try check(EGifPutExtensionBlock(gif, 11, &name), "write the loop extension")
        var loop: [UInt8] = [1, 0, 0]
        try check(EGifPutExtensionBlock(gif, 3, &loop), "write the loop extension")
        try check(EGifPutExtensionTrailer(gif), "write the loop extension")
    }

    deinit {
        if let gif { EGifCloseFile(gif, nil) }
    }

    /// Appends `frame`, which must be `width` × `height`.
    public func append(_ frame: Canvas) throws {
        guard let gif else { throw MLPError("the GIF is already finished") }
        guard frame.width == width, frame.height == height else {
            throw MLPError("GIF frames must all be \(width)×\(height), got \(frame.width)×\(frame.height)")
        }
        let box = changedRectangle(frame.pixels)
        let indexed = IndexedImage(frame.pixels, width: width, box: box)
        previous = frame.pixels

        // Graphics control: keep what is left outside the next rectangle, show for `delay`.
        var control: [UInt8] = [0x04, UInt8(delay & 0xFF), UInt8(delay >> 8), 0]
        try check(EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, &control), "write a frame's timing")
        var colors = (0..<indexed.paletteSize).map { i -> GifColorType in
            let c = i < indexed.colors ? indexed.palette[i] : 0
            return GifColorType(Red: UInt8(c >> 16), Green: UInt8((c >> 8) & 0xFF), Blue: UInt8(c & 0xFF))
        }
        guard let map = GifMakeMapObject(Int32(indexed.paletteSize), &colors) else {
            throw MLPError("cannot write the GIF: giflib could not make a colour map")
        }
        defer { GifFreeMapObject(map) }
        try check(EGifPutImageDesc(gif, Int32(box.x), Int32(box.y), Int32(box.width), Int32(box.height), false, map),
                  "write a frame's descriptor")
        var pixels = indexed.indices
        try check(EGifPutLine(gif, &pixels, Int32(pixels.count)), "compress a frame")
        frameCount += 1
    }

    /// An animation that starts with the PNG frames at `paths` (a resumed run's earlier frames, read back from
    /// disk); nil when `paths` is empty. Throws an error naming a missing or unreadable frame.
    public static func resumed(frames paths: [String], delay: Int) throws -> GIFWriter? {
        var writer: GIFWriter?
        for path in paths {
            let image = try PNGFile.readRGB(path)
            var frame = Canvas(width: image.width, height: image.height)
            frame.pixels = image.pixels
            if writer == nil { writer = try GIFWriter(width: image.width, height: image.height, delay: delay) }
            try writer?.append(frame)
        }
        return writer
    }

    /// Ends the animation and writes it to `path`, replacing any file there atomically.
    public func finish(to path: String) throws {
        guard let gif else { throw MLPError("the GIF is already finished") }
        self.gif = nil
        var error: Int32 = 0
        guard EGifCloseFile(gif, &error) == GIF_OK else { throw Self.failure("finish", code: error) }
        try AtomicFile.write(sink.bytes, to: path)
    }

    /// The smallest rectangle outside which `pixels` equals the previous frame (the whole frame for the first,
    /// and at least one pixel).
    private func changedRectangle(_ pixels: [UInt8]) -> (x: Int, y: Int, width: Int, height: Int) {
        guard previous.count == pixels.count else { return (0, 0, width, height) }
        let rowBytes = width * 3
        var top = height, bottom = -1, left = width, right = -1
        pixels.withUnsafeBufferPointer { now in
            previous.withUnsafeBufferPointer { before in
                for y in 0..<height {
                    let row = y * rowBytes
                    guard memcmp(now.baseAddress! + row, before.baseAddress! + row, rowBytes) != 0 else { continue }
                    top = min(top, y)
                    bottom = y
                    var first = 0
                    while first < left * 3, now[row + first] == before[row + first] { first += 1 }
                    left = min(left, first / 3)
                    var last = rowBytes - 1
                    while last / 3 > right, now[row + last] == before[row + last] { last -= 1 }
                    right = max(right, last / 3)
                }
            }
        }
        guard bottom >= 0 else { return (0, 0, 1, 1) }
        return (left, top, right - left + 1, bottom - top + 1)
    }

    private func check(_ status: Int32, _ what: String) throws {
        guard status == GIF_OK else { throw Self.failure(what, code: gif?.pointee.Error ?? 0) }
    }

    private static func failure(_ what: String, code: Int32) -> MLPError {
        let reason = GifErrorString(code).map { String(cString: $0) } ?? "error \(code)"
        return MLPError("cannot \(what) of the GIF: \(reason)")
    }
}

/// Where giflib's output goes: the whole file in memory, so that it can be written atomically.
private final class ByteSink {
    var bytes: [UInt8] = []
}

/// A rectangle of an RGB image as palette indices.
struct IndexedImage {
    /// The colours, as 0xRRGGBB, `colors` of them (at most 256).
    private(set) var palette: [UInt32] = []
    private(set) var colors = 0
    /// One index per pixel of the rectangle, row by row.
    private(set) var indices: [UInt8] = []
    /// Whether the palette holds the rectangle's exact colours (else the 6 × 7 × 6 cube).
    private(set) var exact = true

    /// The palette's length in the file: a power of two, at least 2.
    var paletteSize: Int {
        var size = 2
        while size < colors { size *= 2 }
        return size
    }

    /// Indexes the `box` of `rgb` (an image `width` pixels wide, 3 bytes a pixel).
    init(_ rgb: [UInt8], width: Int, box: (x: Int, y: Int, width: Int, height: Int)) {
        indices = [UInt8](repeating: 0, count: box.width * box.height)
        if !indexExactly(rgb, width: width, box: box) {
            exact = false
            indexOnCube(rgb, width: width, box: box)
        }
    }

    /// Exact colours through a small open-addressing table; false (after stopping) at the 257th colour.
    private mutating func indexExactly(_ rgb: [UInt8], width: Int, box: (x: Int, y: Int, width: Int, height: Int)) -> Bool {
        var keys = [UInt32](repeating: .max, count: 1024), slots = [UInt8](repeating: 0, count: 1024)
        var table: [UInt32] = []
        var lastKey = UInt32.max, lastIndex: UInt8 = 0
        var out = 0
        for y in box.y..<(box.y + box.height) {
            var p = (y * width + box.x) * 3
            for _ in 0..<box.width {
                let key = UInt32(rgb[p]) << 16 | UInt32(rgb[p + 1]) << 8 | UInt32(rgb[p + 2])
                p += 3
                if key != lastKey {
                    var h = Int((key &* 2_654_435_761) >> 22)
                    while keys[h] != key && keys[h] != .max { h = (h + 1) & 1023 }
                    if keys[h] == .max {
                        guard table.count < 256 else { return false }
                        keys[h] = key
                        slots[h] = UInt8(table.count)
                        table.append(key)
                    }
                    lastKey = key
                    lastIndex = slots[h]
                }
                indices[out] = lastIndex
                out += 1
            }
        }
        palette = table
        colors = table.count
        return true
    }

    /// Each channel to its nearest level of a 6 × 7 × 6 cube (green, to which the eye is most sensitive, gets 7).
    private mutating func indexOnCube(_ rgb: [UInt8], width: Int, box: (x: Int, y: Int, width: Int, height: Int)) {
        palette = (0..<252).map { i in
            let r = UInt32(i / 42 * 255 / 5), g = UInt32(i / 6 % 7 * 255 / 6), b = UInt32(i % 6 * 255 / 5)
            return r << 16 | g << 8 | b
        }
        colors = 252
        var out = 0
        for y in box.y..<(box.y + box.height) {
            var p = (y * width + box.x) * 3
            for _ in 0..<box.width {
                let r = (Int(rgb[p]) * 5 + 127) / 255, g = (Int(rgb[p + 1]) * 6 + 127) / 255
                let b = (Int(rgb[p + 2]) * 5 + 127) / 255
                indices[out] = UInt8(r * 42 + g * 6 + b)
                p += 3
                out += 1
            }
        }
    }
}

/// What a GIF file holds, read back through giflib: for checking files, and for tests.
public struct GIFInfo: Sendable {
    public let width: Int
    public let height: Int
    /// Number of images (frames).
    public let frames: Int
    /// Whether it carries the NETSCAPE2.0 extension with a loop count of 0 (forever).
    public let loopsForever: Bool
    /// Each frame's delay in hundredths of a second (0 where a frame has no graphics control).
    public let delays: [Int]
    /// Each frame's rectangle: [left, top, width, height].
    public let rectangles: [[Int]]

    /// Reads the GIF at `path`.
    public init(contentsOf path: String) throws {
        var error: Int32 = 0
        guard let gif = DGifOpenFileName(path, &error) else {
            throw MLPError("cannot open \(path) as a GIF: \(GifErrorString(error).map { String(cString: $0) } ?? "")")
        }
        defer { DGifCloseFile(gif, nil) }
        guard DGifSlurp(gif) == GIF_OK else {
            throw MLPError("\(path) is not a valid GIF: \(GifErrorString(gif.pointee.Error).map { String(cString: $0) } ?? "")")
        }
        width = Int(gif.pointee.SWidth)
        height = Int(gif.pointee.SHeight)
        frames = Int(gif.pointee.ImageCount)
        var loops = false, delays: [Int] = [], rectangles: [[Int]] = []
        for f in 0..<frames {
            let image = gif.pointee.SavedImages[f]
            let d = image.ImageDesc
            rectangles.append([Int(d.Left), Int(d.Top), Int(d.Width), Int(d.Height)])
            var delay = 0
            for e in 0..<Int(image.ExtensionBlockCount) {
                let block = image.ExtensionBlocks[e]
                let bytes = Array(UnsafeBufferPointer(start: block.Bytes, count: Int(block.ByteCount)))
                if block.Function == APPLICATION_EXT_FUNC_CODE, bytes == Array("NETSCAPE2.0".utf8),
                   e + 1 < Int(image.ExtensionBlockCount) {
                    let next = image.ExtensionBlocks[e + 1]
                    let data = Array(UnsafeBufferPointer(start: next.Bytes, count: Int(next.ByteCount)))
                    loops = loops || data == [1, 0, 0]
                }
                if block.Function == GRAPHICS_EXT_FUNC_CODE, bytes.count == 4 {
                    delay = Int(bytes[1]) | Int(bytes[2]) << 8
                }
            }
            delays.append(delay)
        }
        loopsForever = loops
        self.delays = delays
        self.rectangles = rectangles
    }
}
