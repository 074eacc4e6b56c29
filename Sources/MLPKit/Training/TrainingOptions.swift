// How a training run goes: epochs, learning rate and schedule, batch size, optimizer, threads, seed.

/// The settings of a `Trainer` run. The defaults are per-sample SGD.
public struct TrainingOptions: Sendable, Equatable {
    /// Passes over the training samples.
    public var epochs = 1
    /// The first epoch's learning rate η.
    public var learningRate: Float = 0.001
    /// How η changes from epoch to epoch.
    public var schedule: LearningRateSchedule = .constant
    /// The first steps' rates rise linearly from 0 to the schedule's (`.none`: from the first step on).
    public var warmup: Warmup = .none
    /// Samples per step. 1 is per-sample SGD.
    public var batchSize = 1
    /// Whether a batch's step descends the sum of its losses (the default) or their mean.
    public var lossReduction: LossReduction = .sum
    /// Label smoothing ε for class targets under the softmax cross-entropy: each sample's target is
    /// (1 − ε)·one-hot + ε/K over its K classes instead of the one-hot row (0: none).
    public var labelSmoothing: Float = 0
    /// The update rule.
    public var optimizer: Optimizer = .sgd
    /// Clipping by the global norm: a step whose gradient (every parameter's, summed or averaged over the batch
    /// as `lossReduction` says) has a Euclidean norm above this is scaled down to it before the update, as
    /// PyTorch's `clip_grad_norm_` does (nil: no clipping). Mini-batch steps with a dense first layer.
    public var clipNorm: Float?
    /// Decoupled weight decay λ: θ −= η·λ·θ each step (0: none).
    public var weightDecay: Float = 0
    /// Worker threads for the shards of a batch; the trained weights do not depend on it.
    public var threads = 1
    /// Seeds the shuffling: every epoch visits the samples in a new order drawn from this seed.
    public var seed: UInt64 = 0
    /// How each epoch orders the samples: a full shuffle, or one within a window (data larger than memory).
    public var shuffle: Shuffle = .full
    /// Train the first layer on the inputs that differ from the background only, when one value (0 or 1) fills
    /// at least half of the inputs: the same training up to float rounding, with less work. SGD only.
    public var sparseFirstLayer = true
    /// Also offer a `.checkpoint` event every this many steps (mini-batches, or samples for per-sample SGD),
    /// besides the one after every epoch; nil: after epochs only. Checkpoints never change the training.
    public var checkpointEvery: Int?

    /// The settings; the defaults are per-sample SGD for one epoch at η = 0.001, on one thread.
    public init(epochs: Int = 1, learningRate: Float = 0.001, schedule: LearningRateSchedule = .constant,
                batchSize: Int = 1, lossReduction: LossReduction = .sum, optimizer: Optimizer = .sgd,
                weightDecay: Float = 0, threads: Int = 1, seed: UInt64 = 0, sparseFirstLayer: Bool = true,
                checkpointEvery: Int? = nil) {
        self.epochs = epochs
        self.learningRate = learningRate
        self.schedule = schedule
        self.batchSize = batchSize
        self.lossReduction = lossReduction
        self.optimizer = optimizer
        self.weightDecay = weightDecay
        self.threads = threads
        self.seed = seed
        self.sparseFirstLayer = sparseFirstLayer
        self.checkpointEvery = checkpointEvery
    }

    /// Whether this run is plain SGD, without weight decay: the rule of the per-sample update inside
    /// backpropagation and of the sparse first layer.
    package var isPlainSGD: Bool { optimizer == .sgd && weightDecay == 0 }

    /// Checks every setting; the one place where these rules live. Errors name the field (`MLPError.field`).
    public func validate() throws {
        guard epochs > 0 else { throw MLPError(field: "epochs", "must be positive, got \(epochs)") }
        guard learningRate.isFinite, learningRate > 0 else {
            throw MLPError(field: "learningRate", "must be a positive number, got \(learningRate)")
        }
        guard batchSize > 0 else { throw MLPError(field: "batchSize", "must be positive, got \(batchSize)") }
        try Self.validate(threads: threads)
        if case .window(let size) = shuffle, size < 1 {
            throw MLPError(field: "shuffle", "needs a window of at least 1 sample, got \(size)")
        }
        guard weightDecay.isFinite, weightDecay >= 0 else {
            throw MLPError(field: "weightDecay", "must be zero or positive, got \(weightDecay)")
        }
        try optimizer.validate()
        switch warmup {
        case .steps(let count), .epochs(let count):
            guard count >= 0 else { throw MLPError(field: "warmup", "must be zero or positive, got \(warmup)") }
        }
        if let clipNorm, !(clipNorm.isFinite && clipNorm > 0) {
            throw MLPError(field: "clipNorm", "must be a positive number, got \(clipNorm)")
        }
        guard labelSmoothing.isFinite, (0..<1).contains(labelSmoothing) else {
            throw MLPError(field: "labelSmoothing", "must be in [0, 1), got \(labelSmoothing)")
        }
        if let checkpointEvery, checkpointEvery <= 0 {
            throw MLPError(field: "checkpointEvery", "must be a positive number of steps, got \(checkpointEvery)")
        }
    }

    /// The settings that shape the trained weights, by field name, as text: a run can only be resumed with the
    /// same values. Threads and checkpoints never change the weights and are left out; so are the epochs unless
    /// the schedule depends on them (a run may be continued to more epochs otherwise), the loss reduction when
    /// it is the sum, label smoothing when it is 0, warmup and clipping when there are none (as runs made before
    /// they existed). `seed` is the shuffling's (and the dropout masks').
    public var shapingValues: [String: String] {
        var values = ["learningRate": "\(learningRate)", "schedule": schedule.rawValue,
                      "batchSize": "\(batchSize)", "optimizer": optimizer.description,
                      "weightDecay": "\(weightDecay)", "seed": "\(seed)",
                      "sparseFirstLayer": sparseFirstLayer ? "yes" : "no"]
        if schedule.dependsOnEpochCount { values["epochs"] = "\(epochs)" }
        if lossReduction != .sum { values["lossReduction"] = lossReduction.rawValue }   // runs before it: sum
        if labelSmoothing != 0 { values["labelSmoothing"] = "\(labelSmoothing)" }        // runs before it: none
        if warmup != .none { values["warmup"] = warmup.description }                     // runs before it: none
        if let clipNorm { values["clipNorm"] = "\(clipNorm)" }                            // runs before it: none
        if shuffle != .full { values["shuffle"] = shuffle.description }                    // runs before it: full
        return values
    }

    /// Writes the target row of class `label` among `classes`: one-hot, or smoothed by `labelSmoothing`.
    func writeClassTarget(_ row: UnsafeMutablePointer<Float>, label: Int, classes: Int) {
        let off = labelSmoothing / Float(classes)
        for j in 0..<classes { row[j] = off }
        row[label] = 1 - labelSmoothing + off
    }

    /// Checks a thread count (also for the jobs that do not train).
    public static func validate(threads: Int) throws {
        guard (1...1024).contains(threads) else { throw MLPError(field: "threads", "must be between 1 and 1024, got \(threads)") }
    }
}
