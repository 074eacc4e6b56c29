// How well a network does on a data set: its mean loss, and accuracy (classes) or R² (numbers).
import MLPData
import MLPKit

/// A network's figures on one data set, in the terms of its target encoding.
public struct TrainScore: Sendable, Codable, Equatable {
    /// Mean per-sample value of the network's loss.
    public let loss: Double
    /// Fraction of samples classified right (classes: the largest output; binary: output ≥ ½); nil for numbers.
    public let accuracy: Double?
    /// Coefficient of determination 1 − SS_res/SS_tot, averaged over the target columns; nil for classes.
    public let r2: Double?

    /// accuracy or R², whichever the task has.
    public var headline: Double { accuracy ?? r2 ?? .nan }

    /// Scores `evaluator`'s network on `data`, whose targets follow `encoding`; also returns the outputs.
    static func measure(_ evaluator: Evaluator, _ data: TrainingSet, encoding: TargetEncoding)
        throws -> (score: TrainScore, outputs: [Float]) {
        let (outputs, loss) = try evaluator.outputsAndLoss(data)
        let width = encoding.outputs
        switch (encoding, data.targets) {
        case (.classes, .classes(let labels)):
            let predicted = predictedClasses(outputs, width: width)
            let correct = zip(predicted, labels).filter { Int($0) == Int($1) }.count
            return (TrainScore(loss: loss, accuracy: Double(correct) / Double(max(labels.count, 1)), r2: nil), outputs)
        case (.binary, .values(let values, _)):
            let correct = zip(outputs, values).filter { ($0 >= 0.5) == ($1 == 1) }.count
            return (TrainScore(loss: loss, accuracy: Double(correct) / Double(max(values.count, 1)), r2: nil), outputs)
        case (.values, .values(let values, _)):
            return (TrainScore(loss: loss, accuracy: nil, r2: rSquared(outputs, values, width: width)), outputs)
        default:
            return (TrainScore(loss: loss, accuracy: nil, r2: nil), outputs)
        }
    }

    /// The index of the largest output of each row.
    static func predictedClasses(_ outputs: [Float], width: Int) -> [Int] {
        stride(from: 0, to: outputs.count, by: width).map { start in
            var best = 0
            for j in 1..<width where outputs[start + j] > outputs[start + best] { best = j }
            return best
        }
    }

    /// R² per column of `truth` (rows of `width`) against `predicted`, averaged over the columns (as
    /// scikit-learn's `r2_score` does by default); a constant column counts as 0.
    static func rSquared(_ predicted: [Float], _ truth: [Float], width: Int) -> Double {
        let rows = truth.count / width
        guard rows > 0 else { return .nan }
        var total = 0.0
        for j in 0..<width {
            var mean = 0.0
            for r in 0..<rows { mean += Double(truth[r * width + j]) }
            mean /= Double(rows)
            var residual = 0.0, spread = 0.0
            for r in 0..<rows {
                let y = Double(truth[r * width + j]), p = Double(predicted[r * width + j])
                residual += (y - p) * (y - p)
                spread += (y - mean) * (y - mean)
            }
            total += spread > 0 ? 1 - residual / spread : 0
        }
        return total / Double(width)
    }
}
