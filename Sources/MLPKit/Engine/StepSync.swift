// How threads sharing steps agree: a claim count per block, a completion count per task, and waits that spin
// while spinning pays and sleep when it does not.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The shared state of the threads running steps of a plan (see `StepRunner`): which blocks are taken, and how
/// many blocks of each task are done, over a run of steps.
///
/// Block b is claimed for step k by moving its claim count from k to k + 1, so the claims of the next step need
/// no clearing; a task's count of done blocks grows through the run, so task t is done for step k once it reaches
/// (k + 1) × its blocks. Two more counts (`slot(_:)` past the tasks') carry the steps released by the thread that
/// leads the run, and where the run stops.
///
/// A thread that must wait for a count spins first, reading it: when every thread has a core of its own, the wait
/// is a few microseconds and sleeping would cost more. After `spinLimit` polls (tens of microseconds) it yields
/// the core a few times, then sleeps on a condition variable that increments signal when someone sleeps. So when
/// the thread it waits for has lost its core (a busy machine, or a virtual machine whose host takes a core away),
/// a waiting thread gives its core up instead of burning it, and the step slows down gently instead of
/// collapsing.
final class StepSync: @unchecked Sendable {
    /// One count per block: the steps it has been claimed for.
    private var claims: UnsafeMutablePointer<Atomic<Int>>
    private var claimSlots = 0
    /// Per task (and the extra slots): a count, each on its own cache line (`countStride` Ints apart).
    private var counts: UnsafeMutablePointer<Atomic<Int>>
    private var countSlots = 0
    private static let countStride = 8
    /// Threads asleep in `wait`.
    private let sleepers = Atomic<Int>(0)
    /// Whether a thread leads the fan-out in progress.
    private let lead = Atomic<Bool>(false)
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    /// Polls before a waiting thread starts yielding.
    var spinLimit = 20_000
    /// Times a waiting thread yields its core before it sleeps.
    static let yields = 8

    init() {
        claims = .allocate(capacity: 1)
        counts = .allocate(capacity: 1)
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        claims.deinitialize(count: claimSlots)
        claims.deallocate()
        counts.deinitialize(count: countSlots)
        counts.deallocate()
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Zeroes the claims of `blocks` blocks and the counts of `tasks` tasks and the extra slots (growing the
    /// storage the first time a plan needs more). Call before the threads start.
    func reset(tasks: Int, blocks: Int) {
        Self.grow(&claims, slots: &claimSlots, to: blocks)
        Self.grow(&counts, slots: &countSlots, to: (tasks + Self.extraSlots) * Self.countStride)
        for b in 0..<blocks { claims[b].store(0, ordering: .relaxed) }
        for t in 0..<(tasks + Self.extraSlots) { counts[t * Self.countStride].store(0, ordering: .relaxed) }
    }

    /// Lets the next `takeLead` succeed (before a fan-out).
    func resetLead() { lead.store(false, ordering: .relaxed) }

    /// True for the first caller since `resetLead`.
    func takeLead() -> Bool { !lead.exchange(true, ordering: .relaxed) }

    /// Makes `storage` (of `slots` counts) hold at least `needed`.
    private static func grow(_ storage: inout UnsafeMutablePointer<Atomic<Int>>, slots: inout Int, to needed: Int) {
        guard needed > slots else { return }
        storage.deinitialize(count: slots)
        storage.deallocate()
        storage = .allocate(capacity: needed)
        for i in 0..<needed { (storage + i).initialize(to: Atomic(0)) }
        slots = needed
    }

    /// Counts past the tasks' own, for the run's bookkeeping.
    static let extraSlots = 2

    /// Takes block `block` for step `step` (of the run) for the calling thread; false when another thread has it.
    @inline(__always)
    func claim(_ block: Int, step: Int) -> Bool {
        claims[block].load(ordering: .relaxed) == step
            && claims[block].compareExchange(expected: step, desired: step + 1, ordering: .relaxed).exchanged
    }

    /// The count of slot `slot` (a task's index, or `tasks + i` for extra slot i).
    @inline(__always)
    func count(_ slot: Int) -> Int {
        counts[slot * Self.countStride].load(ordering: .acquiring)
    }

    /// Adds 1 to slot `slot`'s count (a task's block is done: its writes become visible to whoever then sees the
    /// count).
    @inline(__always)
    func increment(_ slot: Int) {
        counts[slot * Self.countStride].add(1, ordering: .sequentiallyConsistent)
        wakeSleepers()
    }

    /// Sets slot `slot`'s count to `value` (publishing what was written before).
    func set(_ slot: Int, to value: Int) {
        counts[slot * Self.countStride].store(value, ordering: .sequentiallyConsistent)
        wakeSleepers()
    }

    @inline(__always)
    private func wakeSleepers() {
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
    }

    /// Returns once slot `slot`'s count is at least `target`: spinning, then yielding, then asleep.
    func wait(for slot: Int, reaching target: Int) {
        if count(slot) >= target { return }
        var polls = 0
        while polls < spinLimit {
            if count(slot) >= target { return }
            polls += 1
        }
        for _ in 0..<Self.yields {
            sched_yield()
            if count(slot) >= target { return }
        }
        // Asleep: increments broadcast whenever someone sleeps; the count is read again under the lock after the
        // sleeper is counted, so an increment cannot slip between the test and the sleep.
        sleepers.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        while counts[slot * Self.countStride].load(ordering: .sequentiallyConsistent) < target {
            pthread_cond_wait(condition, mutex)
        }
        pthread_mutex_unlock(mutex)
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
    }

    /// The seconds one hand-over between two threads takes: thread A finishes a block, and thread B, waiting for
    /// it, starts (the cost of a task boundary in `StepProfile.span`). Measured by two threads passing a count
    /// back and forth `rounds` times.
    static func handOverSeconds(rounds: Int = 20_000) -> Double {
        let sync = StepSync()
        sync.reset(tasks: 1, blocks: 0)
        let clock = Stopwatch()
        forEachWorker(2) { worker in
            for turn in stride(from: worker, to: 2 * rounds, by: 2) {
                sync.wait(for: 0, reaching: turn)
                sync.increment(0)
            }
        }
        return clock.seconds / Double(2 * rounds)
    }
}
