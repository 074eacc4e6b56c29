// The homework's two digit classifiers.
import MLPData
import MLPImaging
import MLPKit

/// The two networks the homework compares on MNIST.
public enum DigitNetwork: String, Sendable, CaseIterable, Codable {
    /// 784 → 20 (leaky ReLU) → 10 (softmax).
    case a
    /// 784 → 40 (ReLU) → 20 (leaky ReLU) → 10 (softmax).
    case b

    /// "A" or "B".
    public var title: String { rawValue.uppercased() }

    /// The architecture in words.
    public var architecture: String {
        switch self {
        case .a: "784 → 20 (leaky ReLU) → 10 (softmax)"
        case .b: "784 → 40 (ReLU) → 20 (leaky ReLU) → 10 (softmax)"
        }
    }

    /// A freshly initialised network with softmax cross-entropy loss.
    public func make(seed: UInt64) -> MLP {
        let net = MLP(inputSize: 784, loss: .softmaxCrossEntropy, seed: seed)
        switch self {
        case .a:
            net.addLayer(20, activation: .leakyReLU, name: "hidden")
        case .b:
            net.addLayer(40, activation: .relu, name: "hidden1")
            net.addLayer(20, activation: .leakyReLU, name: "hidden2")
        }
        net.addLayer(10, activation: .softmax, name: "output")
        return net
    }
}
