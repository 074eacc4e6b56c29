// The training loop every job uses: shuffle, schedule, step, and events for progress, evaluation and records.

/// Trains a network on a `TrainingSet`: each epoch shuffles the samples (seeded), takes the schedule's learning
/// rate, steps through them one sample or one mini-batch at a time, and reports what happens as events.
///
/// ```swift
/// let net = MLP(inputSize: 784, loss: .softmaxCrossEntropy)
/// net.addLayer(20, activation: .leakyReLU)
/// net.addLayer(10, activation: .softmax)
/// var options = TrainingOptions()
/// options.epochs = 5
/// options.optimizer = .defaultAdam
/// try Trainer(network: net, options: options).fit(train) { event in
///     if case .epoch(let report) = event { print(report.epoch, report.meanLoss) }
/// }
/// ```
///
/// The route a run takes follows from the options and the data (`plan(for:)`):
/// - per-sample SGD (batch 1, plain SGD): the update fused into backpropagation, and a sparse first layer when
///   one value fills most of the inputs;
/// - mini-batches (or any other optimizer): each batch cut into shards that `threads` workers process in
///   parallel, shard gradients added in a fixed order, so the weights do not depend on the thread count.
///
/// The network is up to date whenever it is read through its public API, also from inside an event.
public final class Trainer {
    /// The network being trained, in place.
    public let network: MLP
    /// The settings, checked when the trainer is made.
    public let options: TrainingOptions
    /// Other processes training the same network on the other shards of each batch (see `ShardExchange`); nil:
    /// this process trains alone. Mini-batches only.
    package var exchange: (any ShardExchange)?

    /// A trainer for `network`; throws when an option is out of range (the message names it).
    public init(network: MLP, options: TrainingOptions) throws {
        try options.validate()
        guard !network.layers.isEmpty else { throw MLPError("the network has no layers: call addLayer first") }
        guard network.pendingDropout == 0 else {
            throw MLPError("the network ends in a dropout: addDropout drops the inputs of the layer added after it")
        }
        self.network = network
        self.options = options
    }

    /// How a run on `data` is carried out. Dropout and clipping take mini-batch steps (of one sample at batch
    /// 1); the sparse first layer is plain SGD without clipping, on inputs without dropout.
    public func plan(for data: TrainingSet) -> TrainingPlan {
        let sparseFits = options.sparseFirstLayer && options.isPlainSGD && options.clipNorm == nil
            && network.layers[0].dropout == 0
        let background = sparseFits ? data.dominantBackground() : nil
        if options.batchSize == 1 && options.isPlainSGD && options.clipNorm == nil && !network.hasDropout {
            return TrainingPlan(perSample: true, sparseBackground: background, shardRows: 1, shardsPerBatch: 1)
        }
        let rows = DataParallelTrainer.shardRows(batchSize: options.batchSize, parameters: network.parameterCount)
        return TrainingPlan(perSample: false, sparseBackground: background, shardRows: rows,
                            shardsPerBatch: (options.batchSize + rows - 1) / rows)
    }

    /// Trains up to `options.epochs` epochs in all, calling `onEvent` with progress, every mini-batch step,
    /// every finished epoch and every point worth a checkpoint; an error thrown by `onEvent` stops training and is
    /// rethrown. Returns the reports of the epochs finished in this call.
    ///
    /// - `resumingFrom`: a state offered by an earlier run's `.checkpoint` event, with the network holding that
    ///   checkpoint's parameters: the run continues with the same bits as if it had never stopped, on any number
    ///   of threads.
    /// - `stop`: checked after every step; once it is requested, a `.checkpoint` is offered and
    ///   `TrainingInterrupted` thrown.
    /// - Throws `TrainingDiverged` as soon as a step's loss, or a parameter at an epoch's end or a checkpoint,
    ///   is NaN or infinite; no `.epoch` or `.checkpoint` event carries a non-finite network.
    @discardableResult
    public func fit(_ data: TrainingSet, resumingFrom start: TrainingState? = nil, stop: StopRequest? = nil,
                    onEvent: (TrainingEvent) throws -> Void = { _ in }) throws -> [EpochReport] {
        try data.check(against: network)
        guard data.count > 0 else { throw MLPError("the training set is empty") }
        if options.labelSmoothing != 0 {
            guard case .classes = data.targets, network.loss == .softmaxCrossEntropy else {
                throw MLPError(field: "labelSmoothing", "applies to class targets under the softmax cross-entropy "
                               + "loss; these data or this loss are not")
            }
        }
        let plan = plan(for: data)
        if let exchange {
            guard !plan.perSample else {
                throw MLPError(field: "batchSize", "must be above 1 to train across processes: per-sample SGD does not "
                               + "split (each sample's step needs the one before)")
            }
            exchange.broadcast(network.parameterBuffer.pointer, count: network.parameterCount)
        }
        var state = start ?? TrainingState(seed: options.seed)
        var (shuffler, order) = try replayShuffles(to: state, count: data.count)
        var reports: [EpochReport] = []
        try withoutActuallyEscaping(onEvent) { onEvent in
            let route: any TrainingRoute = plan.perSample
                ? PerSampleRoute(network: network, data: data, options: options, background: plan.sparseBackground)
                : MiniBatchRoute(network: network, data: data, options: options, background: plan.sparseBackground,
                                 exchange: exchange)
            try route.restore(state, batchSize: plan.perSample ? 1 : options.batchSize)
            let warmupSteps = options.warmup.steps(perEpoch: route.steps(in: data.count))
            while state.epoch <= options.epochs {
                let rate = options.schedule.rate(base: options.learningRate, epoch: state.epoch, of: options.epochs)
                if state.position == 0 {
                    options.shuffle.next(&order, &shuffler)
                    state.shuffleState = shuffler.state
                    route.beginEpoch()
                }
                let budget = options.checkpointEvery.map { $0 - state.steps % $0 } ?? Int.max
                // Warming up, one step at a time at its own rate; then the rest of the budget at the epoch's.
                var failure: String?, left = budget
                let warming = state.steps < warmupSteps
                while state.steps < warmupSteps, left > 0, state.position < order.count, failure == nil,
                      stop?.isRequested != true {
                    let factor = Warmup.factor(step: state.steps, length: warmupSteps)
                    failure = try route.train(order: order, state: &state, learningRate: rate * factor, maxSteps: 1,
                                              stop: stop, onEvent: onEvent)
                    left -= 1
                }
                if !warming || (failure == nil && left > 0 && state.position < order.count && stop?.isRequested != true) {
                    failure = try route.train(order: order, state: &state, learningRate: rate, maxSteps: left,
                                              stop: stop, onEvent: onEvent)
                }
                let steps = route.steps(in: order.count)
                if let failure {
                    throw TrainingDiverged(epoch: state.epoch, step: route.steps(in: state.position), steps: steps,
                                           learningRate: rate, problem: failure)
                }
                func guardParameters() throws {
                    if let problem = network.nonFiniteParameter() {
                        throw TrainingDiverged(epoch: state.epoch, step: route.steps(in: state.position),
                                               steps: steps, learningRate: rate, problem: problem)
                    }
                }
                if state.position == order.count {
                    try guardParameters()
                    try data.inputRows.checkUnchanged()
                    let report = EpochReport(epoch: state.epoch, learningRate: rate, loss: state.epochLoss,
                                             samples: order.count, seconds: state.epochSeconds)
                    reports.append(report)
                    try onEvent(.epoch(report))
                    state.epoch += 1
                    state.position = 0
                    state.epochLoss = 0
                    state.epochSeconds = 0
                } else {
                    try guardParameters()
                }
                route.capture(into: &state)
                try onEvent(.checkpoint(state))
                if let signal = stop?.signal, state.epoch <= options.epochs {
                    throw TrainingInterrupted(signal: signal, state: state, samples: order.count)
                }
            }
        }
        return reports
    }

    /// The shuffler and sample order at `state`: the run's shuffles so far, replayed from the seed and checked
    /// against the state's generator.
    private func replayShuffles(to state: TrainingState, count: Int) throws -> (SplitMix64, [Int]) {
        var shuffler = SplitMix64(seed: options.seed)
        var order = Array(0..<count)
        let shuffles = state.position == 0 ? state.epoch - 1 : state.epoch
        guard state.epoch >= 1, state.epoch <= options.epochs + 1, state.position >= 0, state.position < count,
              state.steps >= 0 else {
            throw MLPError("the saved training state is out of range: \(state.whereabouts(samples: count)), "
                           + "\(state.steps) steps, for \(count) samples")
        }
        for _ in 0..<shuffles { options.shuffle.next(&order, &shuffler) }
        guard shuffler.state == state.shuffleState else {
            throw MLPError("the saved shuffling state does not follow from the seed and \(count) samples: the "
                           + "checkpoint was made with another seed or other data")
        }
        return (shuffler, order)
    }
}

// MARK: Routes

/// One way of stepping through an epoch (see `TrainingPlan`), from any position and back.
private protocol TrainingRoute {
    /// Called at each epoch's start.
    func beginEpoch()
    /// Steps from `state.position` on until the epoch ends, `maxSteps` steps are taken or `stop` is requested;
    /// advances the state's position, steps, loss and seconds. Returns what went wrong when a loss was not finite.
    func train(order: [Int], state: inout TrainingState, learningRate: Float, maxSteps: Int, stop: StopRequest?,
               onEvent: (TrainingEvent) throws -> Void) throws -> String?
    /// Steps needed for `samples` samples.
    func steps(in samples: Int) -> Int
    /// Writes the optimizer's and the sparse layer's state into `state` (the sparse one mid-epoch only).
    func capture(into state: inout TrainingState)
    /// Continues from `state`'s optimizer and sparse-layer state.
    func restore(_ state: TrainingState, batchSize: Int) throws
}

extension TrainingRoute {
    /// Restores a sparse first layer mid-epoch, or checks that none is expected.
    func restore(sparse layer: SparseFirstLayer?, from state: TrainingState) throws {
        guard state.position > 0 else { return }
        switch (layer, state.sparseFirstLayer) {
        case (let layer?, let saved?): try layer.restore(saved)
        case (nil, nil): break
        case (_?, nil): throw MLPError("the saved state has no sparse first layer, but this run trains one")
        case (nil, _?): throw MLPError("the saved state has a sparse first layer, but this run trains a dense one")
        }
    }

    /// Samples between progress events: about a hundred an epoch, at step boundaries.
    func progressInterval(total: Int, stepSize: Int) -> Int {
        max(1, total / stepSize / 100) * stepSize
    }
}

/// Per-sample SGD with the update fused into backpropagation (sparse first layer when `background` is set).
private final class PerSampleRoute: TrainingRoute {
    let network: MLP
    let data: TrainingSet
    let workspace: Workspace
    let sparse: (layer: SparseFirstLayer, background: Float, batch: SparseBatch)?
    /// One sample's inputs as floats, for rows not stored as floats.
    let decoded: FloatBuffer
    /// Writes class targets (one-hot, or smoothed).
    let options: TrainingOptions

    init(network: MLP, data: TrainingSet, options: TrainingOptions, background: Float?) {
        self.network = network
        self.options = options
        self.data = data
        workspace = network.makeWorkspace(capacity: 1)
        decoded = FloatBuffer(count: data.inputSize)
        // The sparse first layer as a batch of one: each sample's non-background inputs are listed as it is read.
        sparse = background.map { background in
            let layer = SparseFirstLayer(network: network, background: background)
            return (layer: layer, background: background,
                    batch: SparseBatch(capacity: 1, inputs: data.inputSize, width: layer.stride))
        }
    }

    func beginEpoch() { sparse?.layer.restart() }

    func steps(in samples: Int) -> Int { samples }

    func capture(into state: inout TrainingState) {
        state.sparseFirstLayer = state.position > 0 ? sparse?.layer.state : nil
    }

    func restore(_ state: TrainingState, batchSize: Int) throws {
        guard state.optimizerSteps == 0, state.optimizerFirst.isEmpty, state.optimizerSecond.isEmpty else {
            throw MLPError("the saved state holds an optimizer's memory, but this run is plain per-sample SGD")
        }
        try restore(sparse: sparse?.layer, from: state)
    }

    func train(order: [Int], state: inout TrainingState, learningRate rate: Float, maxSteps: Int,
               stop: StopRequest?, onEvent: (TrainingEvent) throws -> Void) throws -> String? {
        let net = network, workspace = workspace, sparse = sparse, outputs = net.outputSize, decoded = decoded
        let total = order.count, epoch = state.epoch
        let clock = Stopwatch()
        var position = state.position, lossSum = state.epochLoss
        var failure: String?
        defer {
            state.steps += position - state.position
            state.position = position
            state.epochLoss = lossSum
            state.epochSeconds += clock.seconds
        }
        let end = min(total, position + min(maxSteps, total))
        let seconds = state.epochSeconds
        let every = progressInterval(total: total, stepSize: 1)
        let labels: [UInt8]? = if case .classes(let labels) = data.targets { labels } else { nil }
        try data.inputRows.withReader { x in
            try data.withTargetRows(size: outputs) { rows in
                let target = workspace.targets.pointer
                while position < end {
                    let i = order[position]
                    if let labels {
                        options.writeClassTarget(target, label: Int(labels[i]), classes: outputs)
                    } else {
                        rows!.copyRow(i, into: target)
                    }
                    let loss: Float
                    if let sparse {
                        sparse.batch.load(row: i, from: x, background: sparse.background)
                        loss = net.sgdStep(sparse: sparse.layer, batch: sparse.batch, target: target,
                                           learningRate: rate, workspace: workspace)
                    } else {
                        let row = x.floatRow(i) ?? {
                            x.copyRow(i, into: decoded.pointer)
                            return UnsafePointer(decoded.pointer)
                        }()
                        loss = net.sgdStep(row, target: target, learningRate: rate, workspace: workspace)
                    }
                    position += 1
                    lossSum += Double(loss)
                    guard loss.isFinite else { failure = "the loss became \(nonFiniteName(Double(loss)))"; return }
                    if position % every == 0 || position == total {
                        try onEvent(.progress(TrainingProgress(epoch: epoch, done: position, total: total,
                                                               lossSum: lossSum, seconds: seconds + clock.seconds)))
                    }
                    if stop?.isRequested == true { return }
                }
            }
        }
        return failure
    }
}

/// Mini-batches, cut into shards that the worker threads process in parallel.
private final class MiniBatchRoute: TrainingRoute {
    let data: TrainingSet
    let batchSize: Int
    let trainer: DataParallelTrainer
    /// Class targets as one-hot rows, made once.
    let oneHot: [Float]?
    /// The seed of the dropout masks (with the epoch: `Dropout.key`).
    let seed: UInt64

    init(network: MLP, data: TrainingSet, options: TrainingOptions, background: Float?,
         exchange: (any ShardExchange)?) {
        self.data = data
        batchSize = options.batchSize
        let optimizer = options.isPlainSGD ? nil
            : OptimizerState(optimizer: options.optimizer, weightDecay: options.weightDecay,
                             parameters: network.parameterCount)
        trainer = DataParallelTrainer(network: network, batchSize: batchSize, threads: options.threads,
                                      inputBackground: background, optimizer: optimizer)
        trainer.exchange = exchange
        trainer.lossReduction = options.lossReduction
        trainer.clipNorm = options.clipNorm
        seed = options.seed
        if case .classes(let labels) = data.targets {
            let classes = network.outputSize
            var rows = [Float](repeating: 0, count: data.count * classes)
            rows.withUnsafeMutableBufferPointer { rows in
                for (i, label) in labels.enumerated() {
                    options.writeClassTarget(rows.baseAddress! + i * classes, label: Int(label), classes: classes)
                }
            }
            oneHot = rows
        } else {
            oneHot = nil
        }
    }

    func beginEpoch() { trainer.restartSparseFirstLayer() }

    func steps(in samples: Int) -> Int { (samples + batchSize - 1) / batchSize }

    func capture(into state: inout TrainingState) {
        if let optimizer = trainer.optimizer {
            state.optimizerSteps = optimizer.steps
            state.optimizerFirst = optimizer.first.array
            state.optimizerSecond = optimizer.second.array
        }
        state.sparseFirstLayer = state.position > 0 ? trainer.sparse?.state : nil
    }

    func restore(_ state: TrainingState, batchSize: Int) throws {
        guard state.position % batchSize == 0 else {
            throw MLPError("the saved position (sample \(state.position)) is not at a batch boundary for a batch "
                           + "size of \(batchSize)")
        }
        let fresh = state.optimizerSteps == 0 && state.optimizerFirst.isEmpty && state.optimizerSecond.isEmpty
        if let optimizer = trainer.optimizer, !fresh {
            try optimizer.restore(steps: state.optimizerSteps, first: state.optimizerFirst,
                                  second: state.optimizerSecond)
        } else if trainer.optimizer == nil && !fresh {
            throw MLPError("the saved state holds an optimizer's memory, but this run is plain SGD")
        }
        try restore(sparse: trainer.sparse, from: state)
    }

    func train(order: [Int], state: inout TrainingState, learningRate rate: Float, maxSteps: Int,
               stop: StopRequest?, onEvent: (TrainingEvent) throws -> Void) throws -> String? {
        let total = order.count, batches = steps(in: total), epoch = state.epoch
        let every = progressInterval(total: total, stepSize: batchSize)
        trainer.dropoutKey = Dropout.key(seed: seed, epoch: epoch)
        var failure: String?
        let outputs = trainer.network.outputSize
        try data.inputRows.withReader { x in
            try data.withTargetRows(size: outputs) { rows in
                try (oneHot ?? []).withUnsafeBufferPointer { hot in
                    let targets = rows ?? RowReader(floats: hot.baseAddress!, width: outputs)
                    var taken = 0
                    var thrown: (any Error)?
                    // Steps of `size` samples from the current position, the threads staying for all of them; after
                    // each, the events (on this thread, the network up to date). False when the run must end.
                    func run(_ count: Int, size: Int) -> Bool {
                        let start = state.position
                        var clock = Stopwatch()
                        var going = true
                        trainer.steps(count, rows: size, batch: { k in order[start + k * size ..< start + (k + 1) * size] },
                                      inputs: x, targets: targets, learningRate: rate) { _, loss in
                            state.epochSeconds += clock.seconds
                            state.epochLoss += loss
                            state.position += size
                            state.steps += 1
                            taken += 1
                            let upper = state.position
                            guard loss.isFinite else {
                                failure = "the loss became \(nonFiniteName(loss))"
                                going = false
                                return false
                            }
                            do {
                                if upper % every == 0 || upper == total {
                                    try onEvent(.progress(TrainingProgress(epoch: epoch, done: upper, total: total,
                                                                           lossSum: state.epochLoss,
                                                                           seconds: state.epochSeconds)))
                                }
                                try onEvent(.step(TrainingStep(epoch: epoch, step: steps(in: upper), steps: batches,
                                                               loss: loss)))
                            } catch {
                                thrown = error
                                going = false
                                return false
                            }
                            if stop?.isRequested == true { going = false }
                            clock = Stopwatch()
                            return going
                        }
                        return going
                    }
                    // The full batches, then the epoch's last, shorter one.
                    let full = min((total - state.position) / batchSize, maxSteps)
                    let going = full == 0 || run(full, size: batchSize)
                    if let thrown { throw thrown }
                    if going && taken < maxSteps && state.position < total {
                        _ = run(1, size: total - state.position)
                        if let thrown { throw thrown }
                    }
                }
            }
        }
        return failure
    }
}

/// How a `Trainer` carries out a run (see `Trainer.plan(for:)`).
public struct TrainingPlan: Sendable, Equatable {
    /// Per-sample SGD with the update fused into backpropagation.
    public let perSample: Bool
    /// The background value when the first layer is sparse (trained on the other inputs only), else nil.
    public let sparseBackground: Float?
    /// Rows per shard of a mini-batch (1 for per-sample SGD).
    public let shardRows: Int
    /// Shards per full mini-batch (1 for per-sample SGD).
    public let shardsPerBatch: Int

    /// Whether the first layer is sparse.
    public var sparseFirstLayer: Bool { sparseBackground != nil }
}

/// What happens during `Trainer.fit`.
public enum TrainingEvent: Sendable {
    /// About a hundred times an epoch: how far it has got.
    case progress(TrainingProgress)
    /// After every mini-batch step (per-sample SGD reports progress only).
    case step(TrainingStep)
    /// An epoch is over; the network is up to date.
    case epoch(EpochReport)
    /// A point to save: the network (up to date) and this state are all `fit(_:resumingFrom:)` needs to go on.
    /// Offered after every epoch, every `options.checkpointEvery` steps, and before a requested stop.
    case checkpoint(TrainingState)
}

/// How far an epoch has got.
public struct TrainingProgress: Sendable {
    /// 1-based epoch.
    public let epoch: Int
    /// Samples trained so far in this epoch, of `total`.
    public let done: Int
    public let total: Int
    /// Their summed loss (each sample's loss before its step).
    public let lossSum: Double
    /// Seconds spent in training steps so far in this epoch.
    public let seconds: Double

    /// Mean loss per sample so far.
    public var meanLoss: Double { lossSum / Double(max(done, 1)) }
    /// Training speed so far.
    public var samplesPerSecond: Double { Double(done) / max(seconds, 1e-9) }
}

/// One mini-batch step.
public struct TrainingStep: Sendable {
    /// 1-based epoch.
    public let epoch: Int
    /// 1-based step within the epoch, of `steps`.
    public let step: Int
    public let steps: Int
    /// The batch's summed loss, before the step.
    public let loss: Double
}

/// A finished epoch.
public struct EpochReport: Sendable, Codable, Equatable {
    /// 1-based epoch.
    public let epoch: Int
    /// The learning rate the schedule gave this epoch.
    public let learningRate: Float
    /// The training loss summed over the epoch (each sample's loss before the step that used it).
    public let loss: Double
    /// Samples trained.
    public let samples: Int
    /// Seconds spent in training steps (not in events).
    public let seconds: Double

    /// Mean training loss per sample.
    public var meanLoss: Double { loss / Double(max(samples, 1)) }
    /// Training speed.
    public var samplesPerSecond: Double { Double(samples) / max(seconds, 1e-9) }
}
