// How the learning rate changes from epoch to epoch.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A learning rate per epoch, from a base rate.
public enum LearningRateSchedule: String, Sendable, CaseIterable, Codable {
    /// The base rate every epoch.
    case constant
    /// Half a cosine from the base rate down towards zero at the last epoch: large steps early, and a last
    /// epoch that settles instead of wobbling.
    case cosine
    /// The base rate halved after each epoch.
    case halving

    /// Whether the rates depend on the number of epochs (so a run cannot be extended without changing them).
    public var dependsOnEpochCount: Bool { self == .cosine }

    /// The rate for `epoch` (1-based) of `epochs`.
    public func rate(base: Float, epoch: Int, of epochs: Int) -> Float {
        switch self {
        case .constant:
            return base
        case .cosine:
            let progress = Double(epoch - 1) / Double(max(epochs, 1))
            return base * Float(0.5 * (1 + cos(Double.pi * progress)))
        case .halving:
            return base * Float(pow(0.5, Double(epoch - 1)))
        }
    }
}
