// Scatter frames: axes that place marks at data coordinates (PlotAxes.swift says what every chart promises).

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
