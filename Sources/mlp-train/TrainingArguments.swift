// The options every training command shares, said once: epochs, batch and loss reduction, label smoothing,
// learning rate, schedule and warmup, clipping, seed, optimizer, first layer, threads, checkpoints; the job's
// defaults.
import ArgumentParser
import MLPJobs
import MLPKit

/// A training job whose `TrainingOptions` defaults the command line shows.
protocol TrainingDefaults {
    /// The job's training settings before any option.
    static var defaultTraining: TrainingOptions { get }
}

/// The training options of a command whose job's defaults are `Job`'s.
struct TrainingArguments<Job: TrainingDefaults>: ParsableArguments {
    @Option(help: "Passes over the training data.")
    var epochs: Int = Job.defaultTraining.epochs

    @Option(help: "Samples per step; 1 is per-sample SGD.")
    var batchSize: Int = Job.defaultTraining.batchSize

    @Option(help: ArgumentHelp("sum or mean: whether a batch's step descends the sum of its samples' losses or "
                               + "their mean (as PyTorch, Keras and scikit-learn do: their learning rates carry over)."))
    var lossReduction: LossReduction = Job.defaultTraining.lossReduction

    @Option(help: ArgumentHelp("Label smoothing ε for classes under the softmax cross-entropy: targets become "
                               + "(1 − ε)·one-hot + ε/K.", valueName: "ε"))
    var labelSmoothing: Float = Job.defaultTraining.labelSmoothing

    @Option(help: "Step size η of the first epoch.")
    var learningRate: Float = Job.defaultTraining.learningRate

    @Option(help: "Learning-rate schedule: constant, cosine (down to 0 at the last epoch) or halving (each epoch).")
    var schedule: LearningRateSchedule = Job.defaultTraining.schedule

    @Option(help: ArgumentHelp("Raise the learning rate linearly from 0 over the first N steps (N), or N epochs "
                               + "(Ne), then follow the schedule.", valueName: "N|Ne"))
    var warmup: Warmup = Job.defaultTraining.warmup

    @Option(help: ArgumentHelp("Clip each step's gradient to this global (Euclidean) norm over every parameter, "
                               + "as PyTorch's clip_grad_norm_ does (default: no clipping).", valueName: "norm"))
    var clipNorm: Float?

    @Option(help: "Seed for the initial weights, the shuffling, the dropout masks and whatever else the job draws.")
    var seed: UInt64 = Job.defaultTraining.seed

    @Option(help: ArgumentHelp("How each epoch orders the samples: full (a new shuffle of them all) or window:N (a "
                               + "shuffle within a sliding window of N samples, over chunks taken in a shuffled "
                               + "order, so that a mapped file larger than memory is read in near order).",
                               valueName: "full|window:N"))
    var shuffle: Shuffle = Job.defaultTraining.shuffle

    @OptionGroup var optimizing: OptimizerOptions
    @OptionGroup var firstLayer: FirstLayerOptions
    @OptionGroup var threading: ThreadOptions
    @OptionGroup var checkpointing: CheckpointingOptions

    /// The training settings the options give.
    var training: TrainingOptions {
        var options = TrainingOptions(epochs: epochs, learningRate: learningRate, schedule: schedule,
                                      batchSize: batchSize, lossReduction: lossReduction, optimizer: optimizing.rule,
                                      weightDecay: optimizing.weightDecay, threads: threading.threads, seed: seed,
                                      sparseFirstLayer: !firstLayer.denseFirstLayer,
                                      checkpointEvery: checkpointing.checkpointEvery)
        options.labelSmoothing = labelSmoothing
        options.warmup = warmup
        options.clipNorm = clipNorm ?? Job.defaultTraining.clipNorm
        options.shuffle = shuffle
        return options
    }
}

extension LearningRateSchedule: ExpressibleByArgument {}

extension LossReduction: ExpressibleByArgument {}

extension Shuffle: ExpressibleByArgument {
    /// `full`, or `window:N` with N a positive number of samples.
    public init?(argument: String) {
        if argument == "full" {
            self = .full
        } else if argument.hasPrefix("window:"), let size = Int(argument.dropFirst("window:".count)), size > 0 {
            self = .window(size)
        } else {
            return nil
        }
    }
}

extension Warmup: ExpressibleByArgument {
    public init?(argument: String) { self.init(description: argument) }
}

extension DiscDemo.Options: TrainingDefaults {
    static var defaultTraining: TrainingOptions { Self().training }
}

extension ClassifyDemo.Options: TrainingDefaults {
    static var defaultTraining: TrainingOptions { Self().training }
}

extension AutoencoderDemo.Options: TrainingDefaults {
    static var defaultTraining: TrainingOptions { Self().training }
}

extension TrainJob.Options: TrainingDefaults {
    static var defaultTraining: TrainingOptions { Self(data: "").training }
}
