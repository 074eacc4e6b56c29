// A learning-rate warmup: the first steps' rates rise linearly from 0 to the schedule's.

/// How long the learning rate warms up: the schedule's rate times (s + 1) / W for the run's steps s < W (0-based,
/// counted across epochs, so a resumed run warms up as the uninterrupted one did), then the schedule's alone.
public enum Warmup: Sendable, Equatable, CustomStringConvertible {
    /// W = this many steps (mini-batches, or samples for per-sample SGD).
    case steps(Int)
    /// W = this many epochs' steps.
    case epochs(Int)

    /// No warmup.
    public static let none = Warmup.steps(0)

    /// W for a run whose epochs take `stepsPerEpoch` steps.
    public func steps(perEpoch stepsPerEpoch: Int) -> Int {
        switch self {
        case .steps(let count): count
        case .epochs(let count): count * stepsPerEpoch
        }
    }

    /// The factor on the rate of step `step` (0-based) of a warmup of `length` steps.
    public static func factor(step: Int, length: Int) -> Float {
        step < length ? Float(step + 1) / Float(length) : 1
    }

    /// "300" (steps) or "2e" (epochs), as `--warmup` takes it.
    public var description: String {
        switch self {
        case .steps(let count): "\(count)"
        case .epochs(let count): "\(count)e"
        }
    }

    /// The warmup `description` names ("300", "2e"), or nil.
    public init?(description text: String) {
        if text.hasSuffix("e"), let count = Int(text.dropLast()), count >= 0 {
            self = .epochs(count)
        } else if let count = Int(text), count >= 0 {
            self = .steps(count)
        } else {
            return nil
        }
    }
}
