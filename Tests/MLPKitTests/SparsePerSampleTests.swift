// Per-sample SGD with the sparse first layer: the same training as dense per-sample SGD up to float rounding, and
// exactly a mini-batch step with a batch of one.
import Testing
@testable import MLPKit
import TestSupport

@Suite struct SparsePerSampleTests {
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

    /// Three epochs of per-sample SGD through the Trainer, with or without the sparse first layer.
    func train(_ inputs: [Float], width: Int, sparse: Bool) throws -> (net: MLP, reports: [EpochReport]) {
        let net = network(firstWidth: width)
        var options = TrainingOptions()
        options.epochs = 3
        options.learningRate = 0.05
        options.seed = 33
        options.sparseFirstLayer = sparse
        let trainer = try Trainer(network: net, options: options)
        let data = try TrainingSet(inputs: inputs, inputSize: Self.inputs, targets: .classes(labels))
        #expect(trainer.plan(for: data).perSample && trainer.plan(for: data).sparseFirstLayer == sparse)
        return (net, try trainer.fit(data))
    }

    let labels: [UInt8] = (0..<120).map { UInt8(($0 * 7) % 4) }

    @Test(arguments: [Float(1), 0], [20, 37])
    func sparseEpochsEqualDenseEpochs(background: Float, width: Int) throws {
        let inputs = data(background: background)
        #expect(inputs.filter { $0 != background }.count > 3 * labels.count)
        let dense = try train(inputs, width: width, sparse: false)
        let sparse = try train(inputs, width: width, sparse: true)
        for (d, s) in zip(dense.reports, sparse.reports) {
            #expect(abs(d.loss - s.loss) < 1e-3 * abs(d.loss), "epoch \(d.epoch) losses \(d.loss) and \(s.loss)")
        }
        // Rounding differs (the weights are held as V + u·1ᵀ during an epoch): compare with a tolerance far
        // below the size of one step's change (~1e-2) but above accumulated float error.
        let difference = maxDifference(dense.net.parameters, sparse.net.parameters)
        #expect(difference < 2e-4, "max parameter difference \(difference)")
        #expect(maxDifference(dense.net.parameters, network(firstWidth: width).parameters) > 1e-2,
                "the epochs must move the weights")
    }

    @Test(arguments: [Float(1), 0], [20, 37])
    func aPerSampleStepIsAMiniBatchStepOfOne(background: Float, width: Int) throws {
        // One sparse first layer: per-sample SGD is the mini-batch trainer's step with a batch of one, bit for bit.
        let inputs = data(background: background)
        let perSample = try train(inputs, width: width, sparse: true)
        let net = network(firstWidth: width)
        let trainer = DataParallelTrainer(network: net, batchSize: 1, threads: 1, inputBackground: background)
        var order = Array(0..<120), generator = SplitMix64(seed: 33)
        let targets = labels.flatMap { oneHot(Int($0), count: 4) }
        for _ in 1...3 {
            generator.shuffle(&order)
            trainer.restartSparseFirstLayer()
            inputs.withUnsafeBufferPointer { x in
                targets.withUnsafeBufferPointer { y in
                    for i in order.indices {
                        trainer.step(indices: order[i...i], inputs: x.baseAddress!, targets: y.baseAddress!,
                                     learningRate: 0.05)
                    }
                }
            }
        }
        #expect(firstMismatch(net.parameters, perSample.net.parameters) == nil)
    }

    @Test func dominantValueIsFound() {
        #expect(TrainingSet.dominantValue(of: data(background: 1), sampleEvery: 1)?.value == 1)
        #expect(TrainingSet.dominantValue(of: data(background: 0), sampleEvery: 1)?.value == 0)
        let fraction = TrainingSet.dominantValue(of: data(background: 1), sampleEvery: 1)!.fraction
        #expect(fraction > 0.75 && fraction < 0.85)
    }
}
