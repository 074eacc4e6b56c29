// Mini-batch gradient descent with each batch cut into shards that worker threads process in parallel.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Trains a network by mini-batch gradient descent as the homework defines it: gradients SUMMED (not averaged)
/// over the batch, one step per batch.
///
/// Each batch is cut into shards of `shardRows` rows. The shard size depends only on the batch size and the
/// network, never on the thread count; every shard has its own preallocated workspace and gradient buffer,
/// and shard gradients are added in shard order. So for a given seed the trained weights are bit-identical
/// whatever `threads` is. Nothing is allocated per step.
///
/// With plain SGD the step is fused: a single shard steps in place inside backpropagation, and several shards
/// are summed and stepped in one pass. Any other optimizer gets the summed gradient of every parameter and
/// applies its rule block by block (the dense path; the sparse first layer is SGD-only).
package final class DataParallelTrainer {
    /// The network being trained (its parameters are updated in place).
    package let network: MLP
    /// Samples per step.
    package let batchSize: Int
    /// Worker threads used for shards and for the gradient reduction.
    package let threads: Int
    /// Rows per shard (the last shard of a short batch may have fewer).
    package let shardRows: Int
    /// Shards per full batch.
    package let shardCount: Int
    /// The update rule's state; nil for plain SGD, which takes the fused paths.
    let optimizer: OptimizerState?

    private let workspaces: [Workspace]
    private let shardGradients: [FloatBuffer]
    private let shardInputs: [FloatBuffer]
    private let shardTargets: [FloatBuffer]
    private let shardLosses: FloatBuffer
    /// shardGradients[s].pointer for every s, so the reduction reads plain pointers.
    private let gradientPointers: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    /// The sparse first layer, when the inputs have a background value; then each shard also keeps its
    /// inputs in compressed-column form and its first layer's dL/dz (in its workspace) until the step.
    let sparse: SparseFirstLayer?
    private let sparseBatches: [SparseBatch]
    private let firstLayerDeltas: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    /// The pass the threads share when a batch is one shard.
    private let sharedPass = SharedPass()
    /// Whether a lone shard is shared among the threads, step by step, from measured times.
    let sharing = SharingChooser()
    /// Other processes computing the other shards of each batch (MPI ranks); nil: this process computes all.
    package var exchange: (any ShardExchange)?
    /// Threads that share a lone shard: no more than the processors, since they spin while they wait for each
    /// other (tests raise it to check that any number gives the same bits).
    package var sharingWorkers: Int

    /// A trainer for `network` with batches of `batchSize` samples on `threads` worker threads. `shardRows`
    /// overrides the automatic shard size (it must not be derived from `threads` if results are to repeat).
    ///
    /// `inputBackground` c, when most inputs equal c (MNIST's background), trains the first layer on the
    /// inputs that differ from c only (`SparseFirstLayer`): the same gradient descent up to float rounding,
    /// with a fraction of the first layer's work. The layer writes the network's first-layer weights back
    /// whenever the network is read. `optimizer` (nil: plain SGD) selects the dense path with that rule.
    package init(network: MLP, batchSize: Int, threads: Int, shardRows: Int? = nil, inputBackground: Float? = nil,
                 optimizer: OptimizerState? = nil) {
        precondition(batchSize > 0 && threads > 0 && (shardRows ?? 1) > 0)
        precondition(optimizer == nil || inputBackground == nil, "the sparse first layer is SGD-only")
        self.network = network
        self.optimizer = optimizer
        sharingWorkers = min(threads, Self.processors)
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
        gradientPointers = .allocate(capacity: shards)
        for s in 0..<shards { gradientPointers[s] = shardGradients[s].pointer }
        sparse = inputBackground.map { SparseFirstLayer(network: network, background: $0) }
        sparseBatches = sparse.map { layer in
            (0..<shards).map { _ in SparseBatch(capacity: rows, inputs: network.inputSize, width: layer.stride) }
        } ?? []
        firstLayerDeltas = .allocate(capacity: shards)
        firstLayerDeltas.initialize(repeating: shardGradients[0].pointer, count: shards)
    }

    deinit {
        gradientPointers.deallocate()
        firstLayerDeltas.deallocate()
    }

    /// Whether the first layer is trained on the non-background inputs only (see `init`).
    package var hasSparseFirstLayer: Bool { sparse != nil }

    /// Call at the start of every epoch: a sparse first layer starts afresh from the trained W.
    package func restartSparseFirstLayer() { sparse?.restart() }

    /// Rows per shard: at least 16, and half the batch up to 128 rows (so batches of 32 or more split in two at
    /// least, and large ones into 128-row shards). Each shard streams all the weights (4.5 MB for the
    /// autoencoder) from L3 twice and writes a gradient buffer as large, and at these sizes the kernels are
    /// limited by that traffic, so fewer, larger shards train faster: on the autoencoder (2 shared cores),
    /// batch 16 in one shard (which steps in place, see `step`) beat two shards of 8 even on 2 threads, and
    /// batch 256 in shards of 128 beat 64 and 32. Depends on the batch size only (`parameters` is kept so
    /// the rule can grow a network term), never on the thread count.
    package static func shardRows(batchSize: Int, parameters: Int) -> Int {
        min(batchSize, max(16, min(128, (batchSize + 1) / 2)))
    }

    /// One step on the samples `indices` (at most `batchSize`) of `inputs` (rows of inputSize) against the same
    /// rows of `targets` (rows of outputSize): parameters −= learningRate × Σ gradients. Returns the summed loss.
    @discardableResult
    package func step(indices: ArraySlice<Int>, inputs: UnsafePointer<Float>, targets: UnsafePointer<Float>,
                      learningRate: Float) -> Double {
        precondition(indices.count <= batchSize && !indices.isEmpty)
        let rows = indices.count
        let shards = (rows + shardRows - 1) / shardRows
        let start = indices.startIndex
        let parameters = UnsafePointer(network.parameterBuffer.pointer)
        sparse?.changed = true
        if shards == 1 && optimizer == nil && exchange == nil {
            // One shard: the step goes straight into the parameters, layer by layer as backpropagation reaches
            // it (no gradient buffer, no reduction). Same bits as overwrite + sumAndStep over one buffer.
            // Every thread works inside the one shard (`SharedPass`), the sparse first layer's step included; no
            // more threads than processors, since the threads spin while they wait for each other.
            // Whether sharing pays is measured as training goes (`SharingChooser`): the bits are the same.
            let workers = sharingWorkers
            let shared = workers > 1 && sharing.begin()
            let loss = shardPass(0, indices: indices[start..<(start + rows)], inputs: inputs, targets: targets,
                                 gradients: network.parameterBuffer.pointer, parameters: parameters,
                                 write: .descend(learningRate: learningRate),
                                 workers: shared ? workers : 1, sparseStep: learningRate)
            if workers > 1 { sharing.finish() }
            return Double(loss)
        }
        // This process's shards: all of them, or its block when other processes compute the rest.
        let mine = exchange?.shards(of: shards) ?? 0..<shards
        let workers = min(threads, mine.count)
        forEachWorker(workers) { worker in
            for shard in stride(from: mine.lowerBound + worker, to: mine.upperBound, by: workers) {
                let first = start + shard * shardRows, count = min(shardRows, rows - shard * shardRows)
                // Overwrites every gradient of the shard's buffer, so it is never zeroed.
                shardLosses.pointer[shard] = shardPass(shard, indices: indices[first..<(first + count)],
                                                       inputs: inputs, targets: targets,
                                                       gradients: gradientPointers[shard], parameters: parameters,
                                                       write: .overwrite, workers: 1)
            }
        }
        exchange?.exchange(gradients: UnsafePointer(gradientPointers), parameters: network.parameterCount,
                           losses: shardLosses.pointer, shards: shards)
        if let optimizer {
            reduceAndUpdate(shards: shards, optimizer: optimizer, learningRate: learningRate)
        } else {
            reduceAndStep(shards: shards, learningRate: learningRate)
        }
        var loss = 0.0
        for shard in 0..<shards { loss += Double(shardLosses.pointer[shard]) }
        return loss
    }

    /// Forward and backward passes of one shard (the samples `indices`) with `write` applied to `gradients`;
    /// with a sparse first layer, that layer's dL/dz is left in `firstLayerDeltas[shard]` for the caller.
    /// Returns the shard's summed loss.
    private func shardPass(_ shard: Int, indices: ArraySlice<Int>, inputs: UnsafePointer<Float>,
                           targets: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                           parameters: UnsafePointer<Float>, write: GradientWrite, workers: Int,
                           sparseStep: Float? = nil) -> Float {
        let inputSize = network.inputSize, outputSize = network.outputSize
        let rows = indices.count, start = indices.startIndex
        let workspace = workspaces[shard]
        let y = shardTargets[shard].pointer
        for r in 0..<rows {
            (y + r * outputSize).update(from: targets + indices[start + r] * outputSize, count: outputSize)
        }
        guard let sparse else {
            let x = shardInputs[shard].pointer
            for r in 0..<rows {
                (x + r * inputSize).update(from: inputs + indices[start + r] * inputSize, count: inputSize)
            }
            if workers > 1 {
                return sharedPass.run(network, x: x, targets: y, rows: rows, workspace: workspace,
                                               gradients: gradients, parameters: parameters, write: write,
                                               sparse: nil, sparseStep: nil, workers: workers).loss
            }
            return network.backwardPass(x, targets: y, rows: rows, workspace: workspace, gradients: gradients,
                                        parameters: parameters, write: write)
        }
        let batch = sparseBatches[shard]
        if workers > 1 {
            // The pass loads the batch itself, in blocks.
            for r in 0..<rows { batch.sources[r] = inputs + indices[start + r] * inputSize }
            batch.begin(rows: rows, background: sparse.background)
            let (loss, delta) = sharedPass.run(
                network, x: UnsafePointer(workspace.activations[0].pointer), targets: y, rows: rows,
                workspace: workspace, gradients: gradients, parameters: parameters, write: write,
                sparse: (sparse, batch), sparseStep: sparseStep, workers: workers)
            firstLayerDeltas[shard] = delta
            return loss
        }
        batch.load(rows: rows, background: sparse.background) { r in inputs + indices[start + r] * inputSize }
        let (loss, delta) = network.sparsePass(sparse, batch, targets: y, workspace: workspace, gradients: gradients,
                                               parameters: parameters, write: write)
        if let sparseStep {
            sparse.descend(delta: delta, batch: batch, learningRate: sparseStep, outputs: 0..<network.layers[0].outputSize)
        }
        firstLayerDeltas[shard] = delta
        return loss
    }

    /// Processors online: the most threads that share one shard.
    static let processors = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))

    /// Networks with fewer parameters than this reduce on one worker: the fan-out costs more than it saves.
    static let parallelReductionMinimum = 4 * reductionBlock

    /// Parameters per block of the reduction: a multiple of the kernel's 32-float stride. Blocks are fixed by
    /// the network, never by the thread count.
    static let reductionBlock = 16_384

    /// parameters[i] −= learningRate × (g₀[i] + g₁[i] + …), shards added in order; the parameter range is split
    /// into fixed blocks across the workers, so each element's sum is formed the same way on any thread count.
    /// A sparse first layer takes its step here too, shard after shard, its outputs split into fixed blocks.
    private func reduceAndStep(shards: Int, learningRate: Float) {
        let count = network.parameterCount
        let denseStart = sparse == nil ? 0 : (network.layers.count > 1 ? network.layers[1].weightOffset : count)
        let p = network.parameterBuffer.pointer
        let g = UnsafePointer(gradientPointers)
        let blockSize = Self.reductionBlock
        let denseBlocks = (count - denseStart + blockSize - 1) / blockSize
        let sparseOutputs = sparse == nil ? 0 : network.layers[0].outputSize
        let outputBlock = 96      // a multiple of 48, the step's widest strip (see SparseFirstLayer.descend)
        let sparseBlocks = (sparseOutputs + outputBlock - 1) / outputBlock
        let blocks = denseBlocks + sparseBlocks
        let workers = count < Self.parallelReductionMinimum ? 1 : min(threads, blocks)
        forEachWorker(workers) { worker in
            for block in stride(from: worker, to: blocks, by: workers) {
                if block < denseBlocks {
                    let lower = denseStart + block * blockSize, upper = min(count, lower + blockSize)
                    sumAndStep(p, g, shards: shards, start: lower, count: upper - lower, scale: learningRate)
                } else if let sparse {
                    let lower = (block - denseBlocks) * outputBlock, upper = min(sparseOutputs, lower + outputBlock)
                    for shard in 0..<shards {
                        sparse.descend(delta: firstLayerDeltas[shard], batch: sparseBatches[shard],
                                       learningRate: learningRate, outputs: lower..<upper)
                    }
                }
            }
        }
    }

    /// The summed gradient g = g₀ + g₁ + … (shards added in order, into g₀), then the optimizer's rule, block by
    /// fixed block across the workers: each element is formed the same way on any thread count.
    private func reduceAndUpdate(shards: Int, optimizer: OptimizerState, learningRate: Float) {
        let count = network.parameterCount
        let p = network.parameterBuffer.pointer
        let g = UnsafePointer(gradientPointers)
        let blockSize = Self.reductionBlock
        let blocks = (count + blockSize - 1) / blockSize
        let workers = count < Self.parallelReductionMinimum ? 1 : min(threads, blocks)
        optimizer.beginStep()
        let rule = optimizer.rule(learningRate: learningRate)
        forEachWorker(workers) { worker in
            for block in stride(from: worker, to: blocks, by: workers) {
                let lower = block * blockSize, upper = min(count, lower + blockSize)
                applyUpdate(rule, p, range: lower..<upper, shards: g, count: shards)
            }
        }
    }
}
