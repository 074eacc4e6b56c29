// `evaluate`: a trained classifier scored on a data set's test digits, with its confusion matrix and its most
// confident mistakes.
import Foundation
import MLPData
import MLPImaging
import MLPKit

/// Scores a classifier written by `classify` (or any softmax model of 28 × 28 images) on test digits.
public enum EvaluateJob {
    /// What `summary.json` holds.
    public struct Summary: Sendable, Codable {
        public let model: String
        public let testImages: Int
        /// Whether the digits were flipped (1 − x) to the model's polarity.
        public let inverted: Bool
        public let accuracy: Double
        /// Mean cross-entropy per image.
        public let loss: Double
        /// Accuracy on the digits of each class.
        public let perClassAccuracy: [Double]
        /// The most confidently wrong digits, most confident first (those drawn in `mistakes.png`).
        public let mistakes: [Mistake]
    }

    /// One wrong prediction.
    public struct Mistake: Sendable, Codable {
        /// Index in the test set.
        public let index: Int
        public let label: Int
        public let predicted: Int
        /// The probability the model gave its (wrong) answer.
        public let confidence: Float
    }

    /// Scores the classifier at `model` on the digits `test` with `threads` workers; writes `summary.json`,
    /// `confusion.png` and `mistakes.png` (the `mistakes` most confidently wrong digits) into `output` (nil
    /// writes nothing).
    public static func run(model path: String, test digits: Dataset, threads: Int = 1, mistakes count: Int = 36,
                           output: String? = "Output/evaluate") throws -> Summary {
        try TrainingOptions.validate(threads: threads)
        let model = try DigitModel(contentsOf: path)
        guard case .classifier(let net, let classes) = model else {
            throw MLPError("\(path): evaluate scores classifiers (softmax output); this is an autoencoder")
        }
        var test = digits
        let background = DigitModel.background(of: test)
        // Flip only when both are known and differ.
        let flip = model.background.flatMap { trained in background.map { $0 != trained } } ?? false
        if flip { test = test.inverted() }
        guard let largest = test.labels.max(), Int(largest) < classes else {
            throw MLPError("the test labels go beyond the model's \(classes) classes")
        }

        let evaluation = try Evaluator(network: net, threads: threads).evaluate(test)
        let confusion = ClassifyDemo.confusionMatrix(predictions: evaluation.predictions, labels: test.labels,
                                                     classes: classes)
        let accuracies = (0..<classes).map { c in
            let total = confusion[c].reduce(0, +)
            return total > 0 ? Double(confusion[c][c]) / Double(total) : 0
        }

        // The most confident mistakes: the probability of the wrong answer, highest first.
        let probabilities = try net.forward(Matrix(rows: test.count, columns: 784, values: test.images)).values
        let wrong = (0..<test.count).filter { Int(evaluation.predictions[$0]) != Int(test.labels[$0]) }
        let all = wrong.map { (i: Int) -> Mistake in
            let predicted = Int(evaluation.predictions[i])
            return Mistake(index: i, label: Int(test.labels[i]), predicted: predicted,
                           confidence: probabilities[i * classes + predicted])
        }
        let mistakes = all.sorted { (a: Mistake, b: Mistake) -> Bool in
            a.confidence != b.confidence ? a.confidence > b.confidence : a.index < b.index
        }.prefix(count)

        let summary = Summary(model: path, testImages: test.count, inverted: flip, accuracy: evaluation.accuracy,
                              loss: evaluation.loss, perClassAccuracy: accuracies, mistakes: Array(mistakes))
        if let output {
            try AtomicFile.createFolder(output)
            try JSONFile.write(summary, to: output + "/summary.json")
            let title = String(format: "%@: test confusion (%.2f%% of %d)", URL(fileURLWithPath: path).lastPathComponent,
                               100 * evaluation.accuracy, test.count)
            try PNGFile.write(ClassifyFigures.confusion(confusion, title: title), to: output + "/confusion.png")
            let paper = background ?? 1
            try PNGFile.write(mistakesFigure(Array(mistakes), test: test, background: flip ? 1 - paper : paper),
                              to: output + "/mistakes.png")
        }
        return summary
    }

    /// A grid of the mistakes' digits, each captioned "true → predicted  confidence".
    static func mistakesFigure(_ mistakes: [Mistake], test: Dataset, background: Float) -> Canvas {
        let columns = 6, cell = 28 * 4, captionHeight = 24, pad = 28
        let rows = max(1, (mistakes.count + columns - 1) / columns)
        var canvas = Canvas(width: columns * (cell + pad) + pad, height: 60 + rows * (cell + captionHeight + pad))
        canvas.drawText("Most confident mistakes (true -> predicted, confidence)", x: pad, y: 16, color: .black,
                        scale: 2)
        for (k, mistake) in mistakes.enumerated() {
            let x = pad + (k % columns) * (cell + pad), y = 50 + (k / columns) * (cell + captionHeight + pad)
            let digit = Array(test.image(mistake.index))
            digit.withUnsafeBufferPointer { values in
                canvas.blitGray(LatentFigure.ink(values, background: background), width: 28, height: 28,
                                atX: x, atY: y, scale: 4)
            }
            canvas.strokeRect(x: x, y: y, width: cell, height: cell, color: .lightGray)
            canvas.drawText(String(format: "%d->%d %.0f%%", mistake.label, mistake.predicted,
                                   100 * mistake.confidence), x: x, y: y + cell + 6, color: .black, scale: 2)
        }
        return canvas
    }
}
