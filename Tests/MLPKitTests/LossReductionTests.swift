// The mean loss: 1/batch of the sum's gradient, whatever the shards, the threads or the batch's length.
import Testing
@testable import MLPKit
import TestSupport

@Suite struct LossReductionTests {
    typealias Shape = DataParallelTrainerTests.Shape

    /// The wide test network after an epoch of 256 smooth samples in batches of `batch`.
    func train(batch: Int, reduction: LossReduction, learningRate: Float, optimizer: Optimizer = .sgd,
               threads: Int = 1) throws -> [Float] {
        let shape = Shape.wide, net = shape.network()
        var options = TrainingOptions(learningRate: learningRate, batchSize: batch, lossReduction: reduction,
                                      optimizer: optimizer, threads: threads)
        options.seed = 4
        let data = Array(DataParallelTrainerTests().smooth(shape).prefix(256 * shape.inputs))
        try Trainer(network: net, options: options).fit(TrainingSet(inputs: data, inputSize: shape.inputs, targets: .inputs))
        return net.parameters
    }

    @Test(arguments: [16, 64])
    func theMeanAtEtaIsTheSumAtEtaOverTheBatchForSGD(batch: Int) throws {
        // Batches of a power of two: scaling by 1/batch is exact, so the two runs are the same bits (64 is two
        // shards, summed by the parallel reduction).
        let mean = try train(batch: batch, reduction: .mean, learningRate: 0.5)
        let sum = try train(batch: batch, reduction: .sum, learningRate: 0.5 / Float(batch))
        #expect(firstMismatch(mean, sum) == nil)
        #expect(maxDifference(mean, try train(batch: batch, reduction: .sum, learningRate: 0.5)) > 1e-4,
                "the reduction changes the steps")
    }

    @Test func theMeanGivesTheSameBitsOnAnyThreadCount() throws {
        let one = try train(batch: 48, reduction: .mean, learningRate: 1e-3, optimizer: .defaultAdam)
        for threads in [2, 3] {
            let other = try train(batch: 48, reduction: .mean, learningRate: 1e-3, optimizer: .defaultAdam,
                                  threads: threads)
            #expect(firstMismatch(one, other) == nil, "threads \(threads)")
        }
    }

    @Test func anEpochsShorterLastBatchTakesItsOwnMean() throws {
        // 20 samples in batches of 16: the second step averages over its 4 samples, as backward over those rows
        // and a step of η/4 do.
        func network() -> MLP {
            let net = MLP(inputSize: 3, loss: .squared, seed: 2)
            net.addLayer(4, activation: .tanh)
            net.addLayer(1, activation: .identity)
            return net
        }
        let x = randomValues(60, seed: 5), y = randomValues(20, seed: 6)
        let trained = network()
        try Trainer(network: trained, options: TrainingOptions(learningRate: 0.5, batchSize: 16, lossReduction: .mean,
                                                               seed: 9))
            .fit(TrainingSet(inputs: x, inputSize: 3, targets: .values(y, size: 1)))
        var order = Array(0..<20)
        var generator = SplitMix64(seed: 9)
        generator.shuffle(&order)
        let reference = network()
        for batch in [order[0..<16], order[16..<20]] {
            let rows = Matrix(rows: batch.count, columns: 3, values: batch.flatMap { x[($0 * 3)..<($0 * 3 + 3)] })
            let targets = Matrix(rows: batch.count, columns: 1, values: batch.map { y[$0] })
            _ = try reference.backward(rows, targets: targets)
            reference.step(learningRate: 0.5 / Float(batch.count))
            reference.zeroGrad()
        }
        #expect(maxDifference(trained.parameters, reference.parameters) < 1e-6)
    }

    @Test func eachBatchIsScaledByItsOwnLength() {
        #expect(LossReduction.mean.gradientScale(rows: 16) == 0.0625)
        #expect(LossReduction.mean.gradientScale(rows: 4) == 0.25)   // an epoch's last, shorter batch
        #expect(LossReduction.mean.gradientScale(rows: 1) == 1 && LossReduction.sum.gradientScale(rows: 16) == 1)
    }

    @Test func onlyTheMeanIsASettingThatShapesTheWeights() {
        // Runs from before the choice existed summed their losses: their checkpoints resume as the sum.
        #expect(TrainingOptions(lossReduction: .sum).shapingValues["lossReduction"] == nil)
        #expect(TrainingOptions(lossReduction: .mean).shapingValues["lossReduction"] == "mean")
    }
}
