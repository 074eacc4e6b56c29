// Backpropagation against central finite differences, for every activation, every loss and their pairings.
import Foundation
import Testing
@testable import MLPKit
import TestSupport

@Suite struct GradientCheckTests {
    /// The output activations each loss is defined for: the logistic loss needs ŷ ∈ (0, 1) and cross-entropy ŷ > 0;
    /// the squared and absolute losses take any output.
    static let pairings: [(Loss, Activation)] =
        [(.logistic, .logistic), (.logistic, .softmax), (.softmaxCrossEntropy, .softmax),
         (.softmaxCrossEntropy, .logistic)]
        + [Loss.squared, .absolute].flatMap { loss in allActivations.map { (loss, $0) } }
    static let allActivations: [Activation] = [.logistic, .leakyReLU, .relu, .tanh, .identity, .softmax]

    /// Compares every analytic gradient of `net` on (x, target) with (L(θ + h) − L(θ − h)) / 2h.
    ///
    /// The engine computes in Float. With h = 1e-2 on a loss of size ~1, rounding in the two loss values
    /// contributes about 1e-7 / 1e-2 = 1e-5 to the difference quotient and truncation h²·L‴/6 about 1e-5,
    /// so agreement to 2e-3 absolute plus 2e-2 relative is tight enough to catch a missing factor of
    /// σ′ ≤ 0.25 or a sign error, while ReLU kinks are avoided by choosing inputs whose pre-activations keep clear of 0.
    func check(_ net: MLP, x: [Float], target: [Float]) throws -> (worst: Float, index: Int) {
        net.zeroGrad()
        try net.backward(x, target: target)
        return try check(net, indices: Array(net.parameters.indices)) { try net.loss(x, target: target) }
    }

    /// The worst of parameters `indices`' analytic gradients (in `net.gradients`) against the difference quotient
    /// of `loss`, in multiples of the tolerance, and where it is.
    func check(_ net: MLP, indices: [Int], loss: () throws -> Float) throws -> (worst: Float, index: Int) {
        let analytic = net.gradients
        let theta = net.parameters
        let h: Float = 1e-2
        var worst: Float = 0, worstIndex = -1
        for i in indices {
            var shifted = theta
            shifted[i] = theta[i] + h
            net.parameters = shifted
            let plus = try loss()
            shifted[i] = theta[i] - h
            net.parameters = shifted
            let minus = try loss()
            let numeric = (plus - minus) / (2 * h)
            // A NaN or infinite gradient or loss counts as infinitely wrong (NaN compares false with anything).
            let error = abs(numeric - analytic[i]) / (2e-3 + 2e-2 * abs(numeric))
            let counted = error.isFinite ? error : .infinity
            if counted > worst { worst = counted; worstIndex = i }
        }
        net.parameters = theta
        return (worst, worstIndex)
    }

    func target(for loss: Loss, count: Int, seed: UInt64) -> [Float] {
        switch loss {
        case .logistic: return randomValues(count, seed: seed).map { $0 > 0 ? 1 : 0 }
        case .softmaxCrossEntropy: return oneHot(Int(seed % UInt64(count)), count: count)
        case .squared, .absolute: return randomValues(count, seed: seed)
        }
    }

    /// A 3 → 5 → 4 network with the given activations, weights scaled up so the nonlinearities matter.
    func smallNetwork(hidden: Activation, output: Activation, loss: Loss, seed: UInt64) -> MLP {
        let net = MLP(inputSize: 3, loss: loss, seed: seed)
        net.addLayer(5, activation: hidden, name: "hidden")
        net.addLayer(4, activation: output, name: "output")
        net.parameters = net.parameters.map { $0 * 5 }
        return net
    }

    /// The smallest |z| over both layers' pre-activations at x: ReLU-type kinks sit at z = 0, where a
    /// difference quotient is meaningless, so the check uses an input whose pre-activations stay clear of them.
    func distanceToKinks(_ net: MLP, _ x: [Float], hidden: Activation, output: Activation) throws -> Float {
        let linear = smallNetwork(hidden: .identity, output: .identity, loss: net.loss, seed: 0)
        linear.parameters = net.parameters
        let hiddenZ = try linear.forward(x, end: "hidden")
        let outputZ = try linear.forward(try net.forward(x, end: "hidden"), start: "output")
        return (hiddenZ + outputZ).map(abs).min()!
    }

    @Test(arguments: allActivations)
    func everyPairingWithEveryHiddenActivation(hidden: Activation) throws {
        for (index, (loss, output)) in Self.pairings.enumerated() {
            let seed = UInt64(index + 1)
            let net = smallNetwork(hidden: hidden, output: output, loss: loss, seed: seed)
            // Of 32 candidate inputs, the one farthest from every kink.
            let candidates = (0..<32).map { randomValues(3, seed: seed * 1000 + UInt64($0)) }
            let distances = try candidates.map { try distanceToKinks(net, $0, hidden: hidden, output: output) }
            let x = candidates[distances.indices.max { distances[$0] < distances[$1] }!]
            var target = target(for: loss, count: 4, seed: seed)
            if loss == .absolute {
                // |ŷ − y| has its own kink at ŷ = y: keep every target at least 0.5 from its output.
                let yhat = try net.forward(x)
                target = zip(yhat, target).map { $0 + ($1 > 0 ? 0.5 + $1 : -0.5 + $1) }
            }
            let result = try check(net, x: x, target: target)
            #expect(result.worst <= 1, "hidden \(hidden), output \(output), loss \(loss): parameter \(result.index) off by \(result.worst)× the tolerance")
        }
    }

    @Test func wholeNetworkWithNamedLayers() throws {
        let net = MLP(inputSize: 6, loss: .squared, seed: 11)
        net.addLayer(8, activation: .leakyReLU, name: "encoder")
        net.addLayer(2, activation: .logistic, name: "latent")
        net.addLayer(8, activation: .tanh, name: "up")
        net.addLayer(6, activation: .logistic)
        net.parameters = net.parameters.map { $0 * 8 }
        let x = randomValues(6, seed: 12).map { 1 / (1 + expf(-$0)) }
        let result = try check(net, x: x, target: x)
        #expect(result.worst <= 1, "parameter \(result.index) off by \(result.worst)× the tolerance")
    }

    @Test func aBatchThroughEveryKindOfBlockMatchesFiniteDifferences() throws {
        // 7 rows (4 for the blocked kernels, 3 left over) through 40 → 150 → 120 → 9: the 150 → 120 layer is cut
        // into blocks of outputs, and its dL/dx formed from parts per tile of W's rows, summed by blocks of inputs.
        let net = MLP(inputSize: 40, loss: .squared, seed: 21)
        net.addLayer(150, activation: .tanh)
        net.addLayer(120, activation: .tanh)
        net.addLayer(9, activation: .logistic)
        net.parameters = net.parameters.map { $0 * 2 }
        let x = Matrix(rows: 7, columns: 40, values: randomValues(7 * 40, seed: 22))
        let y = Matrix(rows: 7, columns: 9, values: randomValues(7 * 9, seed: 23).map { 1 / (1 + expf(-$0)) })
        net.zeroGrad()
        try net.backward(x, targets: y)
        // 400 parameters spread over every layer's weights and biases.
        var generator = SplitMix64(seed: 24)
        let indices = (0..<400).map { _ in generator.nextInt(below: net.parameterCount) }
        let result = try check(net, indices: indices) { try net.loss(x, targets: y) }
        #expect(result.worst <= 1, "parameter \(result.index) off by \(result.worst)× the tolerance")
        #expect(net.gradients.contains { abs($0) > 1e-2 }, "the gradient must not vanish")
    }

    @Test func classIndexTargetsMatchOneHotTargets() throws {
        let net = MLP(inputSize: 5, loss: .softmaxCrossEntropy, seed: 3)
        net.addLayer(7, activation: .relu)
        net.addLayer(3, activation: .softmax)
        let x = randomValues(5, seed: 9)
        try net.backward(x, label: 2)
        let byLabel = net.gradients
        net.zeroGrad()
        try net.backward(x, target: [0, 0, 1])
        #expect(net.gradients == byLabel)
        #expect(try net.loss(x, label: 2) == net.loss(x, target: [0, 0, 1]))
    }
}
