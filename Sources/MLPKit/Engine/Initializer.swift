// How a dense layer's weights start: the classic randn × 0.1, or scaled to the layer's fan-in and fan-out.

/// How a dense layer's parameters start, drawn from the network's seeded generator. Fan-in is the layer's inputs,
/// fan-out its outputs.
public enum Initializer: Sendable, Equatable, CustomStringConvertible {
    /// The shape of the draw for the scaled initializers: normal, or uniform on [−limit, limit) with the same
    /// variance.
    public enum Distribution: String, Sendable, CaseIterable {
        case normal, uniform
    }

    /// Weights and biases ~ N(0, σ²) whatever the layer's width; `.classic` is σ = 0.1, the network's default.
    case scaledNormal(Float)
    /// He (Kaiming): weights of variance 2 / fan-in, for the ReLU family; biases 0.
    case he(Distribution)
    /// Xavier (Glorot): weights of variance 2 / (fan-in + fan-out), for tanh, logistic, softmax and identity;
    /// biases 0.
    case xavier(Distribution)
    /// LeCun: weights of variance 1 / fan-in; biases 0.
    case lecun(Distribution)

    /// randn × 0.1 for weights and biases: what `addLayer` does unless told otherwise.
    public static let classic = Initializer.scaledNormal(0.1)

    /// The usual choice for a layer with `activation`: He for the ReLU family, Xavier for the others.
    public static func suited(to activation: Activation, _ distribution: Distribution = .normal) -> Initializer {
        switch activation {
        case .relu, .leakyReLU: .he(distribution)
        case .logistic, .tanh, .identity, .softmax: .xavier(distribution)
        }
    }

    /// "normal(0.1)", "he-normal", "xavier-uniform", "lecun-normal": how model files record it.
    public var description: String {
        switch self {
        case .scaledNormal(let sigma): "normal(\(sigma))"
        case .he(let d): "he-\(d.rawValue)"
        case .xavier(let d): "xavier-\(d.rawValue)"
        case .lecun(let d): "lecun-\(d.rawValue)"
        }
    }

    /// The initializer `description` names, or nil.
    public init?(description text: String) {
        if text.hasPrefix("normal("), text.hasSuffix(")"), let sigma = Float(text.dropFirst(7).dropLast()) {
            self = .scaledNormal(sigma)
            return
        }
        let parts = text.split(separator: "-", maxSplits: 1).map(String.init)
        guard parts.count == 2, let distribution = Distribution(rawValue: parts[1]) else { return nil }
        switch parts[0] {
        case "he": self = .he(distribution)
        case "xavier": self = .xavier(distribution)
        case "lecun": self = .lecun(distribution)
        default: return nil
        }
    }

    /// The weights' variance for a layer of `fanIn` inputs and `fanOut` outputs.
    public func weightVariance(fanIn: Int, fanOut: Int) -> Double {
        switch self {
        case .scaledNormal(let sigma): Double(sigma) * Double(sigma)
        case .he: 2 / Double(fanIn)
        case .xavier: 2 / Double(fanIn + fanOut)
        case .lecun: 1 / Double(fanIn)
        }
    }

    /// Fills a layer's `fanOut` × `fanIn` weights, then its `fanOut` biases, at `parameters` (the buffer's
    /// layout), drawing from `generator`.
    func fill(_ parameters: UnsafeMutablePointer<Float>, fanIn: Int, fanOut: Int, generator: inout SplitMix64) {
        let weights = fanIn * fanOut
        let deviation = weightVariance(fanIn: fanIn, fanOut: fanOut).squareRoot()
        switch self {
        case .scaledNormal(let sigma):
            for i in 0..<(weights + fanOut) { parameters[i] = generator.nextGaussian() * sigma }
        case .he(let d), .xavier(let d), .lecun(let d):
            switch d {
            case .normal:
                for i in 0..<weights { parameters[i] = Float(Double(generator.nextGaussian()) * deviation) }
            case .uniform:
                let limit = 3.0.squareRoot() * deviation     // uniform on [−a, a) has variance a² / 3
                for i in 0..<weights { parameters[i] = Float((2 * generator.nextUniform() - 1) * limit) }
            }
            for i in weights..<(weights + fanOut) { parameters[i] = 0 }
        }
    }
}
