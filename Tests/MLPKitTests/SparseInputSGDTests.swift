// The sparse first layer must train exactly as dense per-sample SGD does, up to float rounding.
import Testing
@testable import MLPKit

@Suite struct SparseInputSGDTests {
    /// 120 "images" of 50 inputs where about 80% of the values are the background.
    func data(background: Float) -> [Float] {
        var generator = SplitMix64(seed: 31)
        return (0..<(120 * 50)).map { _ in
            generator.nextUniform() < 0.8 ? background : Float(generator.nextUniform())
        }
    }

    func network() -> MLP {
        let net = MLP(inputSize: 50, loss: .softmaxCrossEntropy, seed: 32)
        net.addLayer(20, activation: .leakyReLU)   // 20 outputs: Vᵀ rows are padded to 24
        net.addLayer(12, activation: .relu)
        net.addLayer(4, activation: .softmax)
        return net
    }

    @Test(arguments: [Float(1), 0])
    func sparseEpochsEqualDenseEpochs(background: Float) throws {
        let inputs = data(background: background)
        let labels = (0..<120).map { ($0 * 7) % 4 }
        let dense = network(), sparse = network()
        let sparseTrainer = SparseInputSGD(network: sparse, inputs: inputs, count: 120, background: background)
        #expect(sparseTrainer.meanNonzeros > 5 && sparseTrainer.meanNonzeros < 15)
        let workspace = dense.makeWorkspace(capacity: 1)
        var generator = SplitMix64(seed: 33)
        var order = Array(0..<120)
        for _ in 0..<3 {
            generator.shuffle(&order)
            let denseLoss = inputs.withUnsafeBufferPointer { x in
                dense.trainEpoch(inputs: x.baseAddress!, order: order, learningRate: 0.05, workspace: workspace) {
                    $1[labels[$0]] = 1
                }
            }
            let sparseLoss = sparseTrainer.trainEpoch(order: order, learningRate: 0.05) { $1[labels[$0]] = 1 }
            #expect(abs(denseLoss - sparseLoss) < 1e-3 * abs(denseLoss), "epoch losses \(denseLoss) and \(sparseLoss)")
        }
        // Rounding differs (the weights are held as V + u·1ᵀ during an epoch): compare with a tolerance far
        // below the size of one step's change (~1e-2) but above accumulated float error.
        let difference = maxDifference(dense.parameters, sparse.parameters)
        #expect(difference < 2e-4, "max parameter difference \(difference)")
    }

    @Test func dominantValueIsFound() {
        #expect(SparseInputSGD.dominantValue(of: data(background: 1), sampleEvery: 1)?.value == 1)
        #expect(SparseInputSGD.dominantValue(of: data(background: 0), sampleEvery: 1)?.value == 0)
        let fraction = SparseInputSGD.dominantValue(of: data(background: 1), sampleEvery: 1)!.fraction
        #expect(fraction > 0.75 && fraction < 0.85)
    }
}
