// Label smoothing: soft class targets, their gradient against finite differences, and both training routes.
import Testing
@testable import MLPKit
import TestSupport

@Suite struct LabelSmoothingTests {
    func network(seed: UInt64 = 4) -> MLP {
        let net = MLP(inputSize: 3, loss: .softmaxCrossEntropy, seed: seed)
        net.addLayer(5, activation: .tanh)
        net.addLayer(4, activation: .softmax)
        return net
    }

    /// The smoothed target row of `label` among 4 classes.
    func smoothed(_ label: Int, _ epsilon: Float) -> [Float] {
        (0..<4).map { $0 == label ? 1 - epsilon + epsilon / 4 : epsilon / 4 }
    }

    @Test func theSmoothedLossesGradientIsItsFiniteDifference() throws {
        let net = network(), x: [Float] = [0.3, -0.7, 1.1], target = smoothed(2, 0.2)
        #expect(abs(target.reduce(0, +) - 1) < 1e-6)
        let (worst, index) = try GradientCheckTests().check(net, x: x, target: target)
        #expect(worst < 1, "parameter \(index) is \(worst) tolerances off")
    }

    /// 8 samples of 3 inputs and their classes.
    let inputs = randomValues(24, seed: 8), labels: [UInt8] = [0, 3, 1, 2, 2, 0, 1, 3]

    @Test func aPerSampleEpochStepsOnTheSmoothedTargets() throws {
        let trained = network()
        var options = TrainingOptions(learningRate: 0.1, seed: 5)
        options.labelSmoothing = 0.1
        try Trainer(network: trained, options: options)
            .fit(TrainingSet(inputs: inputs, inputSize: 3, targets: .classes(labels)))
        var order = Array(0..<8)
        var generator = SplitMix64(seed: 5)
        generator.shuffle(&order)
        let reference = network()
        for i in order {
            try reference.backward(Array(inputs[(i * 3)..<(i * 3 + 3)]), target: smoothed(Int(labels[i]), 0.1))
            reference.step(learningRate: 0.1)
            reference.zeroGrad()
        }
        #expect(maxDifference(trained.parameters, reference.parameters) < 1e-6)
        // Without smoothing the steps differ.
        let plain = network()
        try Trainer(network: plain, options: TrainingOptions(learningRate: 0.1, seed: 5))
            .fit(TrainingSet(inputs: inputs, inputSize: 3, targets: .classes(labels)))
        #expect(maxDifference(plain.parameters, trained.parameters) > 1e-4)
    }

    @Test func aMiniBatchStepTakesTheSmoothedTargetsOnAnyThreadCount() throws {
        func train(threads: Int) throws -> [Float] {
            let net = network()
            var options = TrainingOptions(learningRate: 0.1, batchSize: 8, optimizer: .defaultAdam, threads: threads)
            options.labelSmoothing = 0.1
            try Trainer(network: net, options: options)
                .fit(TrainingSet(inputs: inputs, inputSize: 3, targets: .classes(labels)))
            return net.parameters
        }
        let one = try train(threads: 1)
        for threads in [2, 3] { #expect(firstMismatch(one, try train(threads: threads)) == nil) }
        // One batch of all 8: Adam's first step is η·sign(g) for the smoothed targets' summed gradient.
        let reference = network()
        for i in 0..<8 {
            try reference.backward(Array(inputs[(i * 3)..<(i * 3 + 3)]), target: smoothed(Int(labels[i]), 0.1))
        }
        let start = network().parameters, g = reference.gradients
        let expected = zip(start, g).map { $0 - 0.1 * $1 / (abs($1) + 1e-8) }
        #expect(maxDifference(one, expected) < 1e-4)
    }

    @Test func smoothingNeedsClassesUnderTheCrossEntropyAndAnEpsilonBelowOne() throws {
        var options = TrainingOptions()
        options.labelSmoothing = 1
        #expect(throws: MLPError(field: "labelSmoothing", "must be in [0, 1), got 1.0")) { try options.validate() }
        options.labelSmoothing = 0.1
        let values = try TrainingSet(inputs: inputs, inputSize: 3, targets: .values(randomValues(32, seed: 2), size: 4))
        #expect { try Trainer(network: network(), options: options).fit(values) } throws: {
            ($0 as? MLPError)?.field == "labelSmoothing"
        }
        #expect(options.shapingValues["labelSmoothing"] == "0.1")
        #expect(TrainingOptions().shapingValues["labelSmoothing"] == nil)
    }
}
