// Confusion-matrix heatmaps: cells shaded and labelled by count (PlotAxes.swift says what every chart promises).

/// A confusion matrix: cells shaded from white to dark blue by count, each with its count written in
/// it, rows labelled by true class and columns by predicted class.
public struct Heatmap: Sendable {
    /// Title above the matrix.
    public var title: String
    /// `counts[row][column]`; ragged rows are padded with zeros.
    public var counts: [[Int]]
    /// Class names for rows and columns; nil numbers them from 0.
    public var labels: [String]?
    /// Axis title for the rows.
    public var rowTitle: String
    /// Axis title for the columns.
    public var columnTitle: String
    /// Font scale for titles and labels; counts shrink below it if they would not fit their cells.
    public var textScale: Int
    /// Colour of the largest count (zero is white).
    public var color: RGB

    /// Creates a heatmap; draw it with ``draw(on:x:y:width:height:)``.
    public init(title: String = "", counts: [[Int]], labels: [String]? = nil, rowTitle: String = "true",
                columnTitle: String = "predicted", textScale: Int = 2, color: RGB = RGB(hex: 0x08306B)) {
        self.title = title
        self.counts = counts
        self.labels = labels
        self.rowTitle = rowTitle
        self.columnTitle = columnTitle
        self.textScale = max(textScale, 1)
        self.color = color
    }

    /// Fill for a cell holding fraction `t` of the largest count: white through mid-blue to `color`,
    /// a two-segment ramp that keeps mid values distinct from both ends.
    public func shade(_ t: Double) -> RGB {
        let f = Float(t.isFinite ? min(max(t, 0), 1) : 0)
        let light = RGB(hex: 0xF7FBFF), mid = RGB(hex: 0x6BAED6)
        return f < 0.5 ? light.mixed(with: mid, amount: f * 2) : mid.mixed(with: color, amount: (f - 0.5) * 2)
    }

    /// Draws the matrix inside the rectangle with top-left (`x`, `y`); nothing is drawn outside it.
    public func draw(on canvas: inout Canvas, x: Int, y: Int, width: Int, height: Int) {
        let s = textScale
        let rows = counts.count, cols = counts.map(\.count).max() ?? 0
        let th = Canvas.textHeight(scale: s)
        let pad = 4 * s, gap = 3 * s
        func label(_ i: Int) -> String { labels.flatMap { i < $0.count ? $0[i] : nil } ?? String(i) }
        canvas.withClip(x: x, y: y, width: width, height: height) { canvas in
            canvas.fillRect(x: x, y: y, width: width, height: height, color: .white)
            let titleHeight = title.isEmpty ? 0 : th + 2 * gap
            let rowLabelWidth = (0..<rows).map { Canvas.textWidth(label($0), scale: s) }.max() ?? 0
            let left = x + pad + (rowTitle.isEmpty ? 0 : th + gap) + rowLabelWidth + gap
            let top = y + pad + titleHeight
            let bottom = y + height - pad - (columnTitle.isEmpty ? 0 : th + gap) - th - gap
            let right = x + width - pad
            guard rows > 0, cols > 0 else {
                drawTitle(on: &canvas, centreX: x + width / 2, top: y + pad)
                canvas.drawText("no data", x: x + (width - Canvas.textWidth("no data", scale: s)) / 2,
                                y: y + height / 2 - th / 2, color: .gray, scale: s)
                return
            }
            let cell = max(min((right - left) / cols, (bottom - top) / rows), 1)
            let gridWidth = cell * cols, gridHeight = cell * rows
            let gx = left + max((right - left - gridWidth) / 2, 0), gy = top
            let maxCount = counts.joined().max() ?? 0
            // Counts use the largest font scale at which the widest one fits its cell with a margin.
            let widest = counts.joined().map { String($0) }.max { $0.count < $1.count } ?? "0"
            var numberScale = s
            while numberScale > 1
                && (Canvas.textWidth(widest, scale: numberScale) > cell - 4 || Canvas.textHeight(scale: numberScale) > cell - 4) {
                numberScale -= 1
            }
            let numbersFit = Canvas.textWidth(widest, scale: numberScale) <= cell - 2
                && BitmapFont.capHeight * numberScale <= cell - 2
            for r in 0..<rows {
                for c in 0..<cols {
                    let value = c < counts[r].count ? counts[r][c] : 0
                    let fill = shade(maxCount > 0 ? Double(value) / Double(maxCount) : 0)
                    let cx = gx + c * cell, cy = gy + r * cell
                    canvas.fillRect(x: cx, y: cy, width: cell, height: cell, color: fill)
                    guard numbersFit else { continue }
                    let text = String(value)
                    canvas.drawText(text, x: cx + (cell - Canvas.textWidth(text, scale: numberScale)) / 2,
                                    y: cy + (cell - BitmapFont.capHeight * numberScale) / 2,
                                    color: fill.luminance < 0.5 ? .white : .darkGray, scale: numberScale)
                }
            }
            // Thin white separators keep neighbouring cells of similar shade apart.
            if cell >= 8 {
                for i in 1..<max(rows, 1) { canvas.fillRect(x: gx, y: gy + i * cell, width: gridWidth, height: 1, color: .white) }
                for i in 1..<max(cols, 1) { canvas.fillRect(x: gx + i * cell, y: gy, width: 1, height: gridHeight, color: .white) }
            }
            canvas.strokeRect(x: gx - 1, y: gy - 1, width: gridWidth + 2, height: gridHeight + 2, color: .gray)
            let cap = BitmapFont.capHeight * s
            for r in 0..<rows {
                let text = label(r)
                canvas.drawText(text, x: gx - gap - Canvas.textWidth(text, scale: s), y: gy + r * cell + (cell - cap) / 2,
                                color: .darkGray, scale: s)
            }
            for c in 0..<cols {
                let text = label(c)
                canvas.drawText(text, x: gx + c * cell + (cell - Canvas.textWidth(text, scale: s)) / 2,
                                y: gy + gridHeight + gap, color: .darkGray, scale: s)
            }
            if !columnTitle.isEmpty {
                canvas.drawText(columnTitle, x: gx + (gridWidth - Canvas.textWidth(columnTitle, scale: s)) / 2,
                                y: gy + gridHeight + gap + th + gap, color: .darkGray, scale: s)
            }
            if !rowTitle.isEmpty {
                let length = Canvas.textWidth(rowTitle, scale: s)
                canvas.drawVerticalText(rowTitle, x: gx - gap - rowLabelWidth - gap - th, y: gy + (gridHeight - length) / 2,
                                        color: .darkGray, scale: s)
            }
            drawTitle(on: &canvas, centreX: gx + gridWidth / 2, top: y + pad)
        }
    }

    private func drawTitle(on canvas: inout Canvas, centreX: Int, top: Int) {
        guard !title.isEmpty else { return }
        canvas.drawText(title, x: centreX - Canvas.textWidth(title, scale: textScale, bold: true) / 2, y: top,
                        color: .black, scale: textScale, bold: true)
    }
}
