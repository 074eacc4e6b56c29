// The shard exchange over MPI: each shard's gradient broadcast by the rank that computed it, losses and stop
// requests agreed in one small allreduce, and a watchdog for ranks that stop answering.
#if MPI
import CMPI
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MLPKit
import Synchronization

/// Training across MPI ranks (`mpirun -np P mlp-train …`). Every rank computes its block of each batch's shards;
/// then, per shard, the rank that computed it broadcasts what the update needs of it (its gradient, and with a
/// sparse first layer that layer's dL/dz; in pieces of at most 4 MB), so every rank holds every shard's results
/// and takes the update from them in shard order as one process would: the weights are bit-identical for any
/// number of ranks and threads. Losses and stop requests (SIGINT/SIGTERM reach every rank through
/// `mpirun`) travel in one small allreduce, so all ranks stop after the same step.
///
/// MPI is called from the thread that trains only (`MPI_THREAD_FUNNELED`). A rank that exits or crashes makes
/// `mpirun` end the job; a rank that hangs is caught by a watchdog: when one exchange has waited `timeout`
/// seconds, this rank prints why and exits with status 3, and `mpirun` ends the others.
package final class MPIExchange: ClusterExchange, @unchecked Sendable {
    package let rank: Int
    package let count: Int
    /// Seconds one exchange may wait for the other ranks before the job is ended.
    package let timeout: Double
    private let comm: MPI_Comm
    private let stop: StopRequest?
    /// When the exchange in progress started (`DispatchTime` nanoseconds; 0: none), for the watchdog.
    private let waitingSince = Atomic<UInt64>(0)
    /// Time spent in exchanges, and their number.
    package private(set) var seconds = 0.0
    package private(set) var exchanges = 0
    package private(set) var bytes = 0
    private var small: [Float] = []

    /// Joins the ranks `mpirun` started (MPI_Init_thread) and starts the watchdog; `stop` is shared with them.
    package init(stop: StopRequest?, timeout: Double) throws {
        var provided: Int32 = 0
        guard MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided) == MPI_SUCCESS else {
            throw MLPError("MPI_Init_thread failed: cannot join the other ranks")
        }
        comm = cmpi_comm_world()
        MPI_Comm_set_errhandler(comm, cmpi_errors_return())
        var r: Int32 = 0, s: Int32 = 0
        MPI_Comm_rank(comm, &r)
        MPI_Comm_size(comm, &s)
        rank = Int(r)
        count = Int(s)
        self.stop = stop
        self.timeout = timeout
        startWatchdog()
    }

    package func exchange(regions: UnsafePointer<ShardRegion>, perShard: Int, losses: UnsafeMutablePointer<Float>,
                          shards: Int) {
        let clock = Stopwatch()
        waitingSince.store(DispatchTime.now().uptimeNanoseconds, ordering: .releasing)
        defer {
            waitingSince.store(0, ordering: .releasing)
            seconds += clock.seconds
            exchanges += 1
        }
        // Each shard's regions from the rank that computed it (ranks hold contiguous blocks of shards).
        for rank in 0..<count {
            for shard in shardBlock(rank, of: count, shards: shards) {
                for region in regions + shard * perShard ..< regions + (shard + 1) * perShard {
                    broadcast(region.pointee.start, count: region.pointee.count, root: rank)
                    bytes += 4 * region.pointee.count
                }
            }
        }
        // Losses (−∞ where another rank computed the shard) and stop requests, by one MAX allreduce.
        let mine = shardBlock(rank, of: count, shards: shards)
        if small.count != shards + 1 { small = [Float](repeating: 0, count: shards + 1) }
        for shard in 0..<shards { small[shard] = mine.contains(shard) ? losses[shard] : -.infinity }
        small[shards] = Float(stop?.signal ?? 0)
        let status = small.withUnsafeMutableBufferPointer {
            MPI_Allreduce(cmpi_in_place(), $0.baseAddress, Int32(shards + 1), cmpi_float(), cmpi_op_max(), comm)
        }
        check(status, "agreeing on the losses")
        for shard in 0..<shards { losses[shard] = small[shard] }
        let signal = Int32(small[shards])
        if signal > 0, let stop, stop.signal == nil { _ = stop.request(signal: signal) }
    }

    package func broadcast(_ values: UnsafeMutablePointer<Float>, count: Int) {
        broadcast(values, count: count, root: 0)
    }

    /// `values` from `root` to every rank, in pieces of at most 4 MB.
    private func broadcast(_ values: UnsafeMutablePointer<Float>, count: Int, root: Int) {
        let piece = 1 << 20
        for start in stride(from: 0, to: count, by: piece) {
            let status = MPI_Bcast(values + start, Int32(min(piece, count - start)), cmpi_float(), Int32(root), comm)
            check(status, "receiving shard gradients from rank \(root)")
        }
    }

    /// Ends the job with MPI's message when a call failed (another rank is gone, most likely).
    private func check(_ status: Int32, _ doing: @autoclosure () -> String) {
        guard status != MPI_SUCCESS else { return }
        var text = [CChar](repeating: 0, count: Int(MPI_MAX_ERROR_STRING) + 1)
        var length: Int32 = 0
        MPI_Error_string(status, &text, &length)
        let message = String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        Self.say("mlp-train rank \(rank): MPI failed while \(doing()): \(message); ending the job\n")
        MPI_Abort(comm, 3)
        _exit(3)
    }

    /// A thread that ends the job when an exchange has waited longer than `timeout` (a rank that hangs).
    private func startWatchdog() {
        let waiting = UncheckedBox(self)
        let thread = Thread {
            while true {
                sleep(1)
                let since = waiting.value.waitingSince.load(ordering: .acquiring)
                let waited = Double(DispatchTime.now().uptimeNanoseconds &- since) / 1e9
                if since > 0, waited > waiting.value.timeout {
                    Self.say("mlp-train rank \(waiting.value.rank): no answer from the other ranks for "
                             + "\(Int(waiting.value.timeout)) s during a gradient exchange (a rank has hung or "
                             + "died); ending the job\n")
                    _exit(3)
                }
            }
        }
        thread.start()
    }

    /// Leaves MPI (at the end of the program).
    package func finish() {
        waitingSince.store(0, ordering: .releasing)
        MPI_Finalize()
    }

    private static func say(_ text: String) {
        _ = text.withCString { write(STDERR_FILENO, $0, strlen($0)) }
    }
}

/// A reference handed to the watchdog thread.
private final class UncheckedBox<Value: AnyObject>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
#endif
