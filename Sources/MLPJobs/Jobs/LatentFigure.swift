// The figure the autoencoder and PCA share (the homework's plot_digits_dimreduced_examples): test digits with
// their reconstructions, then digits placed at their 2-D codes as thumbnails tinted by class.
import MLPData
import MLPImaging
import MLPKit

/// Draws digits, reconstructions and a 2-D embedding.
public enum LatentFigure {
    /// Digits (rows of 784 values, pixel / 255) turned into ink amounts for drawing: `background` is the value
    /// of a blank pixel (1 for the PNG mosaics, 0 for IDX), so either polarity draws as dark ink on white.
    static func ink(_ values: UnsafeBufferPointer<Float>, background: Float) -> [Float] {
        background > 0.5 ? values.map { 1 - $0 } : Array(values)
    }

    /// The figure: a title; a row of examples with their reconstructions below; a large scatter of `codes`
    /// (one (x, y) per digit in `digits`) drawn as 28×28 thumbnails tinted with the tab10 colour of their label,
    /// with a legend. `range` fixes the scatter's axes (nil fits the codes).
    public static func draw(title: String, examples: [Float], reconstructions: [Float], digits: [Float],
                            codes: [(Double, Double)], labels: [UInt8], background: Float,
                            range: (x: ClosedRange<Double>, y: ClosedRange<Double>)? = nil,
                            axisLabels: (String, String) = ("latent 1", "latent 2")) -> Canvas {
        let pixels = 784, exampleCount = examples.count / pixels
        let cell = 2 * 28 + 4
        let width = max(1400, 40 + exampleCount * cell)
        var canvas = Canvas(width: width, height: 1560)
        canvas.drawText(title, x: 24, y: 14, color: .black, scale: 3)

        // Row of examples and their reconstructions, enlarged 2×.
        let top = 60
        canvas.drawText("test digits", x: 24, y: top, color: .darkGray, scale: 2)
        canvas.drawText("reconstructions", x: 24, y: top + 24 + cell, color: .darkGray, scale: 2)
        examples.withUnsafeBufferPointer { originals in
            reconstructions.withUnsafeBufferPointer { decoded in
                for i in 0..<exampleCount {
                    let x = 24 + i * cell
                    let original = UnsafeBufferPointer(rebasing: originals[i * pixels ..< (i + 1) * pixels])
                    canvas.blitGray(ink(original, background: background), width: 28, height: 28,
                                    atX: x, atY: top + 22, scale: 2)
                    let rebuilt = UnsafeBufferPointer(rebasing: decoded[i * pixels ..< (i + 1) * pixels])
                    canvas.blitGray(ink(rebuilt, background: background), width: 28, height: 28,
                                    atX: x, atY: top + 46 + cell, scale: 2)
                }
            }
        }

        // The embedding: each digit as its own thumbnail at its code.
        let scatterTop = top + 60 + 2 * cell
        let frame: ScatterFrame
        if let range {
            frame = ScatterFrame(title: "2-D codes of \(codes.count) test digits", xLabel: axisLabels.0,
                                 yLabel: axisLabels.1, xRange: range.x, yRange: range.y,
                                 x: 10, y: scatterTop, width: width - 20, height: canvas.height - scatterTop - 10)
        } else {
            frame = ScatterFrame(title: "2-D codes of \(codes.count) test digits", xLabel: axisLabels.0,
                                 yLabel: axisLabels.1, fitting: codes,
                                 x: 10, y: scatterTop, width: width - 20, height: canvas.height - scatterTop - 10)
        }
        frame.drawAxes(on: &canvas)
        digits.withUnsafeBufferPointer { all in
            frame.drawPlot(on: &canvas) { canvas in
                for (i, code) in codes.enumerated() {
                    let (px, py) = frame.pixel(for: code.0, code.1)
                    let digit = UnsafeBufferPointer(rebasing: all[i * pixels ..< (i + 1) * pixels])
                    canvas.blitGray(ink(digit, background: background), width: 28, height: 28,
                                    atX: px - 14, atY: py - 14, tint: RGB.tab10[Int(labels[i]) % 10], background: nil)
                }
            }
        }
        let legend = Legend((0..<10).map { .init("\($0)", color: RGB.tab10[$0]) })
        legend.draw(on: &canvas, x: frame.plotArea.x + frame.plotArea.width - legend.size.width - 10,
                    y: frame.plotArea.y + 10)
        return canvas
    }
}
