// Threads sharing one layer: fixed blocks of outputs or inputs, so the bits never depend on the thread count.

/// How threads share one layer's work (see `SharedPass`): fixed blocks of `size` outputs (or inputs), the same
/// for any number of threads, each computed the same way by whichever thread takes it (the kernels form every
/// element the same way whatever the block, for bounds that are multiples of 24). So the bits never depend on
/// the thread count.
enum LayerBlocks {
    /// Outputs or inputs per block: a multiple of 24 (the kernels' widest strip), small enough that a layer
    /// of 512 splits into 11 blocks (even shares for 2 workers), large enough that a block is tens of thousands
    /// of FMAs at batch 16.
    static let size = 48
    /// Below this many FMAs in a layer (rows × inputs × outputs), it runs on the calling thread: the fan-out
    /// costs more than it saves.
    static let minimumWork = 1 << 16
}
