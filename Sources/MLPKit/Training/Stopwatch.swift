// Wall-clock timing for progress lines and speed figures.
import Dispatch

/// Measures elapsed wall-clock time from its creation (monotonic clock).
package struct Stopwatch: Sendable {
    private let start = DispatchTime.now().uptimeNanoseconds

    /// Starts timing now.
    public init() {}

    /// Seconds since creation.
    public var seconds: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}
