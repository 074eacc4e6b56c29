// The data-parallel trainer: summed batch gradients, and weights that do not depend on the thread count.
import Foundation
import Testing
@testable import MLPKit

@Suite struct DataParallelTrainerTests {
    func network() -> MLP {
        let net = MLP(inputSize: 40, loss: .squared, seed: 9)
        net.addLayer(24, activation: .leakyReLU, name: "encode")
        net.addLayer(2, activation: .logistic, name: "latent")
        net.addLayer(24, activation: .leakyReLU, name: "up")
        net.addLayer(40, activation: .logistic)
        return net
    }

    /// 300 samples in [0, 1] and a fixed visiting order.
    let inputs = randomValues(300 * 40, seed: 10).map { 1 / (1 + expf(-$0)) }

    /// 300 samples of 40 inputs where about 80% of the values are `background` (the rest uniform in [0, 1]).
    func imageLike(background: Float) -> [Float] {
        var generator = SplitMix64(seed: 12)
        return (0..<(300 * 40)).map { _ in generator.nextUniform() < 0.8 ? background : Float(generator.nextUniform()) }
    }

    /// The order in which `train` visits the 300 samples.
    func visitingOrder() -> [Int] {
        var order = Array(0..<300)
        var generator = SplitMix64(seed: 11)
        generator.shuffle(&order)
        return order
    }

    /// The reference for one trainer step: `backward` over the first `rows` samples `train` visits, then `step`.
    func backwardAndStep(firstRows rows: Int) throws -> MLP {
        let net = network()
        let batch = Matrix(stacking: visitingOrder().prefix(rows).map { Array(inputs[$0 * 40 ..< ($0 + 1) * 40]) })
        try net.backward(batch, targets: batch)
        net.step(learningRate: 0.01)
        return net
    }

    /// `steps` trainer steps on `data` (inputs are their own targets), with a sparse first layer when
    /// `background` is given.
    func train(threads: Int, shardRows: Int?, batchSize: Int = 50, steps: Int = 6, data: [Float]? = nil,
               background: Float? = nil, network: MLP? = nil) -> MLP {
        let net = network ?? self.network()
        let trainer = DataParallelTrainer(network: net, batchSize: batchSize, threads: threads, shardRows: shardRows,
                                          inputBackground: background)
        let order = visitingOrder()
        (data ?? inputs).withUnsafeBufferPointer { x in
            for s in 0..<steps {
                let lower = s * batchSize
                trainer.step(indices: order[lower ..< min(300, lower + batchSize)], inputs: x.baseAddress!,
                             targets: x.baseAddress!, learningRate: 0.01)
            }
        }
        trainer.storeWeights()
        return net
    }

    @Test func weightsAreBitIdenticalForAnyThreadCount() {
        let reference = train(threads: 1, shardRows: 8).parameters
        for threads in [2, 3, 8] {
            #expect(train(threads: threads, shardRows: 8).parameters == reference, "threads \(threads)")
        }
    }

    @Test func aStepIsTheSummedBatchGradientStep() throws {
        // One trainer step with 7 shards (the last short) against backward over the batch + step.
        let trained = train(threads: 2, shardRows: 8, batchSize: 50, steps: 1)
        let net = try backwardAndStep(firstRows: 50)
        // The shards' partial sums are added in another order than one 50-row kernel call: allow float rounding.
        let difference = maxDifference(trained.parameters, net.parameters)
        #expect(difference < 1e-5, "max difference \(difference)")
        #expect(difference > 0 || trained.parameters == net.parameters)
    }

    @Test func shardSizeDependsOnTheBatchAndNetworkOnly() {
        let net = AutoencoderDemo.makeNetwork(seed: 0)
        for batch in [1, 16, 256] {
            let sizes = [1, 2, 8].map { DataParallelTrainer(network: net, batchSize: batch, threads: $0).shardRows }
            #expect(Set(sizes).count == 1)
        }
        #expect(DataParallelTrainer(network: net, batchSize: 16, threads: 1).shardCount == 1)
        #expect(DataParallelTrainer(network: net, batchSize: 32, threads: 1).shardCount == 2)
        #expect(DataParallelTrainer(network: net, batchSize: 256, threads: 1).shardCount == 2)
        #expect(DataParallelTrainer(network: net, batchSize: 1024, threads: 1).shardCount == 8)
    }

    @Test func aSingleShardStepsInPlaceLikeBackwardAndStep() throws {
        // One shard of 20 rows: the step is taken inside backpropagation, with no gradient buffer.
        let trained = train(threads: 2, shardRows: 20, batchSize: 20, steps: 1)
        let net = try backwardAndStep(firstRows: 20)
        let difference = maxDifference(trained.parameters, net.parameters)
        #expect(difference < 1e-6, "max difference \(difference)")
        // And several steps, on any thread count, give the same bits.
        let reference = train(threads: 1, shardRows: 20, batchSize: 20).parameters
        #expect(train(threads: 3, shardRows: 20, batchSize: 20).parameters == reference)
    }

    @Test(arguments: [Float(1), 0])
    func aSparseFirstLayerTrainsLikeTheDenseOne(background: Float) {
        // One in-place shard (batch 20) and seven shards (batch 50, the last short), on 2 threads.
        let data = imageLike(background: background)
        let initial = network().parameters
        for (shardRows, batchSize) in [(20, 20), (8, 50)] {
            let dense = train(threads: 2, shardRows: shardRows, batchSize: batchSize, data: data).parameters
            let sparse = train(threads: 2, shardRows: shardRows, batchSize: batchSize, data: data,
                               background: background).parameters
            // W is held as V + u·1ᵀ while training, so the rounding differs; the steps themselves move the
            // weights by ~1e-2, four orders of magnitude more than the tolerance.
            let difference = maxDifference(dense, sparse)
            #expect(difference < 2e-6, "shards of \(shardRows): max difference \(difference)")
            #expect(maxDifference(dense, initial) > 1e-2, "the steps must move the weights")
        }
    }

    @Test func sparseWeightsAreBitIdenticalForAnyThreadCount() {
        let data = imageLike(background: 1)
        let reference = train(threads: 1, shardRows: 8, data: data, background: 1).parameters
        for threads in [2, 3, 8] {
            #expect(train(threads: threads, shardRows: 8, data: data, background: 1).parameters == reference,
                    "threads \(threads)")
        }
    }

    @Test func aSparseSingleLayerNetworkTrainsLikeTheDenseOne() {
        // The first layer is also the output layer: its dL/dz comes straight from the loss.
        func oneLayer() -> MLP {
            let net = MLP(inputSize: 40, loss: .squared, seed: 13)
            net.addLayer(40, activation: .logistic)
            return net
        }
        let data = imageLike(background: 0)
        for (shardRows, batchSize) in [(20, 20), (8, 50)] {
            let dense = train(threads: 2, shardRows: shardRows, batchSize: batchSize, data: data,
                              network: oneLayer()).parameters
            let sparse = train(threads: 2, shardRows: shardRows, batchSize: batchSize, data: data, background: 0,
                               network: oneLayer()).parameters
            let difference = maxDifference(dense, sparse)
            #expect(difference < 2e-6, "shards of \(shardRows): max difference \(difference)")
        }
    }
}
