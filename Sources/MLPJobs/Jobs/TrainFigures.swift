// The pictures `train` draws: learning curves, and a confusion matrix (classes) or predicted-vs-true (numbers).
import Foundation
import MLPData
import MLPImaging
import MLPKit

/// Figures for `TrainJob`.
enum TrainFigures {
    /// Loss (left) and accuracy or R² (right) per epoch: training dashed, validation and test solid.
    static func curves(_ records: [TrainJob.EpochRecord], encoding: TargetEncoding, epochs: Int) -> Canvas {
        var canvas = Canvas(width: 1600, height: 700)
        let scoreName = encoding.isClassification ? "accuracy (%)" : "R²"
        canvas.drawText("training curves: loss and \(encoding.isClassification ? "accuracy" : "R²") per epoch",
                        x: 24, y: 16, color: .black, scale: 3)
        func points(_ value: (TrainJob.EpochRecord) -> Double?) -> [(Double, Double)] {
            records.compactMap { record in value(record).map { (Double(record.epoch), $0) } }
        }
        func score(_ s: TrainScore?) -> Double? {
            guard let s else { return nil }
            return encoding.isClassification ? s.accuracy.map { 100 * $0 } : s.r2
        }
        var loss = [LineChart.Series(name: "train", color: RGB.tab10[0], points: points { $0.trainLoss }, dashed: true)]
        var scores: [LineChart.Series] = []
        for (index, (name, pick)) in [("validation", { (r: TrainJob.EpochRecord) in r.validation }),
                                      ("test", { (r: TrainJob.EpochRecord) in r.test })].enumerated() {
            let color = RGB.tab10[index + 1]
            let lossPoints = points { pick($0)?.loss }
            guard !lossPoints.isEmpty else { continue }
            loss.append(.init(name: name, color: color, points: lossPoints))
            scores.append(.init(name: name, color: color, points: points { score(pick($0)) }))
        }
        let xRange = 0.0...Double(max(epochs, records.last?.epoch ?? 1, 2))
        LineChart(title: "loss (mean per sample)", xLabel: "epoch", yLabel: "loss", series: loss, xRange: xRange,
                  legend: .topRight)
            .draw(on: &canvas, x: 10, y: 70, width: 785, height: 620)
        LineChart(title: scores.isEmpty ? "\(scoreName): no held-out data" : scoreName, xLabel: "epoch",
                  yLabel: scoreName, series: scores, xRange: xRange, legend: .bottomRight)
            .draw(on: &canvas, x: 805, y: 70, width: 785, height: 620)
        return canvas
    }

    /// counts[true][predicted] for class or binary targets.
    static func confusionCounts(_ outputs: [Float], _ targets: TrainingSet.Targets, encoding: TargetEncoding) -> [[Int]] {
        switch (encoding, targets) {
        case (.classes(let names), .classes(let labels)):
            return confusionCounts(predicted: TrainScore.predictedClasses(outputs, width: names.count), labels: labels,
                                   classes: names.count)
        case (.binary, .values(let values, _)):
            var counts = [[0, 0], [0, 0]]
            for (p, y) in zip(outputs, values) { counts[y == 1 ? 1 : 0][p >= 0.5 ? 1 : 0] += 1 }
            return counts
        default:
            return []
        }
    }

    /// counts[label][predicted class], from each sample's predicted class.
    static func confusionCounts(predicted: [some BinaryInteger], labels: [UInt8], classes: Int) -> [[Int]] {
        var counts = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (p, l) in zip(predicted, labels) { counts[Int(l)][Int(p)] += 1 }
        return counts
    }

    /// The confusion matrix of the held-out set (or the training set when there is none).
    static func confusion(_ counts: [[Int]], encoding: TargetEncoding, set: String) -> Canvas {
        let total = counts.joined().reduce(0, +)
        let correct = counts.indices.reduce(0) { $0 + counts[$1][$1] }
        let labels: [String]
        switch encoding {
        case .classes(let names): labels = names
        case .binary: labels = ["0", "1"]
        case .values: labels = []
        }
        let side = min(1600, max(820, 60 * counts.count + 200))
        var canvas = Canvas(width: side, height: side + 40)
        Heatmap(title: "\(set) confusion: \(correct)/\(total) right", counts: counts, labels: labels)
            .draw(on: &canvas, x: 10, y: 10, width: side - 20, height: side + 20)
        return canvas
    }

    /// Predicted against true values of the first target column, with the diagonal y = x.
    static func scatter(predicted: [Float], truth: [Float], columns: Int, name: String, set: String) -> Canvas {
        var canvas = Canvas(width: 900, height: 900)
        let pairs = stride(from: 0, to: truth.count, by: columns).map { (Double(truth[$0]), Double(predicted[$0])) }
        let all = pairs.map(\.0) + pairs.map(\.1)
        let low = all.min() ?? 0, high = all.max() ?? 1
        let pad = max((high - low) * 0.05, 1e-6)
        let range = (low - pad)...(high + pad)
        let r2 = TrainScore.rSquared(pairs.map { Float($0.1) }, pairs.map { Float($0.0) }, width: 1)
        let frame = ScatterFrame(title: "\(set): predicted vs true \(name) (R² \(String(format: "%.3f", r2)))",
                                 xLabel: "true \(name)", yLabel: "predicted", xRange: range, yRange: range,
                                 x: 10, y: 10, width: 880, height: 880)
        frame.drawAxes(on: &canvas)
        frame.drawPlot(on: &canvas) { canvas in
            let (x0, y0) = frame.pixel(for: range.lowerBound, range.lowerBound)
            let (x1, y1) = frame.pixel(for: range.upperBound, range.upperBound)
            canvas.drawLine(x0: Float(x0), y0: Float(y0), x1: Float(x1), y1: Float(y1), color: .gray, thickness: 2)
            for (t, p) in pairs {
                let (x, y) = frame.pixel(for: t, p)
                canvas.drawPoint(x: Float(x), y: Float(y), radius: 3, color: RGB.tab10[0])
            }
        }
        return canvas
    }
}
