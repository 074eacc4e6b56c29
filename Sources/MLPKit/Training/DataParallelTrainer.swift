// Mini-batch gradient descent with each batch cut into shards that worker threads process in parallel.

/// Trains a network by mini-batch gradient descent as the homework defines it: gradients SUMMED (not averaged)
/// over the batch, one step per batch.
///
/// Each batch is cut into shards of `shardRows` rows. The shard size depends only on the batch size and the
/// network, never on the thread count; every shard has its own preallocated workspace and gradient buffer,
/// and shard gradients are added in shard order. So for a given seed the trained weights are bit-identical
/// whatever `threads` is. Nothing is allocated per step.
public final class DataParallelTrainer {
    /// The network being trained (its parameters are updated in place).
    public let network: MLP
    /// Samples per step.
    public let batchSize: Int
    /// Worker threads used for shards and for the gradient reduction.
    public let threads: Int
    /// Rows per shard (the last shard of a short batch may have fewer).
    public let shardRows: Int
    /// Shards per full batch.
    public let shardCount: Int

    private let workspaces: [Workspace]
    private let shardGradients: [FloatBuffer]
    private let shardInputs: [FloatBuffer]
    private let shardTargets: [FloatBuffer]
    private let shardLosses: FloatBuffer

    /// A trainer for `network` with batches of `batchSize` samples on `threads` worker threads. `shardRows`
    /// overrides the automatic shard size (it must not be derived from `threads` if results are to repeat).
    public init(network: MLP, batchSize: Int, threads: Int, shardRows: Int? = nil) {
        precondition(batchSize > 0 && threads > 0 && (shardRows ?? 1) > 0)
        self.network = network
        self.batchSize = batchSize
        self.threads = threads
        let rows = min(batchSize, shardRows ?? Self.shardRows(batchSize: batchSize, parameters: network.parameterCount))
        let shards = (batchSize + rows - 1) / rows
        self.shardRows = rows
        shardCount = shards
        workspaces = (0..<shards).map { _ in network.makeWorkspace(capacity: rows) }
        shardGradients = (0..<shards).map { _ in FloatBuffer(count: network.parameterCount) }
        shardInputs = (0..<shards).map { _ in FloatBuffer(count: rows * network.inputSize) }
        shardTargets = (0..<shards).map { _ in FloatBuffer(count: rows * network.outputSize) }
        shardLosses = FloatBuffer(count: shards)
    }

    /// Rows per shard: enough work per shard (about 3 MFLOP, some 50 µs) for the fan-out to pay, and at
    /// most half a batch (so batches split in two at least) up to 32 rows (so kernels see full register
    /// blocks). Depends on the batch size and the network only.
    static func shardRows(batchSize: Int, parameters: Int) -> Int {
        let flopsPerRow = 6 * max(parameters, 1)                 // forward, dX and dW: 2 FLOPs per weight each
        let enoughWork = (3_000_000 + flopsPerRow - 1) / flopsPerRow
        let half = (batchSize + 1) / 2
        return min(batchSize, max(enoughWork, min(32, half)))
    }

    /// One step on the samples `indices` (at most `batchSize`) of `inputs` (rows of inputSize) against the same
    /// rows of `targets` (rows of outputSize): parameters −= learningRate × Σ gradients. Returns the summed loss.
    @discardableResult
    public func step(indices: ArraySlice<Int>, inputs: UnsafePointer<Float>, targets: UnsafePointer<Float>,
                     learningRate: Float) -> Double {
        precondition(indices.count <= batchSize && !indices.isEmpty)
        let rows = indices.count
        let shards = (rows + shardRows - 1) / shardRows
        let inputSize = network.inputSize, outputSize = network.outputSize
        let start = indices.startIndex
        let parameters = UnsafePointer(network.parameterBuffer.pointer)
        let workers = min(threads, shards)
        forEachWorker(workers) { worker in
            for shard in stride(from: worker, to: shards, by: workers) {
                let first = shard * shardRows, count = min(shardRows, rows - first)
                let x = shardInputs[shard].pointer, y = shardTargets[shard].pointer
                for r in 0..<count {
                    let sample = indices[start + first + r]
                    (x + r * inputSize).update(from: inputs + sample * inputSize, count: inputSize)
                    (y + r * outputSize).update(from: targets + sample * outputSize, count: outputSize)
                }
                let gradients = shardGradients[shard]
                gradients.zero()
                shardLosses.pointer[shard] = network.backwardPass(
                    x, targets: y, rows: count, workspace: workspaces[shard], gradients: gradients.pointer,
                    parameters: parameters)
            }
        }
        reduceAndStep(shards: shards, learningRate: learningRate)
        var loss = 0.0
        for shard in 0..<shards { loss += Double(shardLosses.pointer[shard]) }
        return loss
    }

    /// parameters[i] −= learningRate × (g₀[i] + g₁[i] + …), shards added in order; the parameter range is split
    /// into fixed blocks across the workers, so each element's sum is formed the same way on any thread count.
    private func reduceAndStep(shards: Int, learningRate: Float) {
        let count = network.parameterCount
        let p = network.parameterBuffer.pointer
        let blockSize = 16_384
        let blocks = (count + blockSize - 1) / blockSize
        let workers = shards == 1 || count < 4 * blockSize ? 1 : min(threads, blocks)
        shardGradients.withUnsafeBufferPointer { gradientBuffers in
            forEachWorker(workers) { worker in
                for block in stride(from: worker, to: blocks, by: workers) {
                    let lower = block * blockSize, upper = min(count, lower + blockSize)
                    reduceStepBlock(p, gradientBuffers, shards: shards, range: lower..<upper, learningRate: learningRate)
                }
            }
        }
    }
}

/// p[range] −= η × Σₛ gₛ[range], summing the shard buffers in order.
@inline(__always)
private func reduceStepBlock(_ p: UnsafeMutablePointer<Float>, _ gradients: UnsafeBufferPointer<FloatBuffer>,
                             shards: Int, range: Range<Int>, learningRate: Float) {
    let first = gradients[0].pointer
    for i in range {
        var sum = first[i]
        for s in 1..<shards { sum += gradients[s].pointer[i] }
        p[i] -= learningRate * sum
    }
}
