// Stopping a run the moment its numbers stop being numbers.

/// Training stopped because the loss or a parameter became NaN or infinite. The network is left as it was
/// after the failing step; nothing should be saved from it.
public struct TrainingDiverged: Error, CustomStringConvertible, Sendable {
    /// 1-based epoch.
    public let epoch: Int
    /// 1-based step within the epoch (a mini-batch, or a sample for per-sample SGD), of `steps`.
    public let step: Int
    public let steps: Int
    /// The learning rate of that epoch.
    public let learningRate: Float
    /// What went wrong: "the loss became NaN", "a parameter became infinite", …
    public let problem: String

    /// Where and how: "training diverged at epoch 1, step 7 of 1000, learning rate 1e+09: the loss became NaN."
    public var summary: String {
        "training diverged at epoch \(epoch), step \(step) of \(steps), learning rate \(learningRate): \(problem)."
    }

    /// A learning rate worth trying instead: a tenth of this one.
    public var suggestedLearningRate: Float { learningRate / 10 }

    public var description: String {
        summary + " Nothing was saved from this step on; try a lower learning rate, such as \(suggestedLearningRate)."
    }
}

extension MLP {
    /// The first problem among the parameters ("a parameter became NaN" …), or nil when all are finite.
    package func nonFiniteParameter() -> String? {
        synchronize()
        let p = parameterBuffer.pointer
        for i in 0..<parameterCount where !p[i].isFinite {
            return "a parameter became \(p[i].isNaN ? "NaN" : "infinite")"
        }
        return nil
    }
}

/// "NaN" or "infinite", for a value that is not finite.
func nonFiniteName(_ value: Double) -> String { value.isNaN ? "NaN" : "infinite" }
