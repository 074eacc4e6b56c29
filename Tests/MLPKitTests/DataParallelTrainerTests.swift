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

    func train(threads: Int, shardRows: Int?, batchSize: Int = 50, steps: Int = 6) -> MLP {
        let net = network()
        let trainer = DataParallelTrainer(network: net, batchSize: batchSize, threads: threads, shardRows: shardRows)
        var order = Array(0..<300)
        var generator = SplitMix64(seed: 11)
        generator.shuffle(&order)
        inputs.withUnsafeBufferPointer { x in
            for s in 0..<steps {
                let lower = s * batchSize
                trainer.step(indices: order[lower ..< min(300, lower + batchSize)], inputs: x.baseAddress!,
                             targets: x.baseAddress!, learningRate: 0.01)
            }
        }
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
        let net = network()
        var order = Array(0..<300)
        var generator = SplitMix64(seed: 11)
        generator.shuffle(&order)
        let batch = Matrix(stacking: order.prefix(50).map { Array(inputs[$0 * 40 ..< ($0 + 1) * 40]) })
        try net.backward(batch, targets: batch)
        net.step(learningRate: 0.01)
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
        let net = network()
        var order = Array(0..<300)
        var generator = SplitMix64(seed: 11)
        generator.shuffle(&order)
        let batch = Matrix(stacking: order.prefix(20).map { Array(inputs[$0 * 40 ..< ($0 + 1) * 40]) })
        try net.backward(batch, targets: batch)
        net.step(learningRate: 0.01)
        let difference = maxDifference(trained.parameters, net.parameters)
        #expect(difference < 1e-6, "max difference \(difference)")
        // And several steps, on any thread count, give the same bits.
        let reference = train(threads: 1, shardRows: 20, batchSize: 20).parameters
        #expect(train(threads: 3, shardRows: 20, batchSize: 20).parameters == reference)
    }
}
