// Colours for drawing: 8-bit sRGB triples, a few named greys, and matplotlib's tab10 palette so that
// figures look familiar to anyone used to Python plotting.
import MLPKit

/// An opaque 8-bit sRGB colour, the pixel type of ``Canvas``.
public struct RGB: Sendable, Equatable, Hashable {
    /// Red, 0–255.
    public var r: UInt8
    /// Green, 0–255.
    public var g: UInt8
    /// Blue, 0–255.
    public var b: UInt8

    /// Creates a colour from its three channels.
    public init(r: UInt8, g: UInt8, b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// Creates a colour from a `0xRRGGBB` literal, the way colours are usually written down.
    public init(hex: UInt32) {
        r = UInt8(truncatingIfNeeded: hex >> 16)
        g = UInt8(truncatingIfNeeded: hex >> 8)
        b = UInt8(truncatingIfNeeded: hex)
    }

    /// The colour `amount` of the way from `self` to `other` (0 gives `self`, 1 gives `other`; clamped),
    /// rounded per channel. Blending is done on the 8-bit values, which is what plots expect.
    public func mixed(with other: RGB, amount: Float) -> RGB {
        let t = amount.isNaN ? 0 : min(max(amount, 0), 1)
        @inline(__always) func lerp(_ a: UInt8, _ b: UInt8) -> UInt8 {
            UInt8(Float(a) + (Float(b) - Float(a)) * t + 0.5)
        }
        return RGB(r: lerp(r, other.r), g: lerp(g, other.g), b: lerp(b, other.b))
    }

    /// Perceived brightness in [0, 1] (Rec. 601 weights); used to pick readable text on a fill.
    public var luminance: Float {
        (0.299 * Float(r) + 0.587 * Float(g) + 0.114 * Float(b)) / 255
    }

    /// Pure white, the default figure background.
    public static let white = RGB(hex: 0xFFFFFF)
    /// Pure black.
    public static let black = RGB(hex: 0x000000)
    /// Near-black used for text and axes: softer than pure black, as in most plotting libraries.
    public static let darkGray = RGB(hex: 0x333333)
    /// Mid grey, for secondary text and frames.
    public static let gray = RGB(hex: 0x808080)
    /// Light grey, for gridlines that must not compete with data.
    public static let lightGray = RGB(hex: 0xDDDDDD)
    /// Very light grey, for panel backgrounds.
    public static let paleGray = RGB(hex: 0xF2F2F2)
    /// Red (tab10's red), for highlighting errors.
    public static let red = RGB(hex: 0xD62728)
    /// Blue (tab10's blue), the default series colour.
    public static let blue = RGB(hex: 0x1F77B4)
    /// Green (tab10's green).
    public static let green = RGB(hex: 0x2CA02C)
    /// Orange (tab10's orange).
    public static let orange = RGB(hex: 0xFF7F0E)

    /// matplotlib's ten-colour categorical palette, in its usual order: distinct, colour-blind aware,
    /// and the natural choice for ten digit classes.
    public static let tab10: [RGB] = [
        RGB(hex: 0x1F77B4), RGB(hex: 0xFF7F0E), RGB(hex: 0x2CA02C), RGB(hex: 0xD62728), RGB(hex: 0x9467BD),
        RGB(hex: 0x8C564B), RGB(hex: 0xE377C2), RGB(hex: 0x7F7F7F), RGB(hex: 0xBCBD22), RGB(hex: 0x17BECF),
    ]
}
