// Loss functions over a block of outputs: each value next to its gradient.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How the network's output ŷ is scored against a target y; every loss is summed over outputs and samples.
public enum Loss: String, Equatable, Hashable, Sendable, CaseIterable {
    /// Binary cross-entropy, −Σ [y log ŷ + (1 − y) log(1 − ŷ)]; ŷ must lie in (0, 1).
    case logistic
    /// Cross-entropy against a one-hot (or probability) row, −Σ y log ŷ; ŷ must be positive.
    case softmaxCrossEntropy = "softmax_cross_entropy"
    /// Sum of squares, Σ (ŷ − y)².
    case squared
    /// Sum of absolute differences, Σ |ŷ − y|.
    case absolute

    /// True when the last layer's `activation` and this loss have the fused, stable gradient dL/dz = ŷ − y
    /// (logistic output with logistic loss, softmax output with cross-entropy).
    func isFused(with activation: Activation) -> Bool {
        switch (self, activation) {
        case (.logistic, .logistic), (.softmaxCrossEntropy, .softmax): true
        default: false
        }
    }

    /// Smallest probability fed to a logarithm: keeps a saturated output's loss finite (log 1e-30 ≈ −69).
    static let floor: Float = 1e-30

    /// L(ŷ, y) summed over `count` values.
    func value(_ yhat: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        var sum: Float = 0
        switch self {
        case .logistic:
            for i in 0..<count {
                sum -= y[i] * logf(max(yhat[i], Loss.floor)) + (1 - y[i]) * logf(max(1 - yhat[i], Loss.floor))
            }
        case .softmaxCrossEntropy:
            for i in 0..<count where y[i] != 0 { sum -= y[i] * logf(max(yhat[i], Loss.floor)) }
        case .squared:
            for i in 0..<count { let d = yhat[i] - y[i]; sum += d * d }
        case .absolute:
            for i in 0..<count { sum += abs(yhat[i] - y[i]) }
        }
        return sum
    }

    /// Writes dL/dŷ for `count` values into `gradient`.
    func gradient(_ gradient: UnsafeMutablePointer<Float>, _ yhat: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                  count: Int) {
        switch self {
        case .logistic:
            for i in 0..<count {
                let p = yhat[i]
                gradient[i] = (p - y[i]) / max(p * (1 - p), Loss.floor)
            }
        case .softmaxCrossEntropy:
            for i in 0..<count { gradient[i] = y[i] == 0 ? 0 : -y[i] / max(yhat[i], Loss.floor) }
        case .squared:
            for i in 0..<count { gradient[i] = 2 * (yhat[i] - y[i]) }
        case .absolute:
            for i in 0..<count {
                let d = yhat[i] - y[i]
                gradient[i] = d > 0 ? 1 : (d < 0 ? -1 : 0)
            }
        }
    }

    /// Writes dL/dz for the last layer: the fused ŷ − y where it applies, else dL/dŷ chained through the
    /// activation's derivative (e.g. the squared loss on a logistic output gets the factor ŷ(1 − ŷ)).
    func outputDelta(_ delta: UnsafeMutablePointer<Float>, _ yhat: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                     activation: Activation, rows: Int, columns: Int) {
        let count = rows &* columns
        if isFused(with: activation) {
            for i in 0..<count { delta[i] = yhat[i] - y[i] }
        } else {
            gradient(delta, yhat, y, count: count)
            activation.backward(delta, output: yhat, rows: rows, columns: columns)
        }
    }
}
