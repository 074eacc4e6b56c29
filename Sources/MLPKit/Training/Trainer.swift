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

    /// A trainer for `network`; throws when an option is out of range (the message names it).
    public init(network: MLP, options: TrainingOptions) throws {
        try options.validate()
        guard !network.layers.isEmpty else { throw MLPError("the network has no layers: call addLayer first") }
        self.network = network
        self.options = options
    }

    /// How a run on `data` is carried out.
    public func plan(for data: TrainingSet) -> TrainingPlan {
        let background = options.sparseFirstLayer && options.isPlainSGD ? data.dominantBackground() : nil
        if options.batchSize == 1 && options.isPlainSGD {
            return TrainingPlan(perSample: true, sparseBackground: background, shardRows: 1, shardsPerBatch: 1)
        }
        let rows = DataParallelTrainer.shardRows(batchSize: options.batchSize, parameters: network.parameterCount)
        return TrainingPlan(perSample: false, sparseBackground: background, shardRows: rows,
                            shardsPerBatch: (options.batchSize + rows - 1) / rows)
    }

    /// Trains for `options.epochs` epochs, calling `onEvent` with progress, every mini-batch step and every
    /// finished epoch; an error thrown by `onEvent` stops training and is rethrown. Returns the epochs' reports.
    @discardableResult
    public func fit(_ data: TrainingSet, onEvent: (TrainingEvent) throws -> Void = { _ in }) throws -> [EpochReport] {
        try data.check(against: network)
        guard data.count > 0 else { throw MLPError("the training set is empty") }
        let plan = plan(for: data)
        var shuffler = SplitMix64(seed: options.seed)
        var order = Array(0..<data.count)
        var reports: [EpochReport] = []
        try withoutActuallyEscaping(onEvent) { onEvent in
            let epochStep = plan.perSample
                ? perSampleEpochs(data, background: plan.sparseBackground, onEvent: onEvent)
                : miniBatchEpochs(data, background: plan.sparseBackground, onEvent: onEvent)
            for epoch in 1...options.epochs {
                let rate = options.schedule.rate(base: options.learningRate, epoch: epoch, of: options.epochs)
                shuffler.shuffle(&order)
                let (loss, seconds) = try epochStep(epoch, rate, order)
                network.synchronize()
                let report = EpochReport(epoch: epoch, learningRate: rate, loss: loss, samples: order.count,
                                         seconds: seconds)
                reports.append(report)
                try onEvent(.epoch(report))
            }
        }
        return reports
    }

    // MARK: Routes

    /// Per-sample SGD with the update fused into backpropagation (sparse first layer when `background` is set).
    private func perSampleEpochs(_ data: TrainingSet, background: Float?,
                                 onEvent: @escaping (TrainingEvent) throws -> Void)
        -> (Int, Float, [Int]) throws -> (loss: Double, seconds: Double) {
        let net = network
        // The sparse first layer as a batch of one: the samples' non-background inputs are listed once.
        let sparse = background.map { background in
            let layer = SparseFirstLayer(network: net, background: background)
            return (layer: layer, rows: SparseRows(inputs: data.inputs, width: data.inputSize, background: background),
                    batch: SparseBatch(capacity: 1, inputs: data.inputSize, width: layer.stride))
        }
        let workspace = net.makeWorkspace(capacity: 1)
        let outputs = net.outputSize
        return { epoch, rate, order in
            let total = order.count, interval = max(1, total / 100)
            let clock = Stopwatch()
            var failure: (any Error)?
            func report(done: Int, lossSum: Double) {
                guard failure == nil else { return }
                do {
                    try onEvent(.progress(TrainingProgress(epoch: epoch, done: done, total: total, lossSum: lossSum,
                                                           seconds: clock.seconds)))
                } catch { failure = error }
            }
            let loss = data.withTargetRows { rows -> Double in
                let target: (Int, UnsafeMutablePointer<Float>) -> Void
                switch data.targets {
                case .classes(let labels): target = { i, t in t[Int(labels[i])] = 1 }
                default: target = { i, t in t.update(from: rows! + i * outputs, count: outputs) }
                }
                if let sparse {
                    sparse.layer.restart()
                    return net.trainEpoch(order: order, workspace: workspace, target: target,
                                          progressInterval: interval, progress: report) { i, target in
                        net.sgdStep(sparse: sparse.layer, rows: sparse.rows, batch: sparse.batch, sample: i,
                                    target: target, learningRate: rate, workspace: workspace)
                    }
                }
                return data.inputs.withUnsafeBufferPointer { x in
                    net.trainEpoch(inputs: x.baseAddress!, order: order, learningRate: rate, workspace: workspace,
                                   target: target, progressInterval: interval, progress: report)
                }
            }
            let seconds = clock.seconds
            if let failure { throw failure }
            return (loss, seconds)
        }
    }

    /// Mini-batches, cut into shards that the worker threads process in parallel.
    private func miniBatchEpochs(_ data: TrainingSet, background: Float?,
                                 onEvent: @escaping (TrainingEvent) throws -> Void)
        -> (Int, Float, [Int]) throws -> (loss: Double, seconds: Double) {
        let net = network, batchSize = options.batchSize
        let optimizer = options.isPlainSGD ? nil
            : OptimizerState(optimizer: options.optimizer, weightDecay: options.weightDecay,
                             parameters: net.parameterCount)
        let trainer = DataParallelTrainer(network: net, batchSize: batchSize, threads: options.threads,
                                          inputBackground: background, optimizer: optimizer)
        // Class targets become one-hot rows, once.
        let oneHot: [Float]?
        if case .classes(let labels) = data.targets {
            var rows = [Float](repeating: 0, count: data.count * net.outputSize)
            for (i, label) in labels.enumerated() { rows[i * net.outputSize + Int(label)] = 1 }
            oneHot = rows
        } else {
            oneHot = nil
        }
        return { epoch, rate, order in
            let total = order.count, batches = (total + batchSize - 1) / batchSize
            let reportEvery = max(1, batches / 100)
            var lossSum = 0.0, seconds = 0.0
            trainer.restartSparseFirstLayer()
            try data.inputs.withUnsafeBufferPointer { x in
                try data.withTargetRows { rows in
                    try (oneHot ?? []).withUnsafeBufferPointer { hot in
                        let targets = rows ?? hot.baseAddress!
                        for batch in 0..<batches {
                            let lower = batch * batchSize, upper = min(total, lower + batchSize)
                            let clock = Stopwatch()
                            let loss = trainer.step(indices: order[lower..<upper], inputs: x.baseAddress!,
                                                    targets: targets, learningRate: rate)
                            seconds += clock.seconds
                            lossSum += loss
                            if (batch + 1) % reportEvery == 0 || batch + 1 == batches {
                                try onEvent(.progress(TrainingProgress(epoch: epoch, done: upper, total: total,
                                                                       lossSum: lossSum, seconds: seconds)))
                            }
                            try onEvent(.step(TrainingStep(epoch: epoch, step: batch + 1, steps: batches, loss: loss)))
                        }
                    }
                }
            }
            return (lossSum, seconds)
        }
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
