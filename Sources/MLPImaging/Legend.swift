// A chart's legend: a box of coloured swatches with labels, and the corner a line chart puts it in.

/// Where a chart puts its legend inside the plot area.
public enum LegendPlacement: Sendable, Equatable {
    /// The corner that covers the fewest data points.
    case best
    /// Top-right corner of the plot area.
    case topRight
    /// Top-left corner of the plot area.
    case topLeft
    /// Bottom-right corner of the plot area.
    case bottomRight
    /// Bottom-left corner of the plot area.
    case bottomLeft
    /// No legend.
    case none
}

// MARK: - Legend

/// A box of coloured swatches with labels, for identifying series or classes.
public struct Legend: Sendable {
    /// One line of a legend.
    public struct Entry: Sendable {
        /// The label.
        public var name: String
        /// The swatch colour.
        public var color: RGB
        /// Draws the swatch as a dashed line, to match a dashed series.
        public var dashed: Bool

        /// Creates an entry.
        public init(_ name: String, color: RGB, dashed: Bool = false) {
            self.name = name
            self.color = color
            self.dashed = dashed
        }
    }

    /// The lines of the legend, top to bottom.
    public var entries: [Entry]
    /// Font scale of the labels.
    public var textScale: Int

    /// Creates a legend; it is drawn with ``draw(on:x:y:)`` once its ``size`` has been used to place it.
    public init(_ entries: [Entry], textScale: Int = 2) {
        self.entries = entries
        self.textScale = max(textScale, 1)
    }

    private var swatchLength: Int { 10 * textScale }
    private var padding: Int { 4 * textScale }
    private var rowHeight: Int { Canvas.textHeight(scale: textScale) + 2 * textScale }

    /// Width and height of the drawn box in pixels (0 × 0 when there are no entries).
    public var size: (width: Int, height: Int) {
        guard !entries.isEmpty else { return (0, 0) }
        let text = entries.map { Canvas.textWidth($0.name, scale: textScale) }.max() ?? 0
        return (2 * padding + swatchLength + 4 * textScale + text, 2 * padding + entries.count * rowHeight - 2 * textScale)
    }

    /// Draws the legend box with its top-left corner at (`x`, `y`).
    public func draw(on canvas: inout Canvas, x: Int, y: Int) {
        let (w, h) = size
        guard w > 0 else { return }
        canvas.fillRect(x: x, y: y, width: w, height: h, color: .white)
        canvas.strokeRect(x: x, y: y, width: w, height: h, color: .lightGray)
        let capHeight = BitmapFont.capHeight * textScale
        for (i, entry) in entries.enumerated() {
            let top = y + padding + i * rowHeight
            let mid = Float(top + capHeight / 2)
            let x0 = x + padding
            if entry.dashed {
                let dash = 3 * textScale
                var sx = x0
                while sx < x0 + swatchLength {
                    let end = min(sx + dash, x0 + swatchLength)
                    canvas.drawLine(x0: Float(sx), y0: mid, x1: Float(end - 1), y1: mid, color: entry.color,
                                    thickness: textScale)
                    sx += 2 * dash
                }
            } else {
                canvas.drawLine(x0: Float(x0), y0: mid, x1: Float(x0 + swatchLength - 1), y1: mid, color: entry.color,
                                thickness: textScale)
            }
            canvas.drawText(entry.name, x: x0 + swatchLength + 4 * textScale, y: top, color: .darkGray,
                            scale: textScale)
        }
    }
}
