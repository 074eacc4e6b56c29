// The pictures `classify` draws: learning curves of both networks, and a confusion matrix per network.
import MLPData
import MLPImaging
import MLPKit

/// Figures for `ClassifyDemo`.
enum ClassifyFigures {
    /// Accuracy (left) and loss (right), train dashed and test solid, one colour per network.
    static func curves(_ records: [ClassifyDemo.EpochRecord], epochs: Int) -> Canvas {
        var canvas = Canvas(width: 1600, height: 700)
        canvas.drawText("MNIST: accuracy and loss per epoch (train dashed, test solid)", x: 24, y: 16,
                        color: .black, scale: 3)
        var accuracy: [LineChart.Series] = [], loss: [LineChart.Series] = []
        for (index, network) in DigitNetwork.allCases.enumerated() {
            let mine = records.filter { $0.network == network }
            guard !mine.isEmpty else { continue }
            let color = RGB.tab10[index]
            accuracy.append(.init(name: "\(network.title) test", color: color,
                                  points: mine.map { (Double($0.epoch), 100 * $0.testAccuracy) }))
            accuracy.append(.init(name: "\(network.title) train", color: color,
                                  points: mine.map { (Double($0.epoch), 100 * $0.trainAccuracy) }, dashed: true))
            loss.append(.init(name: "\(network.title) test", color: color,
                              points: mine.map { (Double($0.epoch), $0.testLoss) }))
            loss.append(.init(name: "\(network.title) train", color: color,
                              points: mine.map { (Double($0.epoch), $0.trainLoss) }, dashed: true))
        }
        let lowest = records.map { min($0.testAccuracy, $0.trainAccuracy) }.min() ?? 0.9
        let floor = min(97, max(80, (100 * lowest).rounded(.down) - 1))
        let xRange = 0.0...Double(max(epochs, 2))
        LineChart(title: "accuracy (%)", xLabel: "epoch", yLabel: "accuracy %", series: accuracy,
                  xRange: xRange, yRange: floor...100, legend: .bottomRight)
            .draw(on: &canvas, x: 10, y: 70, width: 785, height: 620)
        LineChart(title: "loss (mean cross-entropy per image)", xLabel: "epoch", yLabel: "loss", series: loss,
                  xRange: xRange, legend: .topRight)
            .draw(on: &canvas, x: 805, y: 70, width: 785, height: 620)
        return canvas
    }

    /// The test-set confusion matrix of one network.
    static func confusion(_ counts: [[Int]], network: DigitNetwork) -> Canvas {
        let total = counts.joined().reduce(0, +)
        let correct = counts.indices.reduce(0) { $0 + counts[$1][$1] }
        let percent = total > 0 ? 100 * Double(correct) / Double(total) : 0
        return confusion(counts, title: "network \(network.title): test confusion (\(correct)/\(total) = "
                                        + "\(String(format: "%.2f", percent))%)")
    }

    /// A confusion matrix (rows: true class, columns: predicted) under `title`.
    static func confusion(_ counts: [[Int]], title: String) -> Canvas {
        var canvas = Canvas(width: 820, height: 860)
        Heatmap(title: title, counts: counts, labels: (0..<counts.count).map(String.init))
            .draw(on: &canvas, x: 10, y: 10, width: 800, height: 840)
        return canvas
    }
}

import Foundation
