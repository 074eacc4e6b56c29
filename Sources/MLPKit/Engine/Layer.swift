// One dense layer's description: sizes, activation, name, and where its parameters live in the flat buffer.

/// A fully connected layer y = f(x·Wᵀ + b). It holds no numbers itself: W (out × in, row-major) and b (out)
/// live in the network's one parameter buffer at `weightOffset` and `biasOffset`.
public struct Layer: Equatable, Sendable {
    /// Optional name, so a pass can start or end here (`forward(x, start: "latent")`).
    public let name: String?
    /// Inputs per sample.
    public let inputSize: Int
    /// Outputs per sample.
    public let outputSize: Int
    /// The nonlinearity applied to x·Wᵀ + b.
    public let activation: Activation
    /// Index of W[0, 0] in the parameter (and gradient) buffer.
    public let weightOffset: Int
    /// The fraction of this layer's inputs dropped while training (inverted dropout, `Dropout`); 0: none.
    public let dropout: Float

    /// Index of b[0]: the biases follow the weights.
    public var biasOffset: Int { weightOffset + outputSize * inputSize }
    /// Number of parameters: weights then biases.
    public var parameterCount: Int { outputSize * inputSize + outputSize }
}
