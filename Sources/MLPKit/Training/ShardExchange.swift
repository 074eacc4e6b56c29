// Training one batch across processes: which shards this process computes, and the exchange that gives every
// process every shard's results.

/// Other processes training the same network on the other shards of every batch (MPI ranks, for instance).
///
/// Each batch is cut into the same shards as in one process; this process computes `shards(of:)`, a contiguous
/// block of them, and `exchange` then fills in every other shard's results (its regions: its gradient, and with a
/// sparse first layer that layer's dL/dz) and loss from the process that computed it. Every process then takes
/// the same update from all the shards in shard order, so the weights are bit-identical to a one-process run's,
/// for any number of processes and threads.
package protocol ShardExchange: AnyObject, Sendable {
    /// This process's index, 0 ..< `count`.
    var rank: Int { get }
    /// Processes taking part.
    var count: Int { get }
    /// The shards of a batch of `shards` that this process computes.
    func shards(of shards: Int) -> Range<Int>
    /// Makes every process's regions of shard s (`regions[s·perShard ..< (s + 1)·perShard]`) and `losses[s]`,
    /// for s in 0 ..< `shards`, the values of the process that computed shard s. Ends the job with a clear
    /// message when another process has gone; also agrees on stopping (a stop requested in any process is
    /// requested in all, at this step).
    func exchange(regions: UnsafePointer<ShardRegion>, perShard: Int, losses: UnsafeMutablePointer<Float>,
                  shards: Int)
    /// Makes every process's `values` those of process 0 (the initial weights).
    func broadcast(_ values: UnsafeMutablePointer<Float>, count: Int)
}

/// Floats a shard's pass leaves for the update, which the process that computed the shard sends to the others.
package struct ShardRegion {
    package let start: UnsafeMutablePointer<Float>
    package let count: Int
}

extension ShardExchange {
    /// This process's block: `shardBlock(rank, of: count, shards:)`.
    package func shards(of shards: Int) -> Range<Int> { shardBlock(rank, of: count, shards: shards) }
}

/// The shards that process `rank` of `count` computes out of `shards`: contiguous blocks as even as possible, the
/// first `shards % count` processes taking one more (a process may have none when there are fewer shards).
package func shardBlock(_ rank: Int, of count: Int, shards: Int) -> Range<Int> {
    let base = shards / count, extra = shards % count
    let start = rank * base + min(rank, extra)
    return start ..< start + base + (rank < extra ? 1 : 0)
}
