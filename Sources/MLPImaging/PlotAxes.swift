// The axes layout that line charts and scatter frames share, so that figures composed from several panels match.
//
// The charts (LineChart, ScatterFrame, Heatmap, and the Legend) are plot building blocks drawn on a Canvas inside
// a caller-given rectangle. Every chart draws only inside its rectangle (it clips itself) and copes with empty
// input, single points, NaN/infinite values and constant data without trapping, because plotting is usually the
// last step of a long run and must not be the one that crashes.

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
