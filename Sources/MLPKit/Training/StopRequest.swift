// Stopping a run cleanly between two steps: the request (safe from a signal handler) and the error it ends in.
import Synchronization

/// A request to stop training after the current step. Setting it is a single atomic store, so a signal handler
/// may make it; the `Trainer` checks it after every step, offers a checkpoint and throws `TrainingInterrupted`.
public final class StopRequest: Sendable {
    private let code = Atomic<Int32>(0)

    /// A request not yet made.
    public init() {}

    /// Asks for a stop, naming why (a signal number, or any positive code). Returns false when a stop had
    /// already been asked for (the first reason is kept). Async-signal-safe.
    @discardableResult
    public func request(signal: Int32) -> Bool {
        code.compareExchange(expected: 0, desired: max(signal, 1), ordering: .relaxed).exchanged
    }

    /// The reason given by the first request, or nil while none was made.
    public var signal: Int32? {
        let value = code.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    /// Whether a stop was asked for.
    public var isRequested: Bool { code.load(ordering: .relaxed) != 0 }
}

/// Training stopped at a step boundary because a `StopRequest` was made; a `.checkpoint` event with `state`
/// was offered just before.
public struct TrainingInterrupted: Error, CustomStringConvertible, Sendable {
    /// The reason the request gave (SIGINT is 2, SIGTERM 15).
    public let signal: Int32
    /// Where the run stopped.
    public let state: TrainingState
    /// Training samples per epoch.
    public let samples: Int

    public var description: String {
        "training stopped (\(Self.signalName(signal))) at \(state.whereabouts(samples: samples))"
    }

    /// "SIGINT", "SIGTERM", "SIGUSR1" or "signal N".
    public static func signalName(_ signal: Int32) -> String {
        switch signal {
        case 2: "SIGINT"
        case 15: "SIGTERM"
        case 10: "SIGUSR1"
        default: "signal \(signal)"
        }
    }
}
