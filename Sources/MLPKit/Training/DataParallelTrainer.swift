// Mini-batch gradient descent with each batch cut into shards that worker threads process in parallel.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Trains a network by mini-batch gradient descent with gradients summed over the batch (or averaged:
/// `lossReduction`), one step per batch.
///
/// Each batch is cut into shards of `shardRows` rows. The shard size depends only on the batch size and the
/// network, never on the thread count; every shard has its own preallocated workspace (and, when there are
/// several, its own gradient buffer), and shard gradients are added in shard order. A step runs as a
/// `StepPlan`: every phase (load, each layer's forward pass, the loss, each layer's dL/dx and dW, the update)
/// cut into fixed blocks across all the shards, which all `threads` workers share. So for a given seed the
/// trained weights are bit-identical whatever `threads` is, and nothing is allocated per step.
///
/// The update is part of the plan: with one shard each block of dW takes the rule (SGD, momentum, Adam, weight
/// decay) as soon as it is formed, without a gradient buffer; with several, each block of parameters takes it
/// as soon as every shard's part of it is summed.
package final class DataParallelTrainer {
    /// The network being trained (its parameters are updated in place).
    package let network: MLP
    /// Samples per step.
    package let batchSize: Int
    /// Worker threads that share each step.
    package let threads: Int
    /// Rows per shard (the last shard of a short batch may have fewer).
    package var shardRows: Int { runner.shardRows }
    /// Shards per full batch.
    package var shardCount: Int { runner.shardCount }
    /// The update rule's state; nil for plain SGD, which steps in place and may keep a sparse first layer.
    let optimizer: OptimizerState?
    /// Other processes computing the other shards of each batch (MPI ranks); nil: this process computes all.
    package var exchange: (any ShardExchange)?
    /// Whether a step descends its batch's summed loss or its mean.
    package var lossReduction: LossReduction = .sum
    /// The key of the dropout masks of the steps to come (`Dropout.key`: the seed and the epoch).
    package var dropoutKey: UInt64 = 0
    /// The largest global norm of a step's gradient: a larger one is scaled down to it before the update (nil:
    /// no clipping).
    package var clipNorm: Float?
    private let runner: StepRunner
    /// The current step's sample indices.
    private let batchIndices: UnsafeMutablePointer<Int>

    /// A trainer for `network` with batches of `batchSize` samples on `threads` worker threads. `shardRows`
    /// overrides the automatic shard size (it must not be derived from `threads` if results are to repeat).
    ///
    /// `inputBackground` c, when most inputs equal c (MNIST's background), trains the first layer on the
    /// inputs that differ from c only (`SparseFirstLayer`): the same gradient descent up to float rounding,
    /// with a fraction of the first layer's work. The layer writes the network's first-layer weights back
    /// whenever the network is read. `optimizer` (nil: plain SGD) selects the rule.
    package init(network: MLP, batchSize: Int, threads: Int, shardRows: Int? = nil, inputBackground: Float? = nil,
                 optimizer: OptimizerState? = nil) {
        precondition(batchSize > 0 && threads > 0 && (shardRows ?? 1) > 0)
        precondition(optimizer == nil || inputBackground == nil, "the sparse first layer is SGD-only")
        precondition(inputBackground == nil || network.layers[0].dropout == 0, "the sparse first layer takes all inputs")
        self.network = network
        self.optimizer = optimizer
        self.batchSize = batchSize
        self.threads = threads
        let rows = min(batchSize, shardRows ?? Self.shardRows(batchSize: batchSize, parameters: network.parameterCount))
        runner = StepRunner(network: network, shardRows: rows, shardCount: (batchSize + rows - 1) / rows,
                            sparse: inputBackground.map { SparseFirstLayer(network: network, background: $0) })
        batchIndices = .allocate(capacity: batchSize)
    }

    deinit { batchIndices.deallocate() }

    /// The sparse first layer, when the inputs have a background value.
    var sparse: SparseFirstLayer? { runner.sparse }

    /// Whether the threads share the steps only while that measures faster (`WorkerChooser`); tests turn it off to
    /// see every step shared.
    package var choosesWorkers = true
    /// Whether the steps run shared or on one thread, from measured times.
    let chooser = WorkerChooser()

    /// The most workers that share a step (the processors); tests raise it to see more workers give the same bits.
    package var workerLimit: Int {
        get { runner.workerLimit }
        set { runner.workerLimit = newValue }
    }

    /// The order in which workers take a task's blocks (tests change it to see the bits do not change).
    var blockOrder: StepRunner.BlockOrder {
        get { runner.blockOrder }
        set { runner.blockOrder = newValue }
    }

    /// Shards of fewer rows form dL/dx from parts (tests change it to see the bits do not change); set it before
    /// the first step.
    var partsBelowRows: Int {
        get { runner.partsBelowRows }
        set { runner.partsBelowRows = newValue }
    }

    /// Whether the first layer is trained on the non-background inputs only (see `init`).
    package var hasSparseFirstLayer: Bool { sparse != nil }

    /// Call at the start of every epoch: a sparse first layer starts afresh from the trained W.
    package func restartSparseFirstLayer() { sparse?.restart() }

    /// Rows per shard: at least 16, and half the batch up to 128 rows (so batches of 32 or more split in two at
    /// least, and large ones into 128-row shards). Each shard streams all the weights (4.5 MB for the
    /// autoencoder) from L3 twice and writes a gradient buffer as large, and at these sizes the kernels are
    /// limited by that traffic, so fewer, larger shards train faster: on the autoencoder (2 shared cores),
    /// batch 16 in one shard (which steps in place, see `step`) beat two shards of 8 even on 2 threads, and
    /// batch 256 in shards of 128 beat 64 and 32. Depends on the batch size only (`parameters` is kept so
    /// the rule can grow a network term), never on the thread count.
    package static func shardRows(batchSize: Int, parameters: Int) -> Int {
        min(batchSize, max(16, min(128, (batchSize + 1) / 2)))
    }

    /// Processors online.
    static let processors = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))

    /// One step on the samples `indices` (at most `batchSize`) of `inputs` (rows of inputSize) against the same
    /// rows of `targets` (rows of outputSize): the parameters move by the rule for Σ gradients at `learningRate`.
    /// Returns the summed loss.
    @discardableResult
    package func step(indices: ArraySlice<Int>, inputs: UnsafePointer<Float>, targets: UnsafePointer<Float>,
                      learningRate: Float) -> Double {
        var loss = 0.0
        steps(1, rows: indices.count, batch: { _ in indices }, inputs: inputs, targets: targets,
              learningRate: learningRate) { _, stepLoss in
            loss = stepLoss
            return true
        }
        return loss
    }

    /// Up to `count` steps of `rows` samples each, the threads staying for all of them (one fan-out): step k trains
    /// on the samples `batch(k)`. After each step, `after(k, loss)` is called on the calling thread with the step's
    /// summed loss, the network up to date and no block running, and returns whether to go on. Returns the steps
    /// taken.
    /// The threads share the steps only while that measures faster than one thread (`WorkerChooser`): the bits
    /// are the same either way.
    @discardableResult
    package func steps(_ count: Int, rows: Int, batch: (Int) -> ArraySlice<Int>, inputs: UnsafePointer<Float>,
                       targets: UnsafePointer<Float>, learningRate: Float,
                       after: (Int, Double) -> Bool) -> Int {
        steps(count, rows: rows, batch: batch, inputs: RowReader(floats: inputs, width: network.inputSize),
              targets: RowReader(floats: targets, width: network.outputSize), learningRate: learningRate, after: after)
    }

    /// `steps` on rows read through `inputs` and `targets` (floats, or bytes and half floats decoded as each batch's
    /// rows are copied in).
    @discardableResult
    package func steps(_ count: Int, rows: Int, batch: (Int) -> ArraySlice<Int>, inputs: RowReader,
                       targets: RowReader, learningRate: Float,
                       after: (Int, Double) -> Bool) -> Int {
        guard choosesWorkers, exchange == nil, min(threads, workerLimit) > 1 else {
            return steps(count, rows: rows, batch: batch, inputs: inputs, targets: targets,
                         learningRate: learningRate, workers: threads, after: after)
        }
        // Runs of steps, shared or not as the chooser says, each until it wants to switch or probe.
        var taken = 0, going = true
        while taken < count && going {
            let offset = taken
            var clock = Stopwatch()
            taken += steps(count - taken, rows: rows, batch: { batch(offset + $0) }, inputs: inputs,
                           targets: targets, learningRate: learningRate,
                           workers: chooser.shared ? threads : 1) { k, loss in
                let same = chooser.record(seconds: clock.seconds)
                going = after(offset + k, loss)
                clock = Stopwatch()
                return going && same
            }
        }
        return taken
    }

    /// `steps` full-batch steps of the plan that workers share, run on one thread with every block timed
    /// (`batch(i)` gives step i's indices), and the profile they make (`StepProfile`).
    package func profile(steps count: Int, batch: (Int) -> ArraySlice<Int>, inputs: UnsafePointer<Float>,
                         targets: UnsafePointer<Float>, learningRate: Float) -> StepProfile {
        let plan = runner.plan(rows: batchSize, network: network, update: optimizer == nil ? .descend : .rule,
                               exchange: exchange, clipped: clipNorm != nil, shared: true)
        let seconds = UnsafeMutablePointer<Double>.allocate(capacity: plan.blockCount)
        seconds.initialize(repeating: 0, count: plan.blockCount)
        defer { seconds.deallocate() }
        runner.blockSeconds = seconds
        defer { runner.blockSeconds = nil }
        let clock = Stopwatch()
        steps(count, rows: batchSize, batch: batch, inputs: RowReader(floats: inputs, width: network.inputSize),
              targets: RowReader(floats: targets, width: network.outputSize), learningRate: learningRate,
              workers: 1, shared: true) { _, _ in true }
        return StepProfile(plan: plan, blockSeconds: seconds, steps: count, totalSeconds: clock.seconds)
    }

    /// `shared`: the plan that workers share even on one worker (nil: when more than one runs).
    @discardableResult
    private func steps(_ count: Int, rows: Int, batch: (Int) -> ArraySlice<Int>, inputs: RowReader,
                       targets: RowReader, learningRate: Float, workers: Int, shared: Bool? = nil,
                       after: (Int, Double) -> Bool) -> Int {
        precondition(rows <= batchSize && rows > 0)
        let plan = runner.plan(rows: rows, network: network, update: optimizer == nil ? .descend : .rule,
                               exchange: exchange, clipped: clipNorm != nil,
                               shared: shared ?? (min(workers, workerLimit) > 1))
        let sparse = sparse
        sparse?.changed = true
        return runner.run(plan, steps: count, workers: workers, exchange: exchange, prepare: { k in
            // The batch's indices, copied where the blocks can read them for the whole step.
            let indices = batch(k)
            precondition(indices.count == rows, "every step of a run has \(rows) samples")
            for (slot, index) in indices.enumerated() { batchIndices[slot] = index }
            let rule: UpdateRule
            if let optimizer {
                optimizer.beginStep()
                rule = optimizer.rule(learningRate: learningRate)
            } else {
                rule = .sgd(learningRate)
            }
            return StepRunner.Step(network: network, indices: batchIndices, inputs: inputs, targets: targets,
                                   learningRate: learningRate, rule: rule, gradient: nil,
                                   gradientScale: lossReduction.gradientScale(rows: rows), dropoutKey: dropoutKey,
                                   clipNorm: clipNorm ?? .infinity)
        }, finished: { k, loss in
            // The step moved the sparse layer's V: the network's W is stale until it is next read.
            sparse?.changed = true
            return after(k, loss)
        })
    }
}
