// Each initializer's weights against its formula's mean and variance on a large layer; records in model files.
import Foundation
import Testing
@testable import MLPKit
import TestSupport

@Suite struct InitializerTests {
    static let scaled: [Initializer] = Initializer.Distribution.allCases.flatMap { [.he($0), .xavier($0), .lecun($0)] }

    /// The mean and variance of a layer's weights, and its biases.
    func moments(_ initializer: Initializer, fanIn: Int, fanOut: Int) -> (mean: Double, variance: Double,
                                                                           weights: [Float], biases: [Float]) {
        let net = MLP(inputSize: fanIn, loss: .squared, seed: 11)
        net.addLayer(fanOut, activation: .relu, initializer: initializer)
        let p = net.parameters, weights = Array(p[0..<(fanIn * fanOut)]), biases = Array(p[(fanIn * fanOut)...])
        let mean = weights.reduce(0.0) { $0 + Double($1) } / Double(weights.count)
        let variance = weights.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(weights.count)
        return (mean, variance, weights, biases)
    }

    @Test(arguments: scaled)
    func weightsHaveTheFormulasVarianceAndBiasesStartAtZero(initializer: Initializer) {
        let fanIn = 1000, fanOut = 400
        let expected: Double = switch initializer {
        case .he: 2.0 / 1000
        case .xavier: 2.0 / 1400
        case .lecun: 1.0 / 1000
        case .scaledNormal: .nan
        }
        let (mean, variance, weights, biases) = moments(initializer, fanIn: fanIn, fanOut: fanOut)
        #expect(abs(mean) < 5 * (expected / Double(weights.count)).squareRoot(), "mean \(mean)")
        #expect(abs(variance / expected - 1) < 0.02, "variance \(variance) against \(expected)")
        #expect(biases.allSatisfy { $0 == 0 })
        if case .he(.uniform) = initializer {
            let limit = Float((6.0 / 1000).squareRoot())
            #expect(weights.allSatisfy { abs($0) <= limit } && weights.map(abs).max()! > 0.99 * limit)
        }
    }

    @Test func theClassicStartIsRandnTimesATenthForWeightsAndBiases() {
        let (mean, variance, _, biases) = moments(.classic, fanIn: 600, fanOut: 300)
        #expect(abs(mean) < 5 * (0.01 / 180_000).squareRoot() && abs(variance / 0.01 - 1) < 0.02)
        #expect(biases.contains { $0 != 0 })
        // The network's default is the classic start, drawn as before: the same bits as asking for it.
        let byDefault = MLP(inputSize: 7, loss: .squared, seed: 3), asked = MLP(inputSize: 7, loss: .squared, seed: 3)
        byDefault.addLayer(5, activation: .tanh)
        asked.addLayer(5, activation: .tanh, initializer: .scaledNormal(0.1))
        #expect(firstMismatch(byDefault.parameters, asked.parameters) == nil)
    }

    @Test func suitedMeansHeForTheReLUFamilyAndXavierForTheRest() {
        #expect(Initializer.suited(to: .relu) == .he(.normal))
        #expect(Initializer.suited(to: .leakyReLU, .uniform) == .he(.uniform))
        for activation in [Activation.tanh, .logistic, .identity, .softmax] {
            #expect(Initializer.suited(to: activation) == .xavier(.normal))
        }
    }

    @Test(arguments: scaled + [.classic, .scaledNormal(0.25)])
    func descriptionsNameTheInitializerBothWays(initializer: Initializer) {
        #expect(Initializer(description: initializer.description) == initializer)
    }

    @Test func modelFilesRecordTheInitializersThatAreNotClassic() throws {
        let net = MLP(inputSize: 4, loss: .softmaxCrossEntropy, seed: 2)
        net.addLayer(6, activation: .relu, initializer: .he(.uniform))
        net.addLayer(5, activation: .tanh)
        net.addLayer(3, activation: .softmax, initializer: .xavier(.normal))
        let file = net.safeTensors
        #expect(file.metadata["layers.0.init"] == "he-uniform")
        #expect(file.metadata["layers.1.init"] == nil)
        #expect(file.metadata["layers.2.init"] == "xavier-normal")
        let loaded = try MLP(safeTensors: file)
        #expect(loaded.initializers == [.he(.uniform), .classic, .xavier(.normal)])
        #expect(firstMismatch(loaded.parameters, net.parameters) == nil)
        var broken = file
        broken.metadata["layers.0.init"] = "orthogonal"
        #expect(throws: MLPError("model: not an mlp-train model: layer 0: initializer \"orthogonal\" is unknown")) {
            try MLP(safeTensors: broken)
        }
    }
}
