// What `traverse` draws: the frame layout (decoded digit beside the latent scatter and the path) and the lattice grid.
import MLPData
import MLPImaging
import MLPKit
import Foundation

extension TraverseDemo {
    /// `grid.png`: the decodes of a `size` × `size` lattice, cell (column, row) at its centre's place in the latent
    /// square (latent 2 increasing upward), inside axes labelled with latent coordinates.
    static func drawGrid(_ decodes: [Float], size: Int, background: Float) -> Canvas {
        let (frame, scale) = gridLayout(size)
        let cell = 28 * scale
        let title = "Decodes of a \(size)x\(size) lattice of the latent square"
        let width = max(frame.x + frame.width + 16, Canvas.textWidth(title, scale: 3) + 48)
        var canvas = Canvas(width: width, height: frame.y + frame.height + 12)
        canvas.drawText(title, x: 24, y: 14, color: .black, scale: 3)
        frame.drawAxes(on: &canvas)
        let area = frame.plotArea
        decodes.withUnsafeBufferPointer { all in
            for row in 0..<size {
                for column in 0..<size {
                    let i = row * size + column
                    let image = UnsafeBufferPointer(rebasing: all[i * 784 ..< (i + 1) * 784])
                    canvas.blitGray(LatentFigure.ink(image, background: background), width: 28, height: 28,
                                    atX: area.x + column * cell, atY: area.y + (size - 1 - row) * cell, scale: scale)
                }
            }
        }
        return canvas
    }

    /// The axes of `grid.png` for a `size` × `size` lattice, and the enlargement of each decode: cells of
    /// 28·scale pixels fill the plot area exactly, which is about 900 pixels wide (more for large lattices).
    static func gridLayout(_ size: Int) -> (frame: ScatterFrame, scale: Int) {
        let scale = max(1, 896 / (28 * size))
        return (squareFrame(title: "", plotSide: size * 28 * scale, x: 12, y: 48, textScale: 2), scale)
    }

    /// A scatter frame with ranges 0…1 on both axes whose plot area is exactly `plotSide` pixels square.
    static func squareFrame(title: String, plotSide: Int, x: Int, y: Int, textScale: Int) -> ScatterFrame {
        var width = plotSide + 120, height = plotSide + 110
        var frame: ScatterFrame
        var tries = 0
        repeat {
            frame = ScatterFrame(title: title, xLabel: "latent 1", yLabel: "latent 2", xRange: 0...1, yRange: 0...1,
                                 x: x, y: y, width: width, height: height, textScale: textScale)
            width += plotSide - frame.plotArea.width
            height += plotSide - frame.plotArea.height
            tries += 1
        } while (frame.plotArea.width != plotSide || frame.plotArea.height != plotSide) && tries < 5
        return frame
    }

    /// Where everything in a frame goes, and the drawing of its parts.
    struct FrameLayout: Sendable {
        /// Top-left of the enlarged decoded digit.
        static let digitX = 24, digitY = 64
        /// The fallback background's lattice: 16 × 16 cells of 28 pixels fill the 448-pixel plot area exactly.
        static let fallbackLattice = 16
        /// Side of the scatter's square plot area.
        static let plotSide = 448

        static let shared = FrameLayout()

        let scatter: ScatterFrame
        let width: Int, height: Int
        /// Top of the caption under the digit.
        let captionY: Int

        init() {
            let side = 28 * TraverseDemo.digitScale
            captionY = Self.digitY + side + 16
            // Laid out with a title line; the title's text itself does not move anything (see drawCommon).
            scatter = TraverseDemo.squareFrame(title: "codes", plotSide: Self.plotSide, x: Self.digitX + side + 20,
                                               y: 8, textScale: 2)
            // Even sizes, which video encoders want.
            width = (scatter.x + scatter.width + 8 + 1) / 2 * 2
            height = (max(scatter.y + scatter.height + 8, captionY + 130) + 1) / 2 * 2
        }

        /// The parts common to every frame: title, digit box, legend, scatter of `codes` and the circle.
        func background(digits: [Float], labels: [UInt8], codes: [(x: Double, y: Double)],
                        background: Float) -> Canvas {
            var canvas = Canvas(width: width, height: height)
            drawCommon(on: &canvas, scatterTitle: "codes of \(labels.count) test digits")
            digits.withUnsafeBufferPointer { all in
                scatter.drawPlot(on: &canvas) { canvas in
                    for (i, code) in codes.enumerated() {
                        let (px, py) = scatter.pixel(for: code.x, code.y)
                        let digit = UnsafeBufferPointer(rebasing: all[i * 784 ..< (i + 1) * 784])
                        canvas.blitGray(Self.halved(LatentFigure.ink(digit, background: background)), width: 14,
                                        height: 14, atX: px - 7, atY: py - 7, tint: RGB.tab10[Int(labels[i]) % 10],
                                        background: nil)
                    }
                }
            }
            drawCircle(on: &canvas)
            // The class colours, in a row under the caption.
            canvas.drawText("colour = digit class", x: Self.digitX, y: captionY + 70, color: .darkGray, scale: 2)
            for k in 0..<10 {
                let x = Self.digitX + 34 * k, y = captionY + 96
                canvas.fillRect(x: x, y: y + 1, width: 12, height: 12, color: RGB.tab10[k])
                canvas.drawText("\(k)", x: x + 16, y: y, color: .darkGray, scale: 2)
            }
            return canvas
        }

        /// The parts common to every frame when there are no test digits: the decodes of a `size` × `size`
        /// lattice, faint, fill the scatter instead.
        func background(lattice decodes: [Float], size: Int, background: Float) -> Canvas {
            var canvas = Canvas(width: width, height: height)
            drawCommon(on: &canvas, scatterTitle: "decodes of a \(size)x\(size) lattice")
            let area = scatter.plotArea, cell = area.width / max(size, 1)
            decodes.withUnsafeBufferPointer { all in
                scatter.drawPlot(on: &canvas) { canvas in
                    for row in 0..<size {
                        for column in 0..<size {
                            let i = row * size + column
                            let image = UnsafeBufferPointer(rebasing: all[i * 784 ..< (i + 1) * 784])
                            let ink = LatentFigure.ink(image, background: background).map { $0 * 0.45 }
                            canvas.blitGray(ink, width: 28, height: 28, atX: area.x + column * cell + (cell - 28) / 2,
                                            atY: area.y + (size - 1 - row) * cell + (cell - 28) / 2)
                        }
                    }
                }
            }
            drawCircle(on: &canvas)
            canvas.drawText("(no test digits: the decoded", x: Self.digitX, y: captionY + 70, color: .gray, scale: 2)
            canvas.drawText("lattice is drawn instead)", x: Self.digitX, y: captionY + 92, color: .gray, scale: 2)
            return canvas
        }

        /// Title, the digit's box and the scatter's axes.
        private func drawCommon(on canvas: inout Canvas, scatterTitle: String) {
            canvas.drawText("Latent traversal", x: Self.digitX, y: 18, color: .black, scale: 3, bold: true)
            let side = 28 * TraverseDemo.digitScale
            canvas.strokeRect(x: Self.digitX - 3, y: Self.digitY - 3, width: side + 6, height: side + 6,
                              color: .red, thickness: 2)
            let withTitle = ScatterFrame(title: scatterTitle, xLabel: "latent 1", yLabel: "latent 2", xRange: 0...1,
                                         yRange: 0...1, x: scatter.x, y: scatter.y, width: scatter.width,
                                         height: scatter.height, textScale: 2)
            // The title only changes the layout if it needs a line the frame was not laid out with.
            (withTitle.plotArea == scatter.plotArea ? withTitle : scatter).drawAxes(on: &canvas)
        }

        /// The circle's path, faint, over the scatter.
        private func drawCircle(on canvas: inout Canvas) {
            scatter.drawPlot(on: &canvas) { canvas in
                let steps = 240
                var previous = scatter.pixel(for: TraverseDemo.centre.x + TraverseDemo.radius, TraverseDemo.centre.y)
                for s in 1...steps {
                    let p = TraverseDemo.circlePoint(s, of: steps)
                    let next = scatter.pixel(for: p.x, p.y)
                    canvas.drawLine(x0: Float(previous.0), y0: Float(previous.1), x1: Float(next.0), y1: Float(next.1),
                                    color: RGB(hex: 0x9A9A9A), thickness: 2)
                    previous = next
                }
            }
        }

        /// Draws one frame on `canvas` (of `base`'s size): `base` with the decode of `point` enlarged, the caption,
        /// and the point marked. The pixels are copied over rather than the canvas replaced, so a worker reuses
        /// one buffer for all its frames.
        func draw(on canvas: inout Canvas, base: Canvas, decode: UnsafeBufferPointer<Float>,
                  point: (x: Double, y: Double), number: Int, of frames: Int, background: Float) {
            precondition(canvas.width == base.width && canvas.height == base.height, "frame and base differ in size")
            canvas.pixels.withUnsafeMutableBufferPointer { target in
                base.pixels.withUnsafeBufferPointer { source in
                    target.baseAddress!.update(from: source.baseAddress!, count: source.count)
                }
            }
            canvas.blitGray(LatentFigure.ink(decode, background: background), width: 28, height: 28,
                            atX: Self.digitX, atY: Self.digitY, scale: TraverseDemo.digitScale)
            canvas.drawText("frame \(number)/\(frames)", x: Self.digitX, y: captionY, color: .black, scale: 2,
                            bold: true)
            canvas.drawText(String(format: "latent (%.3f, %.3f)", point.x, point.y), x: Self.digitX,
                            y: captionY + 26, color: .black, scale: 2)
            let (px, py) = scatter.pixel(for: point.x, point.y)
            scatter.drawPlot(on: &canvas) { canvas in
                canvas.drawPoint(x: Float(px), y: Float(py), radius: 10, color: .white)
                canvas.drawPoint(x: Float(px), y: Float(py), radius: 8, color: .black)
                canvas.drawPoint(x: Float(px), y: Float(py), radius: 6, color: .red)
            }
        }

        /// A 28 × 28 image shrunk to 14 × 14 by averaging 2 × 2 blocks.
        static func halved(_ image: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: 196)
            for r in 0..<14 {
                for c in 0..<14 {
                    let i = 2 * r * 28 + 2 * c
                    out[r * 14 + c] = (image[i] + image[i + 1] + image[i + 28] + image[i + 29]) / 4
                }
            }
            return out
        }
    }
}
