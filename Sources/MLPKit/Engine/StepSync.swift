// How threads sharing a step agree: a claim bit per block, a completion count per task, and waits that spin
// while spinning pays and sleep when it does not.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The shared state of one step's threads (see `StepPlan`): which blocks are taken, and how many blocks of each
/// task are done.
///
/// A thread that must wait for a task spins first, reading the task's count: when every thread has a core of its
/// own, the wait is a few microseconds and sleeping would cost more. After `spinLimit` polls (tens of
/// microseconds) it yields the core a few times, then sleeps on a condition variable that completions signal when
/// someone sleeps. So when the thread it waits for has lost its core (a busy machine, or a virtual machine whose
/// host takes a core away), a waiting thread gives its core up instead of burning it, and the step slows down
/// gently instead of collapsing.
final class StepSync: @unchecked Sendable {
    /// One bit per block: set when a thread takes the block.
    private var claims: UnsafeMutablePointer<Atomic<UInt64>>
    private var claimWords = 0
    /// Blocks done per task, each on its own cache line (`countStride` Ints apart).
    private var counts: UnsafeMutablePointer<Atomic<Int>>
    private var countSlots = 0
    private static let countStride = 8
    /// Threads asleep in `wait`.
    private let sleepers = Atomic<Int>(0)
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
        claims.deinitialize(count: claimWords)
        claims.deallocate()
        counts.deinitialize(count: countSlots)
        counts.deallocate()
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Clears the claims of blocks `blocks` and the counts of tasks `tasks` (growing the storage the first time a
    /// plan needs more). Call before the threads start.
    func reset(tasks: Range<Int>, blocks: Range<Int>) {
        let words = (blocks.upperBound + 63) / 64, slots = tasks.upperBound * Self.countStride
        if words > claimWords {
            claims.deinitialize(count: claimWords)
            claims.deallocate()
            claims = .allocate(capacity: words)
            for w in 0..<words { (claims + w).initialize(to: Atomic(0)) }
            claimWords = words
        }
        if slots > countSlots {
            counts.deinitialize(count: countSlots)
            counts.deallocate()
            counts = .allocate(capacity: slots)
            for c in 0..<slots { (counts + c).initialize(to: Atomic(0)) }
            countSlots = slots
        }
        if !blocks.isEmpty {
            for w in blocks.lowerBound / 64 ..< words { claims[w].store(0, ordering: .relaxed) }
        }
        for t in tasks { counts[t * Self.countStride].store(0, ordering: .relaxed) }
    }

    /// Takes block `block` for the calling thread; false when another thread has it.
    @inline(__always)
    func claim(_ block: Int) -> Bool {
        let bit = UInt64(1) << UInt64(block & 63)
        return claims[block >> 6].load(ordering: .relaxed) & bit == 0
            && claims[block >> 6].bitwiseOr(bit, ordering: .relaxed).oldValue & bit == 0
    }

    /// Records that a block of task `task` is done (its writes visible to whoever then sees the count).
    @inline(__always)
    func complete(_ task: Int) {
        counts[task * Self.countStride].add(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
        }
    }

    /// Whether `blocks` blocks of task `task` are done.
    @inline(__always)
    func isDone(_ task: Int, blocks: Int) -> Bool {
        counts[task * Self.countStride].load(ordering: .acquiring) >= blocks
    }

    /// Returns once `blocks` blocks of task `task` are done: spinning, then yielding, then asleep.
    func wait(for task: Int, blocks: Int) {
        if isDone(task, blocks: blocks) { return }
        var polls = 0
        while polls < spinLimit {
            if isDone(task, blocks: blocks) { return }
            polls += 1
        }
        for _ in 0..<Self.yields {
            sched_yield()
            if isDone(task, blocks: blocks) { return }
        }
        // Asleep: `complete` broadcasts whenever someone sleeps; the count is read again under the lock after
        // the sleeper is counted, so a completion cannot slip between the test and the sleep.
        sleepers.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        while counts[task * Self.countStride].load(ordering: .sequentiallyConsistent) < blocks {
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
        sync.reset(tasks: 0..<1, blocks: 0..<0)
        let clock = Stopwatch()
        forEachWorker(2) { worker in
            for turn in stride(from: worker, to: 2 * rounds, by: 2) {
                sync.wait(for: 0, blocks: turn)
                sync.complete(0)
            }
        }
        return clock.seconds / Double(2 * rounds)
    }
}
