// report.md for `classify`: which network is better and whether either overfits, computed from the metrics.
import MLPData
import MLPImaging
import MLPKit
import Foundation

/// Writes the comparison of the trained networks as Markdown.
enum ClassifyReport {
    static func percent(_ x: Double) -> String { String(format: "%.2f%%", 100 * x) }
    static func points(_ x: Double) -> String { String(format: "%.2f", 100 * x) }

    /// The report: a table of final and best figures, the comparison, an overfitting verdict per network,
    /// and the figures.
    static func markdown(summary: ClassifyDemo.Summary, records: [ClassifyDemo.EpochRecord],
                         options: ClassifyDemo.Options) -> String {
        var text = "# MNIST classification: network A against network B\n\n"
        text += "Per-sample SGD, \(summary.epochs) epochs, learning rate \(summary.learningRate) "
            + "(\(summary.schedule.rawValue) schedule), seed \(summary.seed); "
            + "\(summary.trainImages) training and \(summary.testImages) test images, all scored after every epoch.\n\n"
        text += "| network | architecture | parameters | final train | final test | best test (epoch) | train−test gap | samples/s |\n"
        text += "|---|---|---:|---:|---:|---:|---:|---:|\n"
        for n in summary.networks {
            text += "| \(n.network.title) | \(n.architecture) | \(n.parameters) | \(percent(n.finalTrainAccuracy)) | "
                + "\(percent(n.finalTestAccuracy)) | \(percent(n.bestTestAccuracy)) (\(n.bestEpoch)) | "
                + "\(points(n.finalTrainAccuracy - n.finalTestAccuracy)) pp | \(Int(n.samplesPerSecond)) |\n"
        }
        text += "\n## Which is better\n\n"
        if summary.networks.count >= 2 {
            let ranked = summary.networks.sorted { $0.finalTestAccuracy > $1.finalTestAccuracy }
            let (first, second) = (ranked[0], ranked[1])
            let margin = first.finalTestAccuracy - second.finalTestAccuracy
            let errorsAvoided = Int((margin * Double(summary.testImages)).rounded())
            text += "Network \(first.network.title) is better on the test set at the last epoch: "
                + "\(percent(first.finalTestAccuracy)) against \(percent(second.finalTestAccuracy)), "
                + "\(points(margin)) percentage points, or \(errorsAvoided) fewer mistakes on "
                + "\(summary.testImages) test images"
            let relative = (1 - first.finalTestAccuracy) / max(1 - second.finalTestAccuracy, 1e-9)
            text += String(format: " (its error rate is %.0f%% of the other's). ", 100 * relative)
            let bestMargin = first.bestTestAccuracy - second.bestTestAccuracy
            text += "Comparing each network's best epoch instead, the difference is \(points(bestMargin)) points.\n"
        } else if let only = summary.networks.first {
            text += "Only network \(only.network.title) was trained (use `--network both` to compare).\n"
        }
        text += "\n## Overfitting\n\n"
        for n in summary.networks {
            text += "- **\(n.network.title)**: " + overfittingVerdict(records.filter { $0.network == n.network }) + "\n"
        }
        text += "\n## Figures\n\n![accuracy and loss curves](curves.png)\n\n"
        for n in summary.networks {
            text += "![confusion matrix of network \(n.network.title)](confusion-\(n.network.rawValue).png)\n"
        }
        return text
    }

    /// Where test accuracy peaks, whether training accuracy keeps rising after it, and the gap at the end.
    static func overfittingVerdict(_ history: [ClassifyDemo.EpochRecord]) -> String {
        guard let last = history.last,
              let peak = history.max(by: { $0.testAccuracy < $1.testAccuracy }),
              let lowestLoss = history.min(by: { $0.testLoss < $1.testLoss }) else { return "no epochs." }
        let gap = last.trainAccuracy - last.testAccuracy
        var text = "test accuracy peaks at \(percent(peak.testAccuracy)) in epoch \(peak.epoch)"
        let trainRise = last.trainAccuracy - peak.trainAccuracy
        let testDrop = peak.testAccuracy - last.testAccuracy
        if peak.epoch < last.epoch && trainRise > 0.001 {
            text += "; after it, training accuracy keeps rising by \(points(trainRise)) points (to "
                + "\(percent(last.trainAccuracy))) while test accuracy "
                + (testDrop > 0.0005 ? "falls by \(points(testDrop)) points" : "stays flat")
        }
        text += ". Test loss is lowest in epoch \(lowestLoss.epoch) (\(String(format: "%.4f", lowestLoss.testLoss)))"
        if lowestLoss.epoch < last.epoch {
            text += " and ends at \(String(format: "%.4f", last.testLoss))"
        }
        text += ". The train–test gap at the end is \(points(gap)) points. Verdict: "
        let overfits = (testDrop > 0.002 && trainRise > 0.002) || (last.testLoss > lowestLoss.testLoss * 1.05 && gap > 0.01)
        if overfits {
            text += "it overfits after epoch \(min(peak.epoch, lowestLoss.epoch)): "
                + "it keeps fitting the training set while generalising worse."
        } else if gap > 0.01 {
            text += "it fits the training set noticeably better than the test set, but the test figures have not "
                + "turned down: mild overfitting at most."
        } else {
            text += "no sign of overfitting."
        }
        return text
    }
}
