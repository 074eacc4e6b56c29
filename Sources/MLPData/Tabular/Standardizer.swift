// z-scores: each feature shifted by its training mean and divided by its training standard deviation.
import MLPKit

/// Feature-wise standardization x′ = (x − mean) / scale, fitted on the training split and stored in the model
/// (`--standardize`), so that validation, test and `predict` inputs are scaled the same way.
public struct Standardizer: Sendable, Equatable {
    /// Per-feature means of the training data.
    public let mean: [Float]
    /// Per-feature standard deviations (population), or 1 for a feature that never changes.
    public let scale: [Float]

    /// The means and deviations given directly (as read back from a model).
    public init(mean: [Float], scale: [Float]) throws {
        guard mean.count == scale.count, !mean.isEmpty, scale.allSatisfy({ $0 > 0 && $0.isFinite }),
              mean.allSatisfy(\.isFinite) else {
            throw MLPError("a standardizer needs as many means as positive, finite scales")
        }
        self.mean = mean
        self.scale = scale
    }

    /// Fits the means and deviations of `features` (rows of `width`): two passes, summed in Double.
    public init(fitting features: [Float], width: Int) {
        let whole = features.count % width == 0 ? features : Array(features.prefix(features.count / width * width))
        self.init(fitting: try! InputRows(floats: whole, width: width))
    }

    /// Fits the means and deviations of `rows` as they are stored (the same figures as over their floats).
    public init(fitting rows: InputRows) {
        let width = rows.width, n = Double(max(rows.count, 1))
        var sum = [Double](repeating: 0, count: width), squares = [Double](repeating: 0, count: width)
        var means: [Double] = []
        // Row by row through a float copy (the same values, summed in the same order as over floats).
        var row = [Float](repeating: 0, count: width)
        rows.withReader { x in
            for r in 0..<rows.count {
                x.copyRow(r, into: &row)
                for j in 0..<width { sum[j] += Double(row[j]) }
            }
            means = sum.map { $0 / n }
            for r in 0..<rows.count {
                x.copyRow(r, into: &row)
                for j in 0..<width { let d = Double(row[j]) - means[j]; squares[j] += d * d }
            }
        }
        mean = means.map { Float($0) }
        scale = (0..<width).map { j in
            let deviation = (squares[j] / n).squareRoot()
            return deviation > 1e-6 * max(1, abs(means[j])) ? Float(deviation) : 1
        }
    }

    /// `features` (rows of `mean.count`) standardized.
    public func apply(_ features: [Float]) -> [Float] {
        let width = mean.count
        var out = features
        out.withUnsafeMutableBufferPointer { x in
            for i in 0..<x.count { let j = i % width; x[i] = (x[i] - mean[j]) / scale[j] }
        }
        return out
    }
}
