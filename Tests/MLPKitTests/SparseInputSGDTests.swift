// The sparse first layer must train exactly as dense per-sample SGD does, up to float rounding.
import Testing
@testable import MLPData
@testable import MLPImaging
@testable import MLPJobs
@testable import MLPKit

@Suite struct SparseInputSGDTests {
    static let inputs = 30

    /// 120 "images" of `inputs` values where about 80% of the values are the background.
    func data(background: Float) -> [Float] {
        var generator = SplitMix64(seed: 31)
        return (0..<(120 * Self.inputs)).map { _ in
            generator.nextUniform() < 0.8 ? background : Float(generator.nextUniform())
        }
    }

    /// inputs → width → 12 → 4. Neither width is a multiple of 8 (Vᵀ rows are padded to 24 and 40), and 37
    /// makes the first hidden layer the widest, so its δ fills the workspace's buffer exactly. The middle layer
    /// is smooth (tanh): with ReLU there, one unit whose input sits at the kink after 310 steps takes different
    /// sides in the two roundings and the runs part by 6e-4, which says nothing about the sparse layer.
    func network(firstWidth width: Int) -> MLP {
        let net = MLP(inputSize: Self.inputs, loss: .softmaxCrossEntropy, seed: 32)
        net.addLayer(width, activation: .leakyReLU)
        net.addLayer(12, activation: .tanh)
        net.addLayer(4, activation: .softmax)
        return net
    }

    @Test(arguments: [Float(1), 0], [20, 37])
    func sparseEpochsEqualDenseEpochs(background: Float, width: Int) throws {
        let inputs = data(background: background)
        let labels = (0..<120).map { ($0 * 7) % 4 }
        let dense = network(firstWidth: width), sparse = network(firstWidth: width)
        let initial = dense.parameters
        let sparseTrainer = SparseInputSGD(network: sparse, inputs: inputs, count: 120, background: background)
        #expect(sparseTrainer.meanNonzeros > 3 && sparseTrainer.meanNonzeros < 9)
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
        #expect(maxDifference(dense.parameters, initial) > 1e-2, "the epochs must move the weights")
    }

    @Test func dominantValueIsFound() {
        #expect(SparseInputSGD.dominantValue(of: data(background: 1), sampleEvery: 1)?.value == 1)
        #expect(SparseInputSGD.dominantValue(of: data(background: 0), sampleEvery: 1)?.value == 0)
        let fraction = SparseInputSGD.dominantValue(of: data(background: 1), sampleEvery: 1)!.fraction
        #expect(fraction > 0.75 && fraction < 0.85)
    }
}
