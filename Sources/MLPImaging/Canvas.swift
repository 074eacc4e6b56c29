// An in-memory RGB image with the handful of drawing operations that figures need.
//
// Coordinates: x grows to the right, y grows downward, and pixel (i, j) is centred on the point (i, j),
// so a Float coordinate is rounded to the nearest pixel. Every operation clips silently — to the canvas
// and to the current clip rectangle (see `withClip`) — because plots routinely ask to draw partly
// outside their area and a figure should never trap over it.
import MLPKit

/// An 8-bit RGB image, row-major, three bytes per pixel, that plots are drawn on and PNGs are written from.
public struct Canvas: Sendable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// The image: `width * height * 3` bytes, rows top to bottom, each pixel as R, G, B.
    public var pixels: [UInt8]

    /// Half-open pixel rectangle that drawing is confined to; always inside the canvas.
    private var clip: (x0: Int, y0: Int, x1: Int, y1: Int)

    /// Creates a `width` × `height` canvas filled with `background`.
    public init(width: Int, height: Int, background: RGB = .white) {
        precondition(width >= 0 && height >= 0, "canvas size \(width)x\(height) is negative")
        let (count, overflow) = width.multipliedReportingOverflow(by: height)
        precondition(!overflow && count <= Int.max / 3, "canvas size \(width)x\(height) is too large")
        self.width = width
        self.height = height
        if background.r == background.g && background.g == background.b {
            pixels = [UInt8](repeating: background.r, count: count * 3)
        } else {
            pixels = [UInt8](unsafeUninitializedCapacity: count * 3) { buffer, initialized in
                for i in 0..<count {
                    buffer[3 * i] = background.r; buffer[3 * i + 1] = background.g; buffer[3 * i + 2] = background.b
                }
                initialized = count * 3
            }
        }
        clip = (0, 0, width, height)
    }

    /// The colour at (`x`, `y`). Reading outside the canvas is a programming error and traps; writing
    /// outside it (or outside the clip rectangle) does nothing, like every other drawing operation.
    public subscript(x: Int, y: Int) -> RGB {
        get {
            precondition(x >= 0 && x < width && y >= 0 && y < height,
                         "pixel (\(x), \(y)) is outside the \(width)x\(height) canvas")
            let i = (y * width + x) * 3
            return RGB(r: pixels[i], g: pixels[i + 1], b: pixels[i + 2])
        }
        set { put(x, y, newValue) }
    }

    // MARK: Clipping

    /// Runs `body` with drawing confined to the given rectangle (intersected with any clip already in
    /// force), then restores the previous clip; lets a chart guarantee it stays inside its panel.
    public mutating func withClip<R>(x: Int, y: Int, width: Int, height: Int,
                                     _ body: (inout Canvas) throws -> R) rethrows -> R {
        let saved = clip
        let x0 = max(saved.x0, x), y0 = max(saved.y0, y)
        let x1 = max(x0, min(saved.x1, x.addingClamped(width)))
        let y1 = max(y0, min(saved.y1, y.addingClamped(height)))
        clip = (x0, y0, x1, y1)
        defer { clip = saved }
        return try body(&self)
    }

    // MARK: Rectangles

    /// Fills the rectangle whose top-left pixel is (`x`, `y`).
    public mutating func fillRect(x: Int, y: Int, width: Int, height: Int, color: RGB) {
        let x0 = max(x, clip.x0), x1 = min(x.addingClamped(width), clip.x1)
        let y0 = max(y, clip.y0), y1 = min(y.addingClamped(height), clip.y1)
        guard x0 < x1, y0 < y1 else { return }
        let stride = self.width * 3
        pixels.withUnsafeMutableBufferPointer { p in
            for row in y0..<y1 {
                var i = row * stride + x0 * 3
                for _ in x0..<x1 {
                    p[i] = color.r; p[i + 1] = color.g; p[i + 2] = color.b
                    i += 3
                }
            }
        }
    }

    /// Draws the outline of a rectangle, `thickness` pixels wide, inside its bounds.
    public mutating func strokeRect(x: Int, y: Int, width: Int, height: Int, color: RGB, thickness: Int = 1) {
        guard width > 0, height > 0 else { return }
        let t = min(max(thickness, 1), min(width, height))
        fillRect(x: x, y: y, width: width, height: t, color: color)
        fillRect(x: x, y: y + height - t, width: width, height: t, color: color)
        fillRect(x: x, y: y + t, width: t, height: height - 2 * t, color: color)
        fillRect(x: x + width - t, y: y + t, width: t, height: height - 2 * t, color: color)
    }

    // MARK: Lines and points

    /// Draws a straight line from (`x0`, `y0`) to (`x1`, `y1`), `thickness` pixels wide (1–100) with
    /// round ends, so polylines join cleanly. Lines with a NaN or infinite end are skipped.
    public mutating func drawLine(x0: Float, y0: Float, x1: Float, y1: Float, color: RGB, thickness: Int = 1) {
        guard x0.isFinite, y0.isFinite, x1.isFinite, y1.isFinite, clip.x0 < clip.x1, clip.y0 < clip.y1 else { return }
        let t = min(max(thickness, 1), 100)
        // Clip the segment to the clip box (widened by the pen) first, so that a line to a far-away
        // point costs no more than one that crosses the canvas.
        // Done in Double: at 1e9 a Float is off by tens of pixels.
        let margin = Double(t)
        guard let (cx0, cy0, cx1, cy1) = Canvas.clipSegment(
            Double(x0), Double(y0), Double(x1), Double(y1),
            minX: Double(clip.x0) - margin, minY: Double(clip.y0) - margin,
            maxX: Double(clip.x1) + margin, maxY: Double(clip.y1) + margin)
        else { return }
        let ax = Float(cx0), ay = Float(cy0), bx = Float(cx1), by = Float(cy1)
        let pen = Canvas.penOffsets(thickness: t)
        let steps = Int(max(abs(bx - ax), abs(by - ay)).rounded(.up))
        if steps == 0 {
            stamp(Int(ax.rounded()), Int(ay.rounded()), pen, color)
            return
        }
        let dx = (bx - ax) / Float(steps), dy = (by - ay) / Float(steps)
        var lastX = Int.min, lastY = Int.min
        for i in 0...steps {
            let px = Int((ax + dx * Float(i)).rounded()), py = Int((ay + dy * Float(i)).rounded())
            if px == lastX && py == lastY { continue }
            stamp(px, py, pen, color)
            lastX = px; lastY = py
        }
    }

    /// Draws a filled disc of the given `radius` centred on (`x`, `y`): every pixel whose centre is
    /// within `radius`, and always at least the nearest pixel.
    public mutating func drawPoint(x: Float, y: Float, radius: Float, color: RGB) {
        guard x.isFinite, y.isFinite else { return }
        let r = radius.isFinite ? min(max(radius, 0), 1e6) : 0
        // Reject discs wholly outside the clip box before converting to Int, which traps on huge values.
        guard x + r >= Float(clip.x0) - 1, x - r <= Float(clip.x1) + 1,
              y + r >= Float(clip.y0) - 1, y - r <= Float(clip.y1) + 1 else { return }
        let cx = Int(x.rounded()), cy = Int(y.rounded())
        put(cx, cy, color)
        let reach = Int(r.rounded(.up))
        let r2 = r * r
        let j0 = max(cy - reach, clip.y0), j1 = min(cy + reach, clip.y1 - 1)
        let i0 = max(cx - reach, clip.x0), i1 = min(cx + reach, clip.x1 - 1)
        guard j0 <= j1, i0 <= i1 else { return }
        for j in j0...j1 {
            let fy = Float(j) - y
            for i in i0...i1 {
                let fx = Float(i) - x
                if fx * fx + fy * fy <= r2 { put(i, j, color) }
            }
        }
    }

    // MARK: Images

    /// Draws a grayscale image of `width` × `height` values, each enlarged to a `scale` × `scale` block,
    /// with its top-left corner at (`atX`, `atY`).
    ///
    /// Each value v is an amount of ink, clamped to [0, 1] (NaN counts as 0): the pixel becomes
    /// `(1 − v)·background + v·tint`, so with the defaults 0 is white and 1 is black. When `background`
    /// is nil only the ink is drawn: v is blended over whatever the canvas already holds and pixels
    /// with no ink are left alone, so thumbnails that overlap in a scatter plot don't paint boxes over
    /// each other.
    public mutating func blitGray(_ values: UnsafeBufferPointer<Float>, width: Int, height: Int,
                                  atX: Int, atY: Int, scale: Int = 1, tint: RGB = .black,
                                  background: RGB? = .white) {
        precondition(width >= 0 && height >= 0 && values.count >= width * height,
                     "blitGray: \(values.count) values cannot fill a \(width)x\(height) image")
        let s = max(scale, 1)
        // Skip the image early if it lies wholly outside the clip box.
        guard atX < clip.x1, atY < clip.y1, atX.addingClamped(width * s) > clip.x0,
              atY.addingClamped(height * s) > clip.y0 else { return }
        for row in 0..<height {
            let y0 = atY + row * s
            if y0 + s <= clip.y0 || y0 >= clip.y1 { continue }
            for col in 0..<width {
                let x0 = atX + col * s
                if x0 + s <= clip.x0 || x0 >= clip.x1 { continue }
                let raw = values[row * width + col]
                let v = raw.isNaN ? 0 : min(max(raw, 0), 1)
                if let background {
                    fillRect(x: x0, y: y0, width: s, height: s, color: background.mixed(with: tint, amount: v))
                } else if v >= 0.5 / 255 {
                    for y in max(y0, clip.y0)..<min(y0 + s, clip.y1) {
                        for x in max(x0, clip.x0)..<min(x0 + s, clip.x1) {
                            put(x, y, self[x, y].mixed(with: tint, amount: v))
                        }
                    }
                }
            }
        }
    }

    /// Array form of ``blitGray(_:width:height:atX:atY:scale:tint:background:)`` (the buffer form avoids
    /// copying when the values are a slice of a larger batch).
    public mutating func blitGray(_ values: [Float], width: Int, height: Int, atX: Int, atY: Int,
                                  scale: Int = 1, tint: RGB = .black, background: RGB? = .white) {
        values.withUnsafeBufferPointer {
            blitGray($0, width: width, height: height, atX: atX, atY: atY, scale: scale,
                     tint: tint, background: background)
        }
    }

    /// Copies `other` onto this canvas with its top-left corner at (`atX`, `atY`); used to compose a
    /// figure from separately drawn panels.
    public mutating func blit(_ other: Canvas, atX: Int, atY: Int) {
        let x0 = max(atX, clip.x0), x1 = min(atX.addingClamped(other.width), clip.x1)
        let y0 = max(atY, clip.y0), y1 = min(atY.addingClamped(other.height), clip.y1)
        guard x0 < x1, y0 < y1 else { return }
        let count = (x1 - x0) * 3
        let dstStride = width * 3, srcStride = other.width * 3
        pixels.withUnsafeMutableBufferPointer { dst in
            other.pixels.withUnsafeBufferPointer { src in
                for y in y0..<y1 {
                    let d = dst.baseAddress! + y * dstStride + x0 * 3
                    let s = src.baseAddress! + (y - atY) * srcStride + (x0 - atX) * 3
                    d.update(from: s, count: count)
                }
            }
        }
    }

    // MARK: Text

    /// Draws `text` in ``BitmapFont`` with the top-left of its first glyph at (`x`, `y`), each font pixel
    /// enlarged to `scale` × `scale`. `bold` thickens strokes by one pixel. A newline starts a new line.
    public mutating func drawText(_ text: String, x: Int, y: Int, color: RGB, scale: Int = 1, bold: Bool = false) {
        Canvas.forEachTextBlock(text, scale: scale, bold: bold) { bx, by, bw, bh in
            fillRect(x: x + bx, y: y + by, width: bw, height: bh, color: color)
        }
    }

    /// Draws `text` rotated a quarter turn anticlockwise (reading upward, as y-axis labels do); its
    /// bounding box has top-left (`x`, `y`), width `textHeight(scale:)` and height `textWidth(text, scale:)`.
    public mutating func drawVerticalText(_ text: String, x: Int, y: Int, color: RGB, scale: Int = 1,
                                          bold: Bool = false) {
        let length = Canvas.textWidth(text, scale: scale, bold: bold)
        Canvas.forEachTextBlock(text, scale: scale, bold: bold) { bx, by, bw, bh in
            fillRect(x: x + by, y: y + length - bx - bw, width: bh, height: bw, color: color)
        }
    }

    /// Width in pixels of the widest line of `text`: from the left edge of its first glyph to the right
    /// edge of its last, so centring on it is exact.
    public static func textWidth(_ text: String, scale: Int = 1, bold: Bool = false) -> Int {
        let s = max(scale, 1)
        var widest = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let n = line.unicodeScalars.count
            if n > 0 {
                widest = max(widest, ((n - 1) * BitmapFont.advance + BitmapFont.glyphWidth) * s + (bold ? 1 : 0))
            }
        }
        return widest
    }

    /// Height in pixels of `lines` lines of text, including room for descenders on the last line.
    public static func textHeight(scale: Int = 1, lines: Int = 1) -> Int {
        let s = max(scale, 1)
        guard lines > 0 else { return 0 }
        return ((lines - 1) * BitmapFont.lineHeight + BitmapFont.glyphHeight) * s
    }

    // MARK: Internals

    /// Sets one pixel if it lies inside the clip box.
    @inline(__always)
    private mutating func put(_ x: Int, _ y: Int, _ color: RGB) {
        guard x >= clip.x0, x < clip.x1, y >= clip.y0, y < clip.y1 else { return }
        let i = (y * width + x) * 3
        pixels[i] = color.r; pixels[i + 1] = color.g; pixels[i + 2] = color.b
    }

    private mutating func stamp(_ x: Int, _ y: Int, _ pen: [(Int, Int)], _ color: RGB) {
        for (dx, dy) in pen { put(x + dx, y + dy, color) }
    }

    /// Pixel offsets covered by a round pen `thickness` pixels across.
    private static func penOffsets(thickness t: Int) -> [(Int, Int)] {
        if t == 1 { return [(0, 0)] }
        let lo = -(t - 1) / 2, hi = lo + t - 1
        let c = Float(lo + hi) / 2, r = Float(t) / 2
        var offsets: [(Int, Int)] = []
        for dy in lo...hi {
            for dx in lo...hi {
                let fx = Float(dx) - c, fy = Float(dy) - c
                if fx * fx + fy * fy <= r * r + 0.01 { offsets.append((dx, dy)) }
            }
        }
        return offsets
    }

    /// Liang–Barsky clipping of a segment to a box; nil if nothing of it is inside.
    static func clipSegment(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double,
                            minX: Double, minY: Double, maxX: Double, maxY: Double)
        -> (Double, Double, Double, Double)? {
        let dx = x1 - x0, dy = y1 - y0
        var t0: Double = 0, t1: Double = 1
        for (p, q) in [(-dx, x0 - minX), (dx, maxX - x0), (-dy, y0 - minY), (dy, maxY - y0)] {
            if p == 0 {
                if q < 0 { return nil }
            } else {
                let r = q / p
                if p < 0 {
                    if r > t1 { return nil }
                    t0 = max(t0, r)
                } else {
                    if r < t0 { return nil }
                    t1 = min(t1, r)
                }
            }
        }
        return (x0 + t0 * dx, y0 + t0 * dy, x0 + t1 * dx, y0 + t1 * dy)
    }

    /// Calls `body` with each filled block (x, y, width, height) of `text` laid out from (0, 0).
    private static func forEachTextBlock(_ text: String, scale: Int, bold: Bool,
                                         _ body: (Int, Int, Int, Int) -> Void) {
        let s = max(scale, 1)
        var lineTop = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var left = 0
            for scalar in line.unicodeScalars {
                let rows = BitmapFont.rows(for: scalar)
                for (r, bits) in rows.enumerated() where bits != 0 {
                    for c in 0..<BitmapFont.glyphWidth where bits & (1 << (BitmapFont.glyphWidth - 1 - c)) != 0 {
                        body(left + c * s, lineTop + r * s, s + (bold ? 1 : 0), s)
                    }
                }
                left += BitmapFont.advance * s
            }
            lineTop += BitmapFont.lineHeight * s
        }
    }
}

extension Int {
    /// `self + other`, saturating instead of trapping, for rectangle edges given by callers.
    fileprivate func addingClamped(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}
