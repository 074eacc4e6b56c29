// Where a training run stands between two steps: what a checkpoint must hold to continue bit for bit.

/// The state of a `Trainer` run between two steps, besides the network's parameters: the position in the run,
/// the shuffling generator, the epoch's running loss, the optimizer's memory and, mid-epoch, the sparse first
/// layer's own form of the weights. `Trainer.fit(_:resumingFrom:)` continues from it exactly as the run would
/// have gone on; `TrainingCheckpoint` saves it with the network.
public struct TrainingState: Sendable, Equatable {
    /// 1-based epoch in progress; when `position` is 0, the epoch about to start.
    public internal(set) var epoch: Int
    /// Samples of `epoch` already trained (0 at an epoch boundary).
    public internal(set) var position: Int
    /// Steps (mini-batches, or samples for per-sample SGD) taken since the run began.
    public internal(set) var steps: Int
    /// The shuffling generator's state after this run's shuffles so far (`SplitMix64.state`).
    public internal(set) var shuffleState: UInt64
    /// The epoch's summed training loss so far.
    public internal(set) var epochLoss: Double
    /// Seconds spent in the epoch's training steps so far.
    public internal(set) var epochSeconds: Double
    /// The optimizer's step count; its buffers (momentum's v, Adam's m and v, in the parameters' layout) stay
    /// inside the package: empty for plain SGD.
    public internal(set) var optimizerSteps: Int
    package internal(set) var optimizerFirst: [Float]
    package internal(set) var optimizerSecond: [Float]
    /// Mid-epoch only, when the first layer is sparse: its weights as it keeps them (see `SparseFirstLayer`).
    package internal(set) var sparseFirstLayer: SparseLayerState?

    /// The state before the first step of a run whose shuffling is seeded with `seed`.
    public init(seed: UInt64) {
        epoch = 1
        position = 0
        steps = 0
        shuffleState = SplitMix64(seed: seed).state
        epochLoss = 0
        epochSeconds = 0
        optimizerSteps = 0
        optimizerFirst = []
        optimizerSecond = []
        sparseFirstLayer = nil
    }

    /// The state with every field given (as a checkpoint file holds them).
    package init(epoch: Int, position: Int, steps: Int, shuffleState: UInt64, epochLoss: Double, epochSeconds: Double,
                optimizerSteps: Int, optimizerFirst: [Float], optimizerSecond: [Float],
                sparseFirstLayer: SparseLayerState?) {
        self.epoch = epoch
        self.position = position
        self.steps = steps
        self.shuffleState = shuffleState
        self.epochLoss = epochLoss
        self.epochSeconds = epochSeconds
        self.optimizerSteps = optimizerSteps
        self.optimizerFirst = optimizerFirst
        self.optimizerSecond = optimizerSecond
        self.sparseFirstLayer = sparseFirstLayer
    }

    /// Epochs finished.
    public var completedEpochs: Int { epoch - 1 }

    /// "epoch 3, sample 1,200 of 60,000" or "the start of epoch 3".
    public func whereabouts(samples: Int) -> String {
        position == 0 ? "the start of epoch \(epoch)" : "epoch \(epoch), sample \(position) of \(samples)"
    }
}

/// A sparse first layer's weights W = V + u·1ᵀ as it keeps them mid-epoch: Vᵀ (inputs × stride), u and the
/// running row sums of V, each needed to continue with the same bits.
package struct SparseLayerState: Sendable, Equatable {
    /// Vᵀ, inputs rows of `stride` values (outputs rounded up to a multiple of 8).
    public let vTransposed: [Float]
    /// Values per row of Vᵀ.
    public let stride: Int
    /// u, one per output.
    public let u: [Float]
    /// Σᵢ V[j, i], one per output, as updated step by step.
    public let rowSums: [Float]

    /// The state with every field given.
    public init(vTransposed: [Float], stride: Int, u: [Float], rowSums: [Float]) {
        self.vTransposed = vTransposed
        self.stride = stride
        self.u = u
        self.rowSums = rowSums
    }
}
