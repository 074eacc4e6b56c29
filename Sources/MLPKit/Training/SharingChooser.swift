// Whether a lone shard runs faster shared among the threads or on one: measured while training, since both give
// the same bits.
/// Decides, from measured step times, whether a step's lone shard is shared among the threads (`SharedPass`)
/// or run on the calling thread. Both give the same bits, so the choice may change at any step; it follows the
/// machine: threads that spin while they wait for each other run slower than one thread when a core is taken
/// away (by another process, or by the hypervisor on a virtual machine), and sharing then loses.
///
/// Every `period` steps it times `probe` steps each way and keeps the faster (by the median step) for the rest
/// of the period; two clock reads per step, nothing allocated.
final class SharingChooser {
    /// Steps timed each way at the start of every period.
    static let probe = 8
    /// Steps from one measurement to the next.
    static let period = 256

    private var count = 0
    private var sharedTimes: [Double]
    private var soloTimes: [Double]
    private var started = Stopwatch()
    /// Whether steps outside the probes share their shard.
    private(set) var sharing = true
    /// Periods in which sharing was kept, and periods in all (for `bench`).
    private(set) var sharedPeriods = 0, periods = 0

    init() {
        sharedTimes = [Double](repeating: 0, count: Self.probe)
        soloTimes = [Double](repeating: 0, count: Self.probe)
    }

    /// Whether the coming step shares its shard; call `finish()` after it.
    func begin() -> Bool {
        started = Stopwatch()
        let phase = count % Self.period
        if phase < Self.probe { return true }
        if phase < 2 * Self.probe { return false }
        return sharing
    }

    /// Records the step begun last.
    func finish() { record(started.seconds) }

    /// Records that the step begun last took `seconds`.
    func record(_ seconds: Double) {
        let phase = count % Self.period
        if phase < Self.probe {
            sharedTimes[phase] = seconds
        } else if phase < 2 * Self.probe {
            soloTimes[phase - Self.probe] = seconds
            if phase == 2 * Self.probe - 1 {
                sharing = Self.median(&sharedTimes) < Self.median(&soloTimes)
                periods += 1
                if sharing { sharedPeriods += 1 }
            }
        }
        count += 1
    }

    private static func median(_ values: inout [Double]) -> Double {
        values.sort()
        return values[values.count / 2]
    }
}
