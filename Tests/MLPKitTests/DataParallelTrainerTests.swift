// The data-parallel trainer: summed batch gradients, and weights that do not depend on the thread count.
import Foundation
import Testing
@testable import MLPKit
import TestSupport

@Suite struct DataParallelTrainerTests {
    /// The networks the trainer is tested on; their first layers' widths are not multiples of 8, so the sparse
    /// first layer's vector tails run.
    enum Shape: CaseIterable, CustomStringConvertible {
        /// 300 → 110 → 2 → 110 → 300: 66,962 parameters; its wide layers are cut into several blocks (see
        /// `theWideNetworksLayersAreSharedInSeveralBlocks`), the sparse first layer's step into 96 and 14 outputs.
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

        /// Leaky ReLU inside, logistic at the end (the inputs are their own targets, in [0, 1]); `dropout` on
        /// every layer's inputs.
        func network(seed: UInt64 = 9, dropout: Float = 0) -> MLP {
            let net = MLP(inputSize: widths[0], loss: .squared, seed: seed)
            for (l, width) in widths.dropFirst().enumerated() {
                if dropout > 0 { net.addDropout(dropout) }
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
               background: Float? = nil, network: MLP? = nil, optimizer: Optimizer = .sgd, weightDecay: Float = 0,
               blockOrder: StepRunner.BlockOrder = .ownFirst, partsBelowRows: Int = StepPlan.partsBelowRows,
               clipNorm: Float? = nil, dropoutKey: UInt64 = 0) -> MLP {
        let net = network ?? shape.network()
        let state = optimizer == .sgd && weightDecay == 0 ? nil
            : OptimizerState(optimizer: optimizer, weightDecay: weightDecay, parameters: net.parameterCount)
        let trainer = DataParallelTrainer(network: net, batchSize: batchSize, threads: threads, shardRows: shardRows,
                                          inputBackground: background, optimizer: state)
        // As many workers as asked, past the processors: those beyond run after the others, taking what is left;
        // every step shared, whatever the measured times.
        trainer.workerLimit = threads
        trainer.choosesWorkers = false
        trainer.blockOrder = blockOrder
        trainer.partsBelowRows = partsBelowRows
        trainer.clipNorm = clipNorm
        trainer.dropoutKey = dropoutKey
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

    @Test(arguments: Shape.allCases)
    func aStepReturnsItsBatchsSummedLoss(shape: Shape) throws {
        // Seven shards (the last short) on 2 threads: the loss is every shard's, added up.
        let data = smooth(shape), k = shape.inputs
        let net = shape.network()
        let batch = Matrix(stacking: visitingOrder().prefix(50).map { Array(data[$0 * k ..< ($0 + 1) * k]) })
        let expected = try net.loss(batch, targets: batch)
        let trainer = DataParallelTrainer(network: net, batchSize: 50, threads: 2, shardRows: 8)
        let loss = data.withUnsafeBufferPointer { x in
            trainer.step(indices: visitingOrder()[0..<50], inputs: x.baseAddress!, targets: x.baseAddress!,
                         learningRate: 0.01)
        }
        #expect(abs(loss - Double(expected)) <= 1e-5 * Double(expected), "\(loss) against \(expected)")
    }

    @Test func shardSizeDependsOnTheBatchAndNetworkOnly() {
        let net = autoencoderNetwork(seed: 0)
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

    /// The update rules the plan fuses: SGD (in place, or with a sparse first layer), momentum, Nesterov with
    /// weight decay, Adam, SGD with weight decay.
    static let rules: [(Optimizer, Float, Float?)] = [
        (.sgd, 0, nil), (.sgd, 0, 1), (.momentum(0.9, nesterov: false), 0, nil),
        (.momentum(0.9, nesterov: true), 0.01, nil), (.defaultAdam, 0, nil), (.sgd, 0.01, nil),
    ]

    @Test(arguments: Shape.allCases, 0..<rules.count)
    func everyRuleGivesTheSameBitsOnAnyThreadCount(shape: Shape, rule: Int) {
        // Batch 16 is one shard (the update fused into dW), 22 a shard of 16 and one of 6 (rows left for the
        // one-sample kernels), 48 three shards of 16 (the update summing them); on 1, 2, 3, 8 and 16 workers.
        let (optimizer, decay, background) = Self.rules[rule]
        let data = background.map { imageLike(shape, background: $0) } ?? smooth(shape)
        for (batch, shardRows) in [(16, Int?.none), (22, 16), (48, 16)] {
            let reference = train(shape, data: data, threads: 1, shardRows: shardRows, batchSize: batch,
                                  background: background, optimizer: optimizer, weightDecay: decay).parameters
            #expect(maxDifference(reference, shape.network().parameters) > 1e-4, "the steps must move the weights")
            for threads in [2, 3, 8, 16] {
                let trained = train(shape, data: data, threads: threads, shardRows: shardRows, batchSize: batch,
                                    background: background, optimizer: optimizer, weightDecay: decay).parameters
                #expect(firstMismatch(trained, reference) == nil, "\(optimizer), batch \(batch), \(threads) threads")
            }
        }
    }

    @Test(arguments: [StepRunner.BlockOrder.reversed, .shuffled(seed: 1), .shuffled(seed: 2)])
    func blocksTakenInAnyOrderGiveTheSameBits(order: StepRunner.BlockOrder) {
        // Each worker walks every task's blocks backwards or in a random order, so blocks land on other workers
        // than their owners, in other orders.
        for (optimizer, background) in [(Optimizer.sgd, Float?(1)), (.sgd, nil), (.defaultAdam, nil)] {
            let shape = Shape.wide
            let data = background.map { imageLike(shape, background: $0) } ?? smooth(shape)
            for (batch, shardRows) in [(16, Int?.none), (48, 16)] {
                let reference = train(shape, data: data, threads: 1, shardRows: shardRows, batchSize: batch,
                                      background: background, optimizer: optimizer).parameters
                for threads in [1, 2, 3] {
                    let trained = train(shape, data: data, threads: threads, shardRows: shardRows, batchSize: batch,
                                        background: background, optimizer: optimizer, blockOrder: order).parameters
                    #expect(firstMismatch(trained, reference) == nil, "\(optimizer) \(batch) on \(threads), \(order)")
                }
            }
        }
    }

    @Test(arguments: [Optimizer.sgd, .defaultAdam])
    func dropoutAndClippingGiveTheSameBitsOnAnyWorkersInAnyOrder(optimizer: Optimizer) {
        // Dropout (0.2) on every layer's inputs and a norm bound the gradient passes: one shard, a shard and a
        // short one, three shards; 1, 2, 3 and 8 workers, taking blocks in their own order or a shuffled one.
        let shape = Shape.wide, data = smooth(shape), network = { shape.network(dropout: 0.2) }
        for (batch, shardRows) in [(16, Int?.none), (22, 16), (48, 16)] {
            let reference = train(shape, data: data, threads: 1, shardRows: shardRows, batchSize: batch,
                                  network: network(), optimizer: optimizer, clipNorm: 0.05, dropoutKey: 5).parameters
            let unclipped = train(shape, data: data, threads: 1, shardRows: shardRows, batchSize: batch,
                                  network: network(), optimizer: optimizer, dropoutKey: 5).parameters
            #expect(maxDifference(reference, unclipped) > 1e-5, "the bound must be reached")
            let otherMasks = train(shape, data: data, threads: 1, shardRows: shardRows, batchSize: batch,
                                   network: network(), optimizer: optimizer, clipNorm: 0.05, dropoutKey: 6).parameters
            #expect(maxDifference(reference, otherMasks) > 1e-5, "another key drops other units")
            for threads in [2, 3, 8] {
                for order in [StepRunner.BlockOrder.ownFirst, .shuffled(seed: UInt64(threads))] {
                    let trained = train(shape, data: data, threads: threads, shardRows: shardRows, batchSize: batch,
                                        network: network(), optimizer: optimizer, blockOrder: order,
                                        clipNorm: 0.05, dropoutKey: 5).parameters
                    #expect(firstMismatch(trained, reference) == nil, "batch \(batch), \(threads) threads, \(order)")
                }
            }
        }
    }

    @Test(arguments: [Optimizer.defaultAdam, .momentum(0.9, nesterov: true)])
    func aFusedUpdateIsTheRuleOnTheWholeGradient(optimizer: Optimizer) throws {
        // One shard of 20 rows: each block of dW takes the rule in a worker's scratch, no gradient buffer written.
        // The reference: `backward` over the batch, then the rule over the whole summed gradient.
        let shape = Shape.wide, data = smooth(shape), k = shape.inputs
        let trained = train(shape, data: data, threads: 2, shardRows: 20, batchSize: 20, steps: 1,
                            optimizer: optimizer, weightDecay: 0.01)
        let net = shape.network()
        let batch = Matrix(stacking: visitingOrder().prefix(20).map { Array(data[$0 * k ..< ($0 + 1) * k]) })
        try net.backward(batch, targets: batch)
        let state = OptimizerState(optimizer: optimizer, weightDecay: 0.01, parameters: net.parameterCount)
        state.beginStep()
        let parameters = FloatBuffer(net.parameters)
        net.gradients.withUnsafeBufferPointer { g in
            applyUpdate(state.rule(learningRate: 0.01), parameters.pointer, range: 0..<net.parameterCount,
                        gradient: g.baseAddress!)
        }
        #expect(firstMismatch(trained.parameters, parameters.array) == nil)
        #expect(maxDifference(parameters.array, net.parameters) > 1e-3, "the step must move the weights")
    }

    @Test(arguments: [Float?.none, 1])
    func dLdxFromPartsHasTheBitsOfTheOneKernel(background: Float?) {
        // Shards of 16 rows form dL/dx as parts per tile of W's rows, summed in order; forming it in one kernel
        // instead must give the same bits (the wide network's 300 outputs are 7 tiles).
        let shape = Shape.wide, data = background.map { imageLike(shape, background: $0) } ?? smooth(shape)
        for (batch, shardRows) in [(16, Int?.none), (22, 16)] {
            let parts = train(shape, data: data, threads: 2, shardRows: shardRows, batchSize: batch,
                              background: background).parameters
            let whole = train(shape, data: data, threads: 2, shardRows: shardRows, batchSize: batch,
                              background: background, partsBelowRows: 0).parameters
            #expect(firstMismatch(parts, whole) == nil, "batch \(batch)")
        }
    }

    @Test func sharingIsKeptOnlyWhileItIsFaster() {
        // Each probe runs shared steps, then steps on one thread (at least 2 each and 5 ms, at most 8), keeps the
        // faster way (by its median step) for a period of seconds, which doubles on a clear win (a quarter or more).
        let chooser = WorkerChooser()
        /// How steps run until `seconds` of them have passed, shared steps taking `shared` seconds, others `solo`.
        func run(seconds: Double, shared: Double, solo: Double) -> [Bool] {
            var ways: [Bool] = [], total = 0.0
            while total < seconds {
                let sharing = chooser.shared, step = sharing ? shared : solo
                ways.append(sharing)
                total += step
                if chooser.record(seconds: step) { #expect(chooser.shared == sharing, "the way holds until it says") }
            }
            return ways
        }
        // Slow shared steps of 1 ms: 5 shared (5 ms), then 8 on one thread (0.5 ms each; 10 would make 5 ms, but
        // a probe stops at 8), then one thread for the period of 1 s.
        let slowSharing = run(seconds: 0.8, shared: 1e-3, solo: 5e-4)
        #expect(slowSharing.prefix(13) == ArraySlice([Bool](repeating: true, count: 5) + [Bool](repeating: false, count: 8)))
        #expect(slowSharing.dropFirst(13).allSatisfy { !$0 })
        #expect(chooser.period == WorkerChooser.shortest && chooser.probes == 1 && chooser.sharedWins == 0)
        // Long steps: probes of 2 steps each way; fast shared steps win clearly, and the period doubles.
        let fastSharing = run(seconds: 6, shared: 0.02, solo: 0.04)
        #expect(chooser.probes >= 2 && chooser.sharedWins >= 1)
        #expect(chooser.period >= 2 * WorkerChooser.shortest, "a clear win doubles the period")
        #expect(fastSharing.suffix(fastSharing.count / 2).filter { $0 }.count >= fastSharing.count / 2 - 6)
    }

    @Test func theWideNetworksLayersAreSharedInSeveralBlocks() {
        // So that the tests above share layers among workers: the plan at batch 16 cuts 300 → 110 into three
        // blocks of outputs and 110 → 300 into seven, forward and for dW, and 110 → 300's dL/dx into three.
        let net = Shape.wide.network()
        let plan = StepPlan(layers: net.layers, inputSize: net.inputSize, rows: [16], computed: 0..<1, sparse: false,
                            update: .descend, exchanged: false)
        func blocks(_ kind: StepPlan.Kind, layer: Int) -> Int? {
            plan.tasks.first { $0.kind == kind && $0.layer == layer }?.blocks
        }
        #expect(blocks(.forward, layer: 0) == 3)
        #expect(blocks(.forward, layer: 3) == 7)
        #expect(blocks(.weights, layer: 3) == 7)
        #expect(blocks(.input, layer: 3) == 3 || blocks(.inputSum, layer: 3) == 3)
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
