// The data-parallel trainer: summed batch gradients, and weights that do not depend on the thread count.
import Foundation
import Testing
@testable import MLPData
@testable import MLPImaging
@testable import MLPJobs
@testable import MLPKit

@Suite struct DataParallelTrainerTests {
    /// The networks the trainer is tested on; their first layers' widths are not multiples of 8, so the sparse
    /// first layer's vector tails run.
    enum Shape: CaseIterable, CustomStringConvertible {
        /// 300 → 110 → 2 → 110 → 300: 66,962 parameters, over `parallelReductionMinimum`, so the reduction runs
        /// on several workers (5 blocks, 3 with a sparse first layer, plus 2 output blocks of 96 and 14).
        case wide
        /// 30 → 37 → 12 → 30: the first hidden layer is the widest (its δ fills its buffer exactly).
        case firstLayerWidest
        /// 40 → 20 → 2 → 20 → 40: a first layer narrower than one 8-float vector plus a tail.
        case narrow

        var widths: [Int] {
            switch self {
            case .wide: [300, 110, 2, 110, 300]
            case .firstLayerWidest: [30, 37, 12, 30]
            case .narrow: [40, 20, 2, 20, 40]
            }
        }

        var inputs: Int { widths[0] }

        var description: String { widths.map(String.init).joined(separator: "-") }

        /// Leaky ReLU inside, logistic at the end (the inputs are their own targets, in [0, 1]).
        func network(seed: UInt64 = 9) -> MLP {
            let net = MLP(inputSize: widths[0], loss: .squared, seed: seed)
            for (l, width) in widths.dropFirst().enumerated() {
                let last = l == widths.count - 2
                net.addLayer(width, activation: last || width == 2 ? .logistic : .leakyReLU)
            }
            return net
        }
    }

    static let samples = 300

    /// `samples` inputs in [0, 1] for `shape`.
    func smooth(_ shape: Shape) -> [Float] {
        randomValues(Self.samples * shape.inputs, seed: 10).map { 1 / (1 + expf(-$0)) }
    }

    /// `samples` inputs for `shape` where about 80% of the values are `background` (the rest uniform in [0, 1]).
    func imageLike(_ shape: Shape, background: Float) -> [Float] {
        var generator = SplitMix64(seed: 12)
        return (0..<(Self.samples * shape.inputs)).map { _ in
            generator.nextUniform() < 0.8 ? background : Float(generator.nextUniform())
        }
    }

    /// The order in which `train` visits the samples.
    func visitingOrder() -> [Int] {
        var order = Array(0..<Self.samples)
        var generator = SplitMix64(seed: 11)
        generator.shuffle(&order)
        return order
    }

    /// The reference for one trainer step: `backward` over the first `rows` samples `train` visits, then `step`.
    func backwardAndStep(_ shape: Shape, data: [Float], firstRows rows: Int) throws -> MLP {
        let net = shape.network(), k = shape.inputs
        let batch = Matrix(stacking: visitingOrder().prefix(rows).map { Array(data[$0 * k ..< ($0 + 1) * k]) })
        try net.backward(batch, targets: batch)
        net.step(learningRate: 0.01)
        return net
    }

    /// `steps` trainer steps on `data` (inputs are their own targets), with a sparse first layer when
    /// `background` is given.
    func train(_ shape: Shape, data: [Float], threads: Int, shardRows: Int?, batchSize: Int = 50, steps: Int = 6,
               background: Float? = nil, network: MLP? = nil, sharingWorkers: Int? = nil) -> MLP {
        let net = network ?? shape.network()
        let trainer = DataParallelTrainer(network: net, batchSize: batchSize, threads: threads, shardRows: shardRows,
                                          inputBackground: background)
        if let sharingWorkers { trainer.sharingWorkers = sharingWorkers }
        let order = visitingOrder()
        data.withUnsafeBufferPointer { x in
            for s in 0..<steps {
                let lower = s * batchSize
                trainer.step(indices: order[lower ..< min(Self.samples, lower + batchSize)], inputs: x.baseAddress!,
                             targets: x.baseAddress!, learningRate: 0.01)
            }
        }
        return net
    }

    @Test func theWideNetworkReducesOnSeveralWorkers() {
        #expect(Shape.wide.network().parameterCount >= DataParallelTrainer.parallelReductionMinimum)
    }

    @Test(arguments: Shape.allCases)
    func weightsAreBitIdenticalForAnyThreadCount(shape: Shape) {
        // 7 shards of up to 8 rows per batch of 50, so every step runs the reduction.
        let data = smooth(shape)
        let reference = train(shape, data: data, threads: 1, shardRows: 8).parameters
        #expect(maxDifference(reference, shape.network().parameters) > 1e-3, "the steps must move the weights")
        for threads in [2, 3, 8] {
            let trained = train(shape, data: data, threads: threads, shardRows: 8).parameters
            #expect(firstMismatch(trained, reference) == nil, "threads \(threads)")
        }
    }

    @Test(arguments: Shape.allCases)
    func aStepIsTheSummedBatchGradientStep(shape: Shape) throws {
        // One trainer step with 7 shards (the last short) against backward over the batch + step.
        let data = smooth(shape)
        let trained = train(shape, data: data, threads: 2, shardRows: 8, batchSize: 50, steps: 1)
        let net = try backwardAndStep(shape, data: data, firstRows: 50)
        // The shards' partial sums are added in another order than one 50-row kernel call: allow float rounding,
        // far below what one step moves.
        let difference = maxDifference(trained.parameters, net.parameters)
        #expect(difference < 1e-5, "max difference \(difference)")
        #expect(maxDifference(net.parameters, shape.network().parameters) > 1e-3, "the step must move the weights")
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

    @Test(arguments: Shape.allCases)
    func aSingleShardStepsInPlaceLikeBackwardAndStep(shape: Shape) throws {
        // One shard of 20 rows: the step is taken inside backpropagation, with no gradient buffer.
        let data = smooth(shape)
        let trained = train(shape, data: data, threads: 2, shardRows: 20, batchSize: 20, steps: 1)
        let net = try backwardAndStep(shape, data: data, firstRows: 20)
        let difference = maxDifference(trained.parameters, net.parameters)
        #expect(difference < 1e-6, "max difference \(difference)")
        // And several steps, on any thread count, give the same bits.
        let reference = train(shape, data: data, threads: 1, shardRows: 20, batchSize: 20).parameters
        #expect(firstMismatch(train(shape, data: data, threads: 3, shardRows: 20, batchSize: 20).parameters,
                              reference) == nil)
    }

    @Test(arguments: Shape.allCases, [Float(1), 0])
    func aSparseFirstLayerTrainsLikeTheDenseOne(shape: Shape, background: Float) {
        // One in-place shard (batch 20) and seven shards (batch 50, the last short), on 2 threads.
        let data = imageLike(shape, background: background)
        let initial = shape.network().parameters
        for (shardRows, batchSize) in [(20, 20), (8, 50)] {
            let dense = train(shape, data: data, threads: 2, shardRows: shardRows, batchSize: batchSize).parameters
            let sparse = train(shape, data: data, threads: 2, shardRows: shardRows, batchSize: batchSize,
                               background: background).parameters
            // W is held as V + u·1ᵀ while training, so the rounding differs; the steps themselves move the
            // weights by ~1e-2, four orders of magnitude more than the tolerance.
            let difference = maxDifference(dense, sparse)
            #expect(difference < 2e-6, "shards of \(shardRows): max difference \(difference)")
            #expect(maxDifference(dense, initial) > 1e-2, "the steps must move the weights")
        }
    }

    @Test(arguments: Shape.allCases, [Float?.none, 1])
    func threadsInsideAShardGiveTheSameBits(shape: Shape, background: Float?) {
        // Batch 16 is one shard, whose step the threads share in fixed blocks (as many threads as there are
        // processors); batch 22 is a shard of 16 and one of 6 (rows left for the one-sample kernels); batch 64
        // is two shards of 32.
        let data = background.map { imageLike(shape, background: $0) } ?? smooth(shape)
        // More sharing threads than processors here too (spinning, but the bits are what is checked), and enough
        // steps that `SharingChooser` takes both ways.
        for (batch, shardRows) in [(16, Int?.none), (22, nil), (64, 32)] {
            let steps = min(2 * SharingChooser.probe + 2, Self.samples / batch)
            let reference = train(shape, data: data, threads: 1, shardRows: shardRows, batchSize: batch, steps: steps,
                                  background: background).parameters
            for threads in [2, 3, 8, 16] {
                let trained = train(shape, data: data, threads: threads, shardRows: shardRows, batchSize: batch,
                                    steps: steps, background: background, sharingWorkers: threads).parameters
                #expect(firstMismatch(trained, reference) == nil, "batch \(batch), \(threads) threads")
            }
        }
    }

    @Test func sharingIsKeptOnlyWhileItIsFaster() {
        // Probes of 8 steps each way open every period of 256; the faster way (by its median step) is kept.
        let chooser = SharingChooser()
        func period(shared: Double, solo: Double) -> [Bool] {
            (0..<SharingChooser.period).map { _ in
                let sharing = chooser.begin()
                chooser.record(sharing ? shared : solo)
                return sharing
            }
        }
        let slowSharing = period(shared: 2, solo: 1)
        #expect(slowSharing.prefix(16) == ArraySlice([Bool](repeating: true, count: 8) + [Bool](repeating: false, count: 8)))
        #expect(slowSharing.dropFirst(16).allSatisfy { !$0 })
        #expect(period(shared: 1, solo: 2).dropFirst(16).allSatisfy { $0 })
        #expect(chooser.periods == 2 && chooser.sharedPeriods == 1)
    }

    @Test func theWideNetworksLayersAreSharedInSeveralBlocks() {
        // So that the test above runs the shared path (`SharedPass`): 300 → 110 at batch 16 is three blocks of
        // outputs and seven of inputs, with enough work to share.
        #expect((110 + LayerBlocks.size - 1) / LayerBlocks.size == 3)
        #expect((300 + LayerBlocks.size - 1) / LayerBlocks.size == 7)
        #expect(16 * 300 * 110 >= LayerBlocks.minimumWork)
    }

    @Test(arguments: Shape.allCases)
    func sparseWeightsAreBitIdenticalForAnyThreadCount(shape: Shape) {
        let data = imageLike(shape, background: 1)
        let reference = train(shape, data: data, threads: 1, shardRows: 8, background: 1).parameters
        for threads in [2, 3, 8] {
            let trained = train(shape, data: data, threads: threads, shardRows: 8, background: 1).parameters
            #expect(firstMismatch(trained, reference) == nil, "threads \(threads)")
        }
    }

    @Test(arguments: [20, 37])
    func aSparseSingleLayerNetworkTrainsLikeTheDenseOne(width: Int) {
        // The first layer is also the output layer: its dL/dz comes straight from the loss.
        func oneLayer() -> MLP {
            let net = MLP(inputSize: 40, loss: .squared, seed: 13)
            net.addLayer(width, activation: .logistic)
            return net
        }
        let data = imageLike(.narrow, background: 0)
        let targets = (0..<Self.samples).flatMap { s in data[s * 40 ..< s * 40 + width] }
        for (shardRows, batchSize) in [(20, 20), (8, 50)] {
            func run(background: Float?) -> [Float] {
                let net = oneLayer()
                let trainer = DataParallelTrainer(network: net, batchSize: batchSize, threads: 2,
                                                  shardRows: shardRows, inputBackground: background)
                let order = visitingOrder()
                data.withUnsafeBufferPointer { x in
                    targets.withUnsafeBufferPointer { y in
                        for s in 0..<6 {
                            trainer.step(indices: order[s * batchSize ..< (s + 1) * batchSize], inputs: x.baseAddress!,
                                         targets: y.baseAddress!, learningRate: 0.01)
                        }
                    }
                }
                return net.parameters
            }
            let dense = run(background: nil), sparse = run(background: 0)
            let difference = maxDifference(dense, sparse)
            #expect(difference < 2e-6, "shards of \(shardRows): max difference \(difference)")
            #expect(maxDifference(dense, oneLayer().parameters) > 1e-2, "the steps must move the weights")
        }
    }
}
