// Timing each epoch of a job from one end to the next.
import MLPKit

/// Wall-clock seconds from one lap to the next: an epoch's training and scoring together.
final class EpochClock {
    private var clock = Stopwatch()

    /// Seconds since the previous lap (or since creation), and starts the next lap.
    func lap() -> Double {
        defer { clock = Stopwatch() }
        return clock.seconds
    }
}
