// Where `traverse` looks and draws: its circle and lattices in the latent square, and the digit's place in a frame.
import Foundation

extension TraverseDemo {
    /// Centre of the circle walked through the latent square.
    public static let centre = (x: 0.5, y: 0.5)
    /// Radius of the circle walked through the latent square.
    public static let radius = 0.4

    /// Point `index` of `count` on the circle: centre (0.5, 0.5), radius 0.4, angle 2π·index/count, so point 0
    /// is at angle 0, (0.9, 0.5), and the points go anticlockwise (latent 2 increasing first).
    public static func circlePoint(_ index: Int, of count: Int) -> (x: Double, y: Double) {
        let angle = 2 * Double.pi * Double(index) / Double(max(count, 1))
        return (centre.x + radius * cos(angle), centre.y + radius * sin(angle))
    }

    /// The centre of lattice cell (`column`, `row`) of a `size` × `size` lattice of the latent square:
    /// ((column + 0.5) / size, (row + 0.5) / size); row 0 is the bottom row (smallest latent 2).
    public static func latticePoint(column: Int, row: Int, of size: Int) -> (x: Double, y: Double) {
        ((Double(column) + 0.5) / Double(size), (Double(row) + 0.5) / Double(size))
    }

    /// `frame-0001.png` for frame 1 (the name `DiscDemo` and `AutoencoderDemo` use too).
    public static func frameName(_ frame: Int) -> String { DiscDemo.frameName(frame) }

    /// Width and height of every frame, in pixels.
    public static var frameSize: (width: Int, height: Int) { (FrameLayout.shared.width, FrameLayout.shared.height) }

    /// Each decoded value is drawn as a `digitScale` × `digitScale` block in a frame.
    public static let digitScale = 12

    /// Top-left pixel of the enlarged decoded digit in a frame: value (row r, column c) of the decode fills the
    /// block whose top-left pixel is (x + c·digitScale, y + r·digitScale).
    public static var digitOrigin: (x: Int, y: Int) { (FrameLayout.digitX, FrameLayout.digitY) }

    /// The points of a `size` × `size` lattice, bottom row first, left to right.
    static func lattice(_ size: Int) -> [(x: Double, y: Double)] {
        (0..<size).flatMap { row in (0..<size).map { latticePoint(column: $0, row: row, of: size) } }
    }
}
