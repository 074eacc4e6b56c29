// Line charts (training curves) on titled axes, with a legend (PlotAxes.swift says what every chart promises).

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
