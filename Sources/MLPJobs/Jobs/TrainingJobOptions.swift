// A training job's options hold the training loop's settings once (`TrainingOptions`), read as the job's own.
import MLPKit

/// The options of a job that trains: the training loop's settings live in `training`, once, and read and write
/// as if they were the job's own (`options.epochs` is `options.training.epochs`). `training.seed` is the job's
/// seed (weights, shuffling, whatever else it draws); the trainer shuffles from `trainerOptions`' seed.
@dynamicMemberLookup
public protocol TrainingJobOptions {
    /// The training loop's settings, with the job's defaults.
    var training: TrainingOptions { get set }
    /// Mixed into the seed for the shuffling, so that it draws apart from the initial weights.
    static var shuffleSalt: UInt64 { get }
}

extension TrainingJobOptions {
    /// A setting of `training`, as if it were the job's own.
    public subscript<Value>(dynamicMember setting: WritableKeyPath<TrainingOptions, Value>) -> Value {
        get { training[keyPath: setting] }
        set { training[keyPath: setting] = newValue }
    }

    /// The settings the `Trainer` runs with: `training`, shuffling from the salted seed.
    public var trainerOptions: TrainingOptions {
        var options = training
        options.seed ^= Self.shuffleSalt
        return options
    }
}

/// The command-line option named after a field of MLPKit's settings (`learningRate` → `--learning-rate`): for
/// messages, and for the settings saved in checkpoints, which name them by option.
public func optionName(forField field: String) -> String {
    var name = "--"
    for character in field {
        if character.isUppercase {
            name += "-" + character.lowercased()
        } else {
            name.append(character)
        }
    }
    return name
}
