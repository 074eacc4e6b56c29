// Drawing primitives put exactly the promised pixels, clip silently at every edge, and the charts draw
// inside their rectangle whatever the data looks like.
import Testing
@testable import MLPImaging
@testable import MLPKit
import TestSupport

/// A colour no drawing uses, so untouched pixels are easy to tell apart.
private let sentinel = RGB(hex: 0x123456)

/// Pixels that differ from `color`, as (x, y) pairs.
private func changed(_ canvas: Canvas, from color: RGB = sentinel) -> [(Int, Int)] {
    var result: [(Int, Int)] = []
    for y in 0..<canvas.height {
        for x in 0..<canvas.width where canvas[x, y] != color { result.append((x, y)) }
    }
    return result
}

/// Bounding box (minX, minY, maxX, maxY) of the changed pixels.
private func inkBox(_ canvas: Canvas, from color: RGB = sentinel) -> (Int, Int, Int, Int)? {
    let pixels = changed(canvas, from: color)
    guard !pixels.isEmpty else { return nil }
    return (pixels.map(\.0).min()!, pixels.map(\.1).min()!, pixels.map(\.0).max()!, pixels.map(\.1).max()!)
}

@Suite struct CanvasTests {
    // MARK: Primitives

    @Test func newCanvasIsFilledAndAddressable() {
        var canvas = Canvas(width: 5, height: 3, background: sentinel)
        #expect(canvas.pixels.count == 45)
        #expect(changed(canvas).isEmpty)
        canvas[4, 2] = .red
        #expect(canvas[4, 2] == .red)
        #expect(Array(canvas.pixels.suffix(3)) == [0xD6, 0x27, 0x28])
        canvas[5, 0] = .red
        canvas[-1, 0] = .red
        canvas[0, 3] = .red
        #expect(changed(canvas).count == 1)
        #expect(Canvas(width: 0, height: 0).pixels.isEmpty)
    }

    @Test func fillRectCoversExactlyItsRectangle() {
        var canvas = Canvas(width: 10, height: 8, background: sentinel)
        canvas.fillRect(x: 2, y: 3, width: 4, height: 2, color: .blue)
        let pixels = changed(canvas)
        #expect(pixels.count == 8)
        #expect(pixels.allSatisfy { (2..<6).contains($0.0) && (3..<5).contains($0.1) && canvas[$0.0, $0.1] == .blue })
    }

    @Test func fillRectClipsAtEveryEdge() {
        var canvas = Canvas(width: 10, height: 8, background: sentinel)
        canvas.fillRect(x: -5, y: -5, width: 7, height: 6, color: .blue)
        #expect(changed(canvas).count == 2)  // (0,0) and (1,0)
        canvas.fillRect(x: 8, y: 7, width: 100, height: 100, color: .red)
        #expect(canvas[8, 7] == .red && canvas[9, 7] == .red)
        canvas.fillRect(x: 20, y: 20, width: 5, height: 5, color: .red)
        canvas.fillRect(x: Int.max - 1, y: Int.min, width: Int.max, height: Int.max, color: .red)
        canvas.fillRect(x: 0, y: 0, width: -3, height: 4, color: .red)
        #expect(changed(canvas).count == 4)
    }

    @Test func horizontalAndDiagonalLines() {
        var canvas = Canvas(width: 20, height: 20, background: sentinel)
        canvas.drawLine(x0: 2, y0: 5, x1: 12, y1: 5, color: .red)
        for x in 2...12 { #expect(canvas[x, 5] == .red) }
        #expect(canvas[1, 5] == sentinel && canvas[13, 5] == sentinel && canvas[5, 4] == sentinel && canvas[5, 6] == sentinel)

        canvas.drawLine(x0: 0, y0: 10, x1: 9, y1: 19, color: .blue)
        for i in 0...9 { #expect(canvas[i, 10 + i] == .blue) }
        #expect(canvas[1, 10] == sentinel && canvas[0, 11] == sentinel)
        #expect(changed(canvas).count == 11 + 10)
    }

    @Test func thickLineCoversItsWidth() {
        var canvas = Canvas(width: 20, height: 20, background: sentinel)
        canvas.drawLine(x0: 4, y0: 10, x1: 15, y1: 10, color: .green, thickness: 3)
        for y in 9...11 { #expect(canvas[8, y] == .green) }
        #expect(canvas[8, 8] == sentinel && canvas[8, 12] == sentinel)
    }

    @Test func linesClipAndSkipNonFiniteEnds() {
        var canvas = Canvas(width: 10, height: 10, background: sentinel)
        canvas.drawLine(x0: -1e9, y0: 5, x1: 1e9, y1: 5, color: .red, thickness: 2)
        for x in 0..<10 { #expect(canvas[x, 5] == .red) }
        let afterLongLine = changed(canvas).count
        canvas.drawLine(x0: .nan, y0: 0, x1: 5, y1: 5, color: .blue)
        canvas.drawLine(x0: 0, y0: 0, x1: .infinity, y1: 5, color: .blue)
        canvas.drawLine(x0: 50, y0: 50, x1: 80, y1: 90, color: .blue, thickness: 1000)
        canvas.drawLine(x0: 3, y0: 3, x1: 3, y1: 3, color: .blue)
        #expect(canvas[3, 3] == .blue)
        #expect(changed(canvas).count == afterLongLine + 1)
    }

    @Test func pointIsAFilledDisc() {
        var canvas = Canvas(width: 21, height: 21, background: sentinel)
        canvas.drawPoint(x: 10, y: 10, radius: 2, color: .red)
        for (x, y) in [(10, 10), (12, 10), (8, 10), (10, 8), (10, 12), (11, 11)] { #expect(canvas[x, y] == .red) }
        for (x, y) in [(13, 10), (12, 12), (7, 10), (10, 13)] { #expect(canvas[x, y] == sentinel) }
        #expect(changed(canvas).count == 13)

        var tiny = Canvas(width: 5, height: 5, background: sentinel)
        tiny.drawPoint(x: 2.2, y: 1.9, radius: 0, color: .red)
        #expect(changed(tiny).count == 1 && tiny[2, 2] == .red)
        tiny.drawPoint(x: -1, y: -1, radius: 1.5, color: .blue)
        #expect(tiny[0, 0] == .blue)
        tiny.drawPoint(x: 1e30, y: -1e30, radius: .infinity, color: .blue)
        tiny.drawPoint(x: .nan, y: 1, radius: 3, color: .blue)
        tiny.drawPoint(x: 2, y: 2, radius: 1e9, color: .green)
        #expect(changed(tiny, from: .green).isEmpty)
    }

    // MARK: Text

    @Test func glyphStaysInsideItsCell() {
        var canvas = Canvas(width: 30, height: 30, background: sentinel)
        canvas.drawText("A", x: 3, y: 4, color: .black)
        let pixels = changed(canvas)
        #expect(!pixels.isEmpty)
        #expect(pixels.allSatisfy { (3..<(3 + BitmapFont.glyphWidth)).contains($0.0) && (4..<(4 + BitmapFont.glyphHeight)).contains($0.1) })
    }

    @Test func textWidthAndHeightMatchTheInk() {
        for scale in 1...3 {
            // "M", "H" and "W" fill all five columns; "A" reaches the top row and "g" the bottom one.
            for text in ["M", "HW", "MAgW", "A g"] {
                var canvas = Canvas(width: 200, height: 60, background: sentinel)
                canvas.drawText(text, x: 7, y: 5, color: .black, scale: scale)
                let box = inkBox(canvas)
                #expect(box?.0 == 7 && box?.2 == 7 + Canvas.textWidth(text, scale: scale) - 1, "\(text) at \(scale)")
                if text.contains("g") {
                    #expect(box?.1 == 5 && box?.3 == 5 + Canvas.textHeight(scale: scale) - 1, "\(text) at \(scale)")
                }
            }
        }
        #expect(Canvas.textWidth("", scale: 2) == 0)
        #expect(Canvas.textWidth("ab\nlonger", scale: 1) == Canvas.textWidth("longer", scale: 1))
        #expect(Canvas.textHeight(scale: 2, lines: 2) == (BitmapFont.lineHeight + BitmapFont.glyphHeight) * 2)
    }

    @Test func boldAndVerticalTextFillTheirReportedBoxes() {
        var canvas = Canvas(width: 80, height: 80, background: sentinel)
        canvas.drawText("MW", x: 2, y: 2, color: .black, scale: 2, bold: true)
        let bold = inkBox(canvas)
        #expect(bold?.2 == 2 + Canvas.textWidth("MW", scale: 2, bold: true) - 1)

        var upright = Canvas(width: 80, height: 80, background: sentinel)
        upright.drawVerticalText("Mg", x: 10, y: 20, color: .black, scale: 2)
        let box = inkBox(upright)
        #expect(box?.0 == 10 && box?.2 == 10 + Canvas.textHeight(scale: 2) - 1)
        #expect(box?.1 == 20 && box?.3 == 20 + Canvas.textWidth("Mg", scale: 2) - 1)
        // Reads upward: the "M" (first character) is at the bottom.
        #expect(upright[10, 20 + Canvas.textWidth("Mg", scale: 2) - 1] == .black)
    }

    @Test func everyPrintableCharacterHasAGlyphAndOthersDrawABox() {
        for code in 33...126 {
            #expect(BitmapFont.rows(for: Unicode.Scalar(UInt8(code))).contains { $0 != 0 }, "glyph \(code) is blank")
        }
        #expect(BitmapFont.rows(for: " ").allSatisfy { $0 == 0 })
        #expect(BitmapFont.glyphs.count == 95)
        var canvas = Canvas(width: 10, height: 10, background: sentinel)
        canvas.drawText("é", x: 0, y: 0, color: .black)
        #expect(changed(canvas).count == 2 * 5 + 2 * 5)  // the hollow 5×7 box
        #expect(canvas[0, 0] == .black && canvas[4, 6] == .black && canvas[2, 3] == sentinel)
    }

    // MARK: Images

    @Test func blitGrayMapsInkToTintOverBackground() {
        var canvas = Canvas(width: 10, height: 10, background: sentinel)
        canvas.blitGray([0, 1, 0.5, .nan], width: 2, height: 2, atX: 1, atY: 2, scale: 3)
        #expect(canvas[0, 2] == sentinel && canvas[1, 1] == sentinel && canvas[7, 2] == sentinel && canvas[1, 8] == sentinel)
        for dy in 0..<3 {
            for dx in 0..<3 {
                #expect(canvas[1 + dx, 2 + dy] == .white)
                #expect(canvas[4 + dx, 2 + dy] == .black)
                #expect(canvas[1 + dx, 5 + dy] == RGB(r: 128, g: 128, b: 128))
                #expect(canvas[4 + dx, 5 + dy] == .white)
            }
        }
        #expect(changed(canvas).count == 36)
    }

    @Test func blitGrayInkOnlyLeavesEmptyPixelsAlone() {
        var canvas = Canvas(width: 4, height: 1, background: .white)
        canvas[0, 0] = sentinel
        canvas.blitGray([0, 1, 0.5, -2], width: 4, height: 1, atX: 0, atY: 0, tint: .red, background: nil)
        #expect(canvas[0, 0] == sentinel)
        #expect(canvas[1, 0] == .red)
        #expect(canvas[2, 0] == RGB.white.mixed(with: .red, amount: 0.5))
        #expect(canvas[3, 0] == .white)
    }

    @Test func blitGrayClipsAtEdges() {
        var canvas = Canvas(width: 4, height: 4, background: sentinel)
        canvas.blitGray([Float](repeating: 1, count: 9), width: 3, height: 3, atX: -2, atY: 2, scale: 2)
        #expect(changed(canvas).count == 4 * 2)
        canvas.blitGray([1], width: 1, height: 1, atX: 100, atY: -100, scale: 5)
    }

    @Test func blitCopiesAndClips() {
        var panel = Canvas(width: 3, height: 2, background: .red)
        panel[0, 0] = .blue
        var canvas = Canvas(width: 5, height: 5, background: sentinel)
        canvas.blit(panel, atX: 1, atY: 1)
        #expect(canvas[1, 1] == .blue && canvas[3, 2] == .red && canvas[4, 2] == sentinel)
        #expect(changed(canvas).count == 6)
        canvas.blit(panel, atX: 4, atY: -1)
        #expect(canvas[4, 0] == .red)
        canvas.blit(panel, atX: -10, atY: 10)
    }

    @Test func clipConfinesDrawingAndIsRestored() {
        var canvas = Canvas(width: 10, height: 10, background: sentinel)
        canvas.withClip(x: 2, y: 2, width: 3, height: 3) { c in
            c.drawText("MMMM", x: 0, y: 0, color: .black, scale: 3)
            c.fillRect(x: 0, y: 0, width: 10, height: 10, color: .red)
            c.withClip(x: 4, y: 0, width: 10, height: 10) { inner in inner.fillRect(x: 0, y: 0, width: 10, height: 10, color: .blue) }
        }
        #expect(changed(canvas).allSatisfy { (2..<5).contains($0.0) && (2..<5).contains($0.1) })
        #expect(canvas[4, 3] == .blue && canvas[3, 3] == .red)
        canvas.fillRect(x: 0, y: 0, width: 1, height: 1, color: .green)
        #expect(canvas[0, 0] == .green)
    }

    // MARK: Charts

    /// Draws `draw` into a 100…500 × 60…380 rectangle of a sentinel-coloured canvas and checks that
    /// nothing changed outside it and, if `expectInk`, that something other than white was drawn inside.
    private func checkStaysInside(expectInk: Bool = true, _ label: String,
                                  _ draw: (inout Canvas, Int, Int, Int, Int) -> Void) {
        var canvas = Canvas(width: 600, height: 440, background: sentinel)
        draw(&canvas, 100, 60, 400, 320)
        let outside = changed(canvas).filter { !(100..<500).contains($0.0) || !(60..<380).contains($0.1) }
        #expect(outside.isEmpty, "\(label) drew outside its rectangle")
        if expectInk {
            let ink = changed(canvas, from: .white).filter { (100..<500).contains($0.0) && (60..<380).contains($0.1) }
            #expect(!ink.isEmpty, "\(label) drew nothing")
        }
    }

    @Test func lineChartSurvivesAwkwardData() {
        let cases: [(String, [LineChart.Series])] = [
            ("no series", []),
            ("empty series", [.init(name: "a", color: .blue, points: [])]),
            ("one point", [.init(name: "a", color: .blue, points: [(3, 0.5)])]),
            ("NaN and inf", [.init(name: "a", color: .blue, points: [(0, .nan), (1, 2), (.infinity, 3), (2, 1), (3, -.infinity)])]),
            ("all NaN", [.init(name: "a", color: .blue, points: [(.nan, .nan), (.nan, 1)])]),
            ("constant", [.init(name: "flat", color: .red, points: (0..<10).map { (Double($0), 0.25) }, dashed: true)]),
            ("constant zero at one x", [.init(name: "", color: .red, points: [(5, 0), (5, 0)])]),
            ("huge and tiny", [.init(name: "a", color: .blue, points: [(0, 1e300), (1, -1e300), (2, 1e-300)]),
                               .init(name: "b", color: .red, points: [(1e-9, 1e-9), (2e-9, 3e-9)], markers: true)]),
        ]
        for (label, series) in cases {
            checkStaysInside(label) { canvas, x, y, w, h in
                LineChart(title: "Loss", xLabel: "epoch", yLabel: "loss", series: series).draw(on: &canvas, x: x, y: y, width: w, height: h)
            }
        }
        checkStaysInside("fixed degenerate ranges") { canvas, x, y, w, h in
            LineChart(series: [.init(name: "a", color: .blue, points: [(0, 9), (1, -9)])], xRange: 2...2, yRange: 0...0)
                .draw(on: &canvas, x: x, y: y, width: w, height: h)
        }
        checkStaysInside(expectInk: false, "tiny rectangle") { canvas, x, y, _, _ in
            LineChart(title: "A very long title that cannot fit", series: cases[2].1).draw(on: &canvas, x: x, y: y, width: 12, height: 9)
        }
    }

    @Test func lineChartDrawsSeriesInTheirColours() {
        var canvas = Canvas(width: 500, height: 400)
        let chart = LineChart(title: "t", series: [
            .init(name: "up", color: RGB.tab10[0], points: [(0, 0), (1, 1)]),
            .init(name: "alone", color: RGB.tab10[1], points: [(0.5, 0.2)]),
        ], legend: .none)
        chart.draw(on: &canvas, x: 0, y: 0, width: 500, height: 400)
        #expect(canvas.pixels.count == 500 * 400 * 3)
        let colours = Set((0..<400).flatMap { y in (0..<500).map { canvas[$0, y] } })
        #expect(colours.contains(RGB.tab10[0]))
        #expect(colours.contains(RGB.tab10[1]))
    }

    @Test func heatmapSurvivesAwkwardData() {
        let cases: [(String, [[Int]])] = [
            ("empty", []), ("empty rows", [[], []]), ("one cell", [[0]]), ("all zero", [[0, 0], [0, 0]]),
            ("ragged", [[1, 2, 3], [4]]), ("huge", [[1_000_000_000, 1], [2, 3]]), ("negative", [[-5, 3], [1, 0]]),
            ("ten classes", (0..<10).map { r in (0..<10).map { $0 == r ? 1000 + r : r * $0 % 7 } }),
        ]
        for (label, counts) in cases {
            checkStaysInside(label) { canvas, x, y, w, h in
                Heatmap(title: "Confusion", counts: counts).draw(on: &canvas, x: x, y: y, width: w, height: h)
            }
        }
    }

    @Test func heatmapShadesFromWhiteToDarkAndLabelsCells() {
        var canvas = Canvas(width: 300, height: 300)
        Heatmap(counts: [[9, 0], [0, 9]], rowTitle: "", columnTitle: "").draw(on: &canvas, x: 0, y: 0, width: 300, height: 300)
        let colours = Set((0..<300).flatMap { y in (0..<300).map { canvas[$0, y] } })
        let map = Heatmap(counts: [[1]])
        #expect(colours.contains(map.shade(1)))
        #expect(colours.contains(map.shade(0)))
        #expect(map.shade(0).luminance > 0.95 && map.shade(1).luminance < 0.3)
        #expect(colours.contains(.white))  // the counts on dark cells
    }

    @Test func scatterFrameMapsDataToThePlotArea() {
        let frame = ScatterFrame(title: "Embedding", xLabel: "x", yLabel: "y", xRange: 0...10, yRange: -1...1,
                                 x: 20, y: 10, width: 400, height: 300)
        let area = frame.plotArea
        #expect(frame.pixel(for: 0, -1) == (area.x, area.y + area.height - 1))
        #expect(frame.pixel(for: 10, 1) == (area.x + area.width - 1, area.y))
        #expect(area.x > 20 && area.y > 10 && area.x + area.width < 420 && area.y + area.height < 310)
        _ = frame.pixel(for: .nan, .infinity)
        _ = frame.pixel(for: 1e300, -1e300)

        let fitted = ScatterFrame(fitting: [(1, 1), (3, 5), (.nan, 2)], x: 0, y: 0, width: 300, height: 300)
        #expect(fitted.xRange.lowerBound < 1 && fitted.xRange.upperBound > 3)
        #expect(ScatterFrame(fitting: [], x: 0, y: 0, width: 100, height: 100).xRange == 0...1)

        checkStaysInside("scatter") { canvas, x, y, w, h in
            let f = ScatterFrame(title: "t", xLabel: "x", yLabel: "y", fitting: [(0, 0), (1, 1)], x: x, y: y, width: w, height: h)
            f.drawAxes(on: &canvas)
            f.drawPlot(on: &canvas) { c in
                for p in [(0.0, 0.0), (1.0, 1.0), (50.0, -50.0)] {
                    let (px, py) = f.pixel(for: p.0, p.1)
                    c.drawPoint(x: Float(px), y: Float(py), radius: 30, color: .red)
                }
            }
        }
    }

    @Test func legendSizeMatchesWhatItDraws() {
        let legend = Legend([.init("train", color: .blue), .init("validation", color: .orange, dashed: true)])
        var canvas = Canvas(width: 300, height: 100, background: sentinel)
        legend.draw(on: &canvas, x: 5, y: 7)
        let box = inkBox(canvas)
        #expect(box?.0 == 5 && box?.1 == 7)
        #expect(box?.2 == 5 + legend.size.width - 1 && box?.3 == 7 + legend.size.height - 1)
        #expect(Legend([]).size == (0, 0))
    }

    @Test func ticksAreNiceAndLabelsAreShort() {
        let (step, values) = AxisMath.ticks(0...1, target: 5, integer: false)
        #expect(step == 0.2)
        #expect(values.map { AxisMath.label($0, step: step) } == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        #expect(AxisMath.ticks(1...20, target: 10, integer: true).step == 2)
        #expect(AxisMath.ticks(1...3, target: 10, integer: true).step == 1)
        #expect(AxisMath.label(-0.00001, step: 0.1) == "0.0")
        #expect(AxisMath.label(0, step: 5) == "0")
        #expect(AxisMath.label(1e-20, step: 1e-5) == "0")
        #expect(AxisMath.label(-2.5, step: 0.5) == "-2.5")
        #expect(AxisMath.label(2e-5, step: 1e-5) == "2e-5")
        #expect(AxisMath.label(1.2e-4, step: 2e-5) == "1.2e-4")
        #expect(AxisMath.label(3e8, step: 1e8) == "3e8")
        #expect(AxisMath.label(1500, step: 500) == "1500")
        #expect(AxisMath.autoRange([], padding: 0.05) == 0...1)
        let flat = AxisMath.autoRange([2, 2], padding: 0.05)
        #expect(abs(flat.lowerBound - 1.8) < 1e-12 && abs(flat.upperBound - 2.2) < 1e-12)
        #expect(AxisMath.autoRange([0], padding: 0) == -1...1)
    }
}
