// Whether steps run faster on all the threads or on one: measured while training, since both give the same bits.

/// Decides, from measured step times, whether a run's steps are shared among the threads or run on one. Both give
/// the same bits, so the choice may change at any step; it follows the machine: threads that wait for each
/// other lose when one of them loses its core (to another process, or to the host of a virtual machine), and on a
/// 2-core machine with one core taken by another process, a batch-16 step shared by 2 threads ran at 0.6 of one
/// thread's speed.
///
/// It probes both ways, shared steps then steps on one thread, each for at least `probeSteps.lowerBound` steps and
/// `probeSeconds`, at most `probeSteps.upperBound` steps; keeps the faster by the median step; and runs that way
/// for `period` seconds of steps before probing again. The period starts at `shortest` and doubles, up to
/// `longest`, while the threads win clearly (by a quarter or more), so a machine where they always win spends
/// little time on one thread; when they lose, it goes back to `shortest`.
final class WorkerChooser {
    static let probeSteps = 2...8
    static let probeSeconds = 0.005
    static let shortest = 1.0, longest = 16.0

    private enum Phase { case probeShared, probeSolo, run }
    private var phase = Phase.probeShared
    private var phaseSeconds = 0.0
    private var sharedTimes: [Double] = [], soloTimes: [Double] = []
    /// Whether the steps after the probes share the threads.
    private(set) var sharing = true
    /// Seconds of steps between probes.
    private(set) var period = WorkerChooser.shortest
    /// Probes made, and those the threads won (for the benchmarks and the tests).
    private(set) var probes = 0, sharedWins = 0

    init() {
        sharedTimes.reserveCapacity(Self.probeSteps.upperBound)
        soloTimes.reserveCapacity(Self.probeSteps.upperBound)
    }

    /// Whether the coming steps share the threads.
    var shared: Bool {
        switch phase {
        case .probeShared: true
        case .probeSolo: false
        case .run: sharing
        }
    }

    /// Records that a step ran as `shared` said, in `seconds`. Returns whether the next step runs the same way
    /// (false: read `shared` again).
    func record(seconds: Double) -> Bool {
        phaseSeconds += seconds
        switch phase {
        case .probeShared:
            sharedTimes.append(seconds)
            guard probeDone(sharedTimes.count) else { return true }
            phase = .probeSolo
        case .probeSolo:
            soloTimes.append(seconds)
            guard probeDone(soloTimes.count) else { return true }
            decide()
            phase = .run
        case .run:
            guard phaseSeconds >= period else { return true }
            phase = .probeShared
        }
        phaseSeconds = 0
        return false
    }

    private func probeDone(_ steps: Int) -> Bool {
        steps >= Self.probeSteps.upperBound || (steps >= Self.probeSteps.lowerBound && phaseSeconds >= Self.probeSeconds)
    }

    private func decide() {
        let shared = Self.median(&sharedTimes), solo = Self.median(&soloTimes)
        sharing = shared < solo
        period = sharing && solo > 1.25 * shared ? min(2 * period, Self.longest) : Self.shortest
        probes += 1
        if sharing { sharedWins += 1 }
        sharedTimes.removeAll(keepingCapacity: true)
        soloTimes.removeAll(keepingCapacity: true)
    }

    private static func median(_ values: inout [Double]) -> Double {
        values.sort()
        return values[values.count / 2]
    }
}
