// Threads sharing one layer: fixed blocks of outputs or inputs, so the bits never depend on the thread count.

/// How the worker threads share one layer's work: fixed blocks of `size` outputs (or inputs), the same for any
/// number of workers, each computed the same way by whichever worker takes it (the kernels form every element
/// the same way whatever the block, for bounds that are multiples of 24). So the bits never depend on the
/// thread count. Blocks are dealt out in a fixed stride, so a worker takes the same rows of W in the forward pass
/// and in the update, and finds them in its own cache.
enum LayerBlocks {
    /// Outputs or inputs per block: a multiple of 24 (the kernels' widest strip), small enough that a layer
    /// of 512 splits into 11 blocks (even shares for 2 workers), large enough that a block is tens of thousands
    /// of FMAs at batch 16.
    static let size = 48
    /// Below this many FMAs in a layer (rows × inputs × outputs), it runs on the calling thread: the fan-out
    /// costs more than it saves.
    static let minimumWork = 1 << 16

    /// Calls `body` with each block of 0..<count, spread over `workers` threads; inline, as one block, for one
    /// worker or when the layer's `work` (its FMAs) is too little to share.
    static func run(_ count: Int, work: Int, workers: Int, _ body: (Range<Int>) -> Void) {
        let blocks = (count + size - 1) / size
        guard workers > 1, blocks > 1, work >= minimumWork else {
            body(0..<count)
            return
        }
        let shares = min(workers, blocks)
        forEachWorker(shares) { worker in
            var block = worker
            while block < blocks {
                body(block * size ..< min(count, (block + 1) * size))
                block += shares
            }
        }
    }
}
