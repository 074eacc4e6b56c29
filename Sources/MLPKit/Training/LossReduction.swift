// How a mini-batch's per-sample losses make the loss its step descends: summed, or averaged.

/// How a batch's per-sample losses combine into the loss its step descends. Summed is the classic rule and this
/// library's default; the mean is PyTorch's, Keras's and scikit-learn's, where a learning rate tuned there means
/// the same here: the gradient, and so each step, is 1/batch of the sum's (for Adam, whose steps barely depend on
/// the gradient's scale, the difference is in ε only). A batch of one is the same either way.
public enum LossReduction: String, Sendable, CaseIterable, Codable {
    /// Σ of the per-sample losses.
    case sum
    /// The mean of the per-sample losses.
    case mean

    /// What each sample's gradient is multiplied by in a batch of `rows` samples.
    public func gradientScale(rows: Int) -> Float {
        self == .mean && rows > 1 ? 1 / Float(rows) : 1
    }
}
