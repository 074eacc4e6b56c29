// Plot building blocks drawn on a Canvas inside a caller-given rectangle: line charts (training
// curves), a scatter frame (embeddings, thumbnails at data coordinates), a confusion-matrix heatmap,
// and a legend. They share one axes layout so that figures composed from several panels match.
//
// Every chart draws only inside its rectangle (it clips itself) and copes with empty input, single
// points, NaN/infinite values and constant data without trapping, because plotting is usually the last
// step of a long run and must not be the one that crashes.
import MLPKit
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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

// MARK: - Line chart

/// A line chart with titled axes, "nice" ticks, light gridlines and a legend: the standard picture of
/// training curves.
public struct LineChart: Sendable {
    /// One line on the chart.
    public struct Series: Sendable {
        /// Label shown in the legend; series with an empty name are left out of it.
        public var name: String
        /// Line colour.
        public var color: RGB
        /// (x, y) data points, drawn in order; a NaN or infinite coordinate breaks the line there.
        public var points: [(Double, Double)]
        /// Draws the line dashed, e.g. to tell validation from training curves apart in print.
        public var dashed: Bool
        /// Line width in pixels.
        public var thickness: Int
        /// Marks every point with a dot (points with no neighbour are always marked, or they'd vanish).
        public var markers: Bool

        /// Creates a series.
        public init(name: String, color: RGB, points: [(Double, Double)], dashed: Bool = false,
                    thickness: Int = 2, markers: Bool = false) {
            self.name = name
            self.color = color
            self.points = points
            self.dashed = dashed
            self.thickness = max(thickness, 1)
            self.markers = markers
        }
    }

    /// Title above the plot.
    public var title: String
    /// Label under the x axis.
    public var xLabel: String
    /// Label beside the y axis.
    public var yLabel: String
    /// The lines, drawn in order (later ones on top).
    public var series: [Series]
    /// Fixed x range; nil fits the data with 3% padding, so end points and markers are not cut off.
    public var xRange: ClosedRange<Double>?
    /// Fixed y range; nil fits the data with 5% padding.
    public var yRange: ClosedRange<Double>?
    /// Where the legend goes.
    public var legend: LegendPlacement
    /// Font scale for all text (2 reads well in a figure about 1000 pixels wide).
    public var textScale: Int
    /// Colour of the panel around the plot area.
    public var background: RGB

    /// Creates a chart; draw it with ``draw(on:x:y:width:height:)``.
    public init(title: String = "", xLabel: String = "", yLabel: String = "", series: [Series] = [],
                xRange: ClosedRange<Double>? = nil, yRange: ClosedRange<Double>? = nil,
                legend: LegendPlacement = .best, textScale: Int = 2, background: RGB = .white) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.xRange = xRange
        self.yRange = yRange
        self.legend = legend
        self.textScale = max(textScale, 1)
        self.background = background
    }

    /// Draws the chart inside the rectangle with top-left (`x`, `y`); nothing is drawn outside it.
    public func draw(on canvas: inout Canvas, x: Int, y: Int, width: Int, height: Int) {
        let allPoints = series.flatMap(\.points)
        let xs = allPoints.map(\.0), ys = allPoints.map(\.1)
        let finiteXs = xs.filter(\.isFinite)
        let xr = AxisMath.usableRange(xRange) ?? AxisMath.autoRange(finiteXs, padding: 0.03)
        let yr = AxisMath.usableRange(yRange) ?? AxisMath.autoRange(ys, padding: 0.05)
        let integerX = !finiteXs.isEmpty && finiteXs.allSatisfy { $0 == $0.rounded() }
        let axes = PlotAxes(title: title, xLabel: xLabel, yLabel: yLabel, xRange: xr, yRange: yr,
                            integerX: integerX, scale: textScale, x: x, y: y, width: width, height: height)
        canvas.withClip(x: x, y: y, width: width, height: height) { canvas in
            canvas.fillRect(x: x, y: y, width: width, height: height, color: background)
            axes.drawGrid(on: &canvas)
            canvas.withClip(x: axes.plotX, y: axes.plotY, width: axes.plotWidth, height: axes.plotHeight) { canvas in
                for s in series { drawSeries(s, axes: axes, on: &canvas) }
            }
            axes.drawFrame(on: &canvas)
            drawLegend(axes: axes, on: &canvas)
        }
    }

    private func drawSeries(_ s: Series, axes: PlotAxes, on canvas: inout Canvas) {
        // Split into runs of finite points, in pixel space.
        var runs: [[(Float, Float)]] = [[]]
        for (px, py) in s.points {
            if px.isFinite && py.isFinite {
                runs[runs.count - 1].append((axes.pixelX(px), axes.pixelY(py)))
            } else if !runs[runs.count - 1].isEmpty {
                runs.append([])
            }
        }
        let t = s.thickness
        let dotRadius = Float(t) + 1
        for run in runs where !run.isEmpty {
            if run.count == 1 || s.markers {
                for p in run { canvas.drawPoint(x: p.0, y: p.1, radius: dotRadius, color: s.color) }
            }
            guard run.count > 1 else { continue }
            if s.dashed {
                drawDashed(run, on: &canvas, color: s.color, thickness: t)
            } else {
                for i in 1..<run.count {
                    canvas.drawLine(x0: run[i - 1].0, y0: run[i - 1].1, x1: run[i].0, y1: run[i].1, color: s.color,
                                    thickness: t)
                }
            }
        }
    }

    /// Dashes continue across vertices, so a dashed curve through many points still looks dashed.
    private func drawDashed(_ run: [(Float, Float)], on canvas: inout Canvas, color: RGB, thickness: Int) {
        let on = Float(4 * thickness + 4), off = Float(2 * thickness + 3)
        var drawing = true
        var left = on
        for i in 1..<run.count {
            let (ax, ay) = run[i - 1], (bx, by) = run[i]
            let length = ((bx - ax) * (bx - ax) + (by - ay) * (by - ay)).squareRoot()
            guard length > 0 else { continue }
            // Far-off segments were clamped to the edge of a huge box; don't walk them dash by dash.
            if length > 20_000 {
                canvas.drawLine(x0: ax, y0: ay, x1: bx, y1: by, color: color, thickness: thickness)
                continue
            }
            var pos: Float = 0
            while pos < length {
                let step = min(left, length - pos)
                if drawing {
                    let f0 = pos / length, f1 = (pos + step) / length
                    canvas.drawLine(x0: ax + (bx - ax) * f0, y0: ay + (by - ay) * f0,
                                    x1: ax + (bx - ax) * f1, y1: ay + (by - ay) * f1, color: color, thickness: thickness)
                }
                pos += step
                left -= step
                if left <= 0 {
                    drawing.toggle()
                    left = drawing ? on : off
                }
            }
        }
    }

    private func drawLegend(axes: PlotAxes, on canvas: inout Canvas) {
        let entries = series.filter { !$0.name.isEmpty }.map { Legend.Entry($0.name, color: $0.color, dashed: $0.dashed) }
        guard legend != .none, !entries.isEmpty else { return }
        let box = Legend(entries, textScale: textScale)
        let (w, h) = box.size
        let margin = 3 * textScale
        guard w + 2 * margin <= axes.plotWidth, h + 2 * margin <= axes.plotHeight else { return }
        let left = axes.plotX + margin, right = axes.plotX + axes.plotWidth - margin - w
        let top = axes.plotY + margin, bottom = axes.plotY + axes.plotHeight - margin - h
        let corners: [(LegendPlacement, Int, Int)] = [
            (.topRight, right, top), (.topLeft, left, top), (.bottomRight, right, bottom), (.bottomLeft, left, bottom),
        ]
        var chosen = corners[0]
        if legend == .best {
            // Sample every line every few pixels and pick the corner whose box covers the fewest samples.
            var samples: [(Float, Float)] = []
            for s in series {
                let pts = s.points.filter { $0.0.isFinite && $0.1.isFinite }.map { (axes.pixelX($0.0), axes.pixelY($0.1)) }
                samples += pts
                if pts.count > 1 {
                    for i in 1..<pts.count {
                        let (ax, ay) = pts[i - 1], (bx, by) = pts[i]
                        let n = min(Int(max(abs(bx - ax), abs(by - ay)) / 4), 500)
                        if n > 1 { for k in 1..<n { let f = Float(k) / Float(n); samples.append((ax + (bx - ax) * f, ay + (by - ay) * f)) } }
                    }
                }
            }
            var fewest = Int.max
            for corner in corners {
                let x0 = Float(corner.1 - margin), x1 = Float(corner.1 + w + margin)
                let y0 = Float(corner.2 - margin), y1 = Float(corner.2 + h + margin)
                let covered = samples.reduce(0) { $0 + ($1.0 >= x0 && $1.0 <= x1 && $1.1 >= y0 && $1.1 <= y1 ? 1 : 0) }
                if covered < fewest { fewest = covered; chosen = corner }
            }
        } else if let corner = corners.first(where: { $0.0 == legend }) {
            chosen = corner
        }
        box.draw(on: &canvas, x: chosen.1, y: chosen.2)
    }
}

// MARK: - Scatter frame

/// Axes that map data coordinates to pixels inside a rectangle, for scatter plots of points or of
/// image thumbnails. Draw the axes, then place marks at ``pixel(for:_:)`` (inside ``drawPlot(on:_:)`` to
/// keep them within the plot area).
public struct ScatterFrame: Sendable {
    private let axes: PlotAxes
    /// The rectangle the frame was laid out in.
    public let x: Int, y: Int, width: Int, height: Int
    /// The data range shown along x.
    public var xRange: ClosedRange<Double> { axes.xRange }
    /// The data range shown along y.
    public var yRange: ClosedRange<Double> { axes.yRange }
    /// The plot area (inside the axes frame) in canvas pixels.
    public var plotArea: (x: Int, y: Int, width: Int, height: Int) {
        (axes.plotX, axes.plotY, axes.plotWidth, axes.plotHeight)
    }

    /// Lays out a frame showing the given ranges inside the rectangle with top-left (`x`, `y`).
    public init(title: String = "", xLabel: String = "", yLabel: String = "",
                xRange: ClosedRange<Double>, yRange: ClosedRange<Double>,
                x: Int, y: Int, width: Int, height: Int, textScale: Int = 2) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
        axes = PlotAxes(title: title, xLabel: xLabel, yLabel: yLabel,
                        xRange: AxisMath.usableRange(xRange) ?? 0...1, yRange: AxisMath.usableRange(yRange) ?? 0...1,
                        integerX: false, scale: max(textScale, 1), x: x, y: y, width: width, height: height)
    }

    /// Lays out a frame whose ranges fit `points` with `padding` (a fraction of each span) on every side,
    /// so marks of a few pixels at the extremes are not cut off. Non-finite points are ignored.
    public init(title: String = "", xLabel: String = "", yLabel: String = "", fitting points: [(Double, Double)],
                padding: Double = 0.05, x: Int, y: Int, width: Int, height: Int, textScale: Int = 2) {
        let pad = padding.isFinite ? max(padding, 0) : 0
        self.init(title: title, xLabel: xLabel, yLabel: yLabel,
                  xRange: AxisMath.autoRange(points.map(\.0), padding: pad),
                  yRange: AxisMath.autoRange(points.map(\.1), padding: pad),
                  x: x, y: y, width: width, height: height, textScale: textScale)
    }

    /// The canvas pixel for data point (`x`, `y`). Points outside the ranges map outside the plot area;
    /// non-finite or far-away ones map to a point far off the canvas, where drawing does nothing.
    public func pixel(for x: Double, _ y: Double) -> (Int, Int) {
        (Int(axes.pixelX(x).rounded()), Int(axes.pixelY(y).rounded()))
    }

    /// Draws the background, gridlines, frame, ticks, axis labels and title.
    public func drawAxes(on canvas: inout Canvas) {
        canvas.withClip(x: x, y: y, width: width, height: height) { canvas in
            canvas.fillRect(x: x, y: y, width: width, height: height, color: .white)
            axes.drawGrid(on: &canvas)
            axes.drawFrame(on: &canvas)
        }
    }

    /// Runs `body` with drawing confined to the plot area, so marks near the edges don't cover the axes.
    public func drawPlot(on canvas: inout Canvas, _ body: (inout Canvas) -> Void) {
        canvas.withClip(x: axes.plotX, y: axes.plotY, width: axes.plotWidth, height: axes.plotHeight, body)
    }
}

// MARK: - Heatmap

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

// MARK: - Shared axes layout

/// The layout shared by line charts and scatter frames: where the plot area sits inside the panel once
/// room is made for the title, tick labels and axis labels, which ticks to draw, and the data→pixel map.
struct PlotAxes: Sendable {
    let title: String, xLabel: String, yLabel: String
    let xRange: ClosedRange<Double>, yRange: ClosedRange<Double>
    let scale: Int
    let plotX: Int, plotY: Int, plotWidth: Int, plotHeight: Int
    let xTicks: [Double], yTicks: [Double]
    let xStep: Double, yStep: Double

    var tickLength: Int { 2 * scale }
    var gap: Int { 3 * scale }

    init(title: String, xLabel: String, yLabel: String, xRange: ClosedRange<Double>, yRange: ClosedRange<Double>,
         integerX: Bool, scale s: Int, x: Int, y: Int, width: Int, height: Int) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xRange = xRange
        self.yRange = yRange
        self.scale = s
        let th = Canvas.textHeight(scale: s)
        let pad = 4 * s, gap = 3 * s, tick = 2 * s

        // Vertical layout does not depend on tick labels, so it comes first and fixes the y ticks.
        let top = y + pad + (title.isEmpty ? 0 : th + 2 * gap) + 1
        let bottom = y + height - pad - tick - gap - th - (xLabel.isEmpty ? 0 : gap + th) - 1
        let plotHeight = max(bottom - top, 0)
        let ys = AxisMath.ticks(yRange, target: max(2, plotHeight / (3 * th)), integer: false)
        let yLabelWidth = ys.values.map { Canvas.textWidth(AxisMath.label($0, step: ys.step), scale: s) }.max() ?? 0
        let left = x + pad + (yLabel.isEmpty ? 0 : th + 2 * gap) + yLabelWidth + gap + tick + 1

        // Horizontal: pick x ticks whose labels don't collide, leaving room for the last label's overhang.
        var right = x + width - pad - 1
        var xs: (Double, [Double]) = (1, [])
        var target = max(2, (right - left) / (45 * s))
        for _ in 0..<6 {
            xs = AxisMath.ticks(xRange, target: target, integer: integerX)
            let widths = xs.1.map { Canvas.textWidth(AxisMath.label($0, step: xs.0), scale: s) }
            let widest = widths.max() ?? 0
            right = x + width - pad - 1 - max((widths.last ?? 0) / 2 - pad, 0)
            let spacing = xs.1.count > 1 ? Double(right - left) / Double(xs.1.count - 1) : .infinity
            if Double(widest + 4 * s) <= spacing || target <= 2 { break }
            target -= 1
        }
        (xStep, xTicks) = xs
        (yStep, yTicks) = ys
        plotX = left
        plotY = top
        plotWidth = max(right - left, 0)
        self.plotHeight = plotHeight
    }

    /// Pixel x of data x; clamped far off-canvas rather than overflowing, NaN goes off-canvas too.
    func pixelX(_ v: Double) -> Float {
        let span = xRange.upperBound - xRange.lowerBound
        let p = Double(plotX) + (v - xRange.lowerBound) / span * Double(max(plotWidth - 1, 0))
        return Float(p.isNaN ? -1e6 : min(max(p, -1e6), 1e6))
    }

    /// Pixel y of data y (up is larger y); same clamping as ``pixelX(_:)``.
    func pixelY(_ v: Double) -> Float {
        let span = yRange.upperBound - yRange.lowerBound
        let p = Double(plotY + max(plotHeight - 1, 0)) - (v - yRange.lowerBound) / span * Double(max(plotHeight - 1, 0))
        return Float(p.isNaN ? -1e6 : min(max(p, -1e6), 1e6))
    }

    /// Plot-area background and gridlines, drawn before the data.
    func drawGrid(on canvas: inout Canvas) {
        guard plotWidth > 0, plotHeight > 0 else { return }
        canvas.fillRect(x: plotX, y: plotY, width: plotWidth, height: plotHeight, color: .white)
        for v in xTicks {
            canvas.fillRect(x: Int(pixelX(v).rounded()), y: plotY, width: 1, height: plotHeight, color: .lightGray)
        }
        for v in yTicks {
            canvas.fillRect(x: plotX, y: Int(pixelY(v).rounded()), width: plotWidth, height: 1, color: .lightGray)
        }
    }

    /// Frame, ticks, tick labels, axis labels and title, drawn after the data so they stay crisp.
    func drawFrame(on canvas: inout Canvas) {
        let s = scale, th = Canvas.textHeight(scale: s), cap = BitmapFont.capHeight * s
        guard plotWidth > 0, plotHeight > 0 else {
            drawTitle(on: &canvas)
            return
        }
        canvas.strokeRect(x: plotX - 1, y: plotY - 1, width: plotWidth + 2, height: plotHeight + 2, color: .darkGray)
        let bottom = plotY + plotHeight
        for v in xTicks {
            let px = Int(pixelX(v).rounded())
            canvas.fillRect(x: px, y: bottom + 1, width: 1, height: tickLength, color: .darkGray)
            let text = AxisMath.label(v, step: xStep)
            canvas.drawText(text, x: px - Canvas.textWidth(text, scale: s) / 2, y: bottom + 1 + tickLength + gap,
                            color: .darkGray, scale: s)
        }
        for v in yTicks {
            let py = Int(pixelY(v).rounded())
            canvas.fillRect(x: plotX - 1 - tickLength, y: py, width: tickLength, height: 1, color: .darkGray)
            let text = AxisMath.label(v, step: yStep)
            canvas.drawText(text, x: plotX - 1 - tickLength - gap - Canvas.textWidth(text, scale: s), y: py - cap / 2,
                            color: .darkGray, scale: s)
        }
        if !xLabel.isEmpty {
            canvas.drawText(xLabel, x: plotX + (plotWidth - Canvas.textWidth(xLabel, scale: s)) / 2,
                            y: bottom + 1 + tickLength + gap + th + gap, color: .darkGray, scale: s)
        }
        if !yLabel.isEmpty {
            let yTickWidth = yTicks.map { Canvas.textWidth(AxisMath.label($0, step: yStep), scale: s) }.max() ?? 0
            let length = Canvas.textWidth(yLabel, scale: s)
            canvas.drawVerticalText(yLabel, x: plotX - 1 - tickLength - gap - yTickWidth - 2 * gap - th,
                                    y: plotY + (plotHeight - length) / 2, color: .darkGray, scale: s)
        }
        drawTitle(on: &canvas)
    }

    private func drawTitle(on canvas: inout Canvas) {
        guard !title.isEmpty else { return }
        let w = Canvas.textWidth(title, scale: scale, bold: true)
        canvas.drawText(title, x: plotX + (plotWidth - w) / 2, y: plotY - 1 - gap - Canvas.textHeight(scale: scale),
                        color: .black, scale: scale, bold: true)
    }
}

/// Range fitting, "nice" tick selection and tick-label formatting.
enum AxisMath {
    /// `range` if both ends are finite, widened if empty; nil means "fit the data instead".
    static func usableRange(_ range: ClosedRange<Double>?) -> ClosedRange<Double>? {
        guard let range, range.lowerBound.isFinite, range.upperBound.isFinite else { return nil }
        return widened(range.lowerBound, range.upperBound)
    }

    /// The span of the finite `values`, padded by `padding` × span on each side; 0...1 when there are none.
    static func autoRange(_ values: [Double], padding: Double) -> ClosedRange<Double> {
        var lo = Double.infinity, hi = -Double.infinity
        for v in values where v.isFinite {
            lo = min(lo, v)
            hi = max(hi, v)
        }
        guard lo <= hi else { return 0...1 }
        let pad = (hi - lo) * padding
        return widened(lo - pad, hi + pad)
    }

    /// Gives an empty (or numerically empty) range some width around its value, so that mapping to
    /// pixels never divides by zero.
    static func widened(_ lo: Double, _ hi: Double) -> ClosedRange<Double> {
        if hi - lo > max(abs(lo), abs(hi)) * 1e-12 && (hi - lo).isFinite { return lo...hi }
        let mid = lo / 2 + hi / 2
        let half = mid == 0 ? 1 : abs(mid) * 0.1
        return (mid - half)...(mid + half)
    }

    /// Ticks at multiples of 1, 2 or 5 × 10^k inside `range`: the finest such spacing that gives at most
    /// `target` + 1 ticks (whole numbers only when `integer`, e.g. for epochs).
    static func ticks(_ range: ClosedRange<Double>, target: Int, integer: Bool) -> (step: Double, values: [Double]) {
        let span = range.upperBound - range.lowerBound
        let raw = span / Double(max(target, 1))
        guard raw.isFinite, raw > 0 else { return (1, []) }
        let magnitude = pow(10, floor(log10(raw)) - 1)
        var step = 100 * magnitude
        search: for scale in [1.0, 10, 100] {
            for m in [1.0, 2, 5] {
                let candidate = m * scale * magnitude
                if integer && candidate < 1 { continue }
                let values = tickValues(range, step: candidate)   // empty when absurdly many: too fine
                if !values.isEmpty && values.count <= max(target, 1) + 1 {
                    step = candidate
                    break search
                }
            }
        }
        if integer { step = max(step, 1) }
        return (step, tickValues(range, step: step))
    }

    /// Multiples of `step` inside `range` (none if there would be absurdly many).
    static func tickValues(_ range: ClosedRange<Double>, step: Double) -> [Double] {
        let first = (range.lowerBound / step - 1e-9).rounded(.up), last = (range.upperBound / step + 1e-9).rounded(.down)
        guard first <= last, last - first < 1000, abs(first) < 1e15, abs(last) < 1e15 else { return [] }
        return (Int(first)...Int(last)).map { Double($0) * step }
    }

    /// A tick label with just enough digits to tell ticks `step` apart: fixed-point for ordinary
    /// magnitudes, `2.5e-5` style for very small or very large ones (where zero is plain "0").
    static func label(_ v: Double, step: Double) -> String {
        guard v.isFinite, step.isFinite, step > 0 else { return "" }
        let k = Int(floor(log10(step) + 1e-9))
        // Zero gets the same decimals as its neighbours ("0.0" beside "0.2"), as in most plotting tools.
        if k >= -4 && abs(v) < 1e7 { return fixed(v, decimals: max(0, -k)) }
        if abs(v) < step * 1e-6 { return "0" }
        let e = Int(floor(log10(abs(v)) + 1e-9))
        return fixed(v / pow(10, Double(e)), decimals: max(0, e - k)) + "e" + String(e)
    }

    /// `v` rounded to `decimals` places, without Foundation's formatter.
    static func fixed(_ v: Double, decimals: Int) -> String {
        let scaled = (abs(v) * pow(10, Double(decimals))).rounded()
        guard scaled < 9e15 else { return String(v) }
        var digits = String(Int64(scaled))
        if decimals > 0 {
            if digits.count <= decimals { digits = String(repeating: "0", count: decimals + 1 - digits.count) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
        }
        return (v < 0 && scaled != 0 ? "-" : "") + digits
    }
}
