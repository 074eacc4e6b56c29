// The fused per-sample SGD step must make the same update as backward + step + zeroGrad.
import Testing
@testable import MLPKit
import TestSupport

@Suite struct PerSampleSGDTests {
    @Test(arguments: [Loss.logistic, .softmaxCrossEntropy, .squared])
    func fusedStepEqualsBackwardThenStep(loss: Loss) throws {
        func network() -> MLP {
            let net = MLP(inputSize: 9, loss: loss, seed: 21)
            net.addLayer(16, activation: .leakyReLU)
            net.addLayer(7, activation: .tanh)
            net.addLayer(loss == .logistic ? 1 : 3, activation: loss == .softmaxCrossEntropy ? .softmax : .logistic)
            return net
        }
        let reference = network(), fused = network()
        let workspace = fused.makeWorkspace(capacity: 1)
        let samples = 20
        let x = randomValues(samples * 9, seed: 22)
        let targets = (0..<samples).map { oneHot($0 % fused.outputSize, count: fused.outputSize) }
        for s in 0..<samples {
            let input = Array(x[s * 9 ..< (s + 1) * 9])
            let expectedLoss = try reference.backward(input, target: targets[s])
            reference.step(learningRate: 0.05)
            reference.zeroGrad()
            let fusedLoss = input.withUnsafeBufferPointer { xp in
                targets[s].withUnsafeBufferPointer { tp in
                    fused.sgdStep(xp.baseAddress!, target: tp.baseAddress!, learningRate: 0.05, workspace: workspace)
                }
            }
            #expect(abs(fusedLoss - expectedLoss) < 1e-5)
        }
        // Float rounding differs (w + (−η·δ)·x versus w − η·(δ·x)), so compare after 20 steps with a tolerance
        // a few ulps of the weights' size (~0.1–1) times the number of steps.
        let difference = maxDifference(fused.parameters, reference.parameters)
        #expect(difference < 1e-5, "max difference \(difference)")
        #expect(fused.gradients.allSatisfy { $0 == 0 })
    }
}
