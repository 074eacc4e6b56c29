// Runs `StepPlan`s: each shard's buffers, the code of every kind of block, and the threads that share them.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The memory of mini-batch steps and the threads that run them: buffers for each shard of up to `shardRows`
/// rows, allocated once; the plans of the batch shapes met so far; and what each kind of block does.
///
/// `run` starts T workers with `DispatchQueue.concurrentPerform` (no more than the processors, which is all it
/// runs at once). Each walks the plan's tasks in order; in each
/// task it first runs the blocks it owns (block b of a task belongs to worker b mod T, so a layer's rows of W are
/// read by one core's forward pass and dL/dx, and written by the same core's update), then takes any block still
/// unclaimed, from the last down. Before a block starts, the tasks it reads from are done (`StepSync`). A worker
/// that starts late, or is descheduled (a busy machine), stalls no one for long: its unclaimed blocks are taken by
/// the others, and threads waiting for a block it holds stop spinning and sleep until it is done.
final class StepRunner: @unchecked Sendable {
    /// Rows per full shard.
    let shardRows: Int
    /// Shards of a full batch.
    let shardCount: Int
    /// The sparse first layer, when the inputs have a background value.
    let sparse: SparseFirstLayer?
    private let workspaces: [Workspace]
    /// Each shard's inputs (dense first layer) and targets, rows × inputSize and rows × outputSize.
    private let inputs: [FloatBuffer]
    private let targets: [FloatBuffer]
    /// Each shard's sparse batch.
    private let batches: [SparseBatch]
    /// Each layer's dropout rate, and for each shard and layer with dropout its mask and its inputs through it
    /// (`dropped[s][l]`; empty for layers without).
    private let dropoutRates: [Float]
    private let masks: [[FloatBuffer]]
    private let dropped: [[FloatBuffer]]
    /// With clipping: each output row's sum of squares of its gradient (layer by layer, `rowSlots[l]` the first
    /// of layer l's), and the factor the step's update takes.
    private let rowSquares: UnsafeMutablePointer<Double>
    private let rowSlots: [Int]
    private var clipFactor: Float = 1
    /// Each shard's gradient buffer, made when a plan first writes one (several shards, or other processes).
    private var gradients: [FloatBuffer] = []
    private let gradientPointers: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    /// Each shard's dL/dx parts, and each worker's gradient scratch (fused rules), grown as plans need.
    private var parts: [FloatBuffer]
    private var partPointers: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    private var scratch: [FloatBuffer] = []
    private var scratchPointers: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    /// Each shard's summed loss.
    private let losses: FloatBuffer
    private let sync = StepSync()
    /// The plans met so far, by the rows of the batch (a full batch, and an epoch's last, shorter one) and
    /// whether workers share them.
    private var plans: [Int: StepPlan] = [:]
    /// What each shard's pass leaves for other processes (its dense gradient; with a sparse first layer, that
    /// layer's dL/dz), `regionsPerShard` per shard.
    private var regions: [ShardRegion] = []
    private(set) var regionsPerShard = 0
    /// The step whose blocks run now (set by the leader between steps).
    private var current: Step?
    /// The workers of the run in progress.
    private var workersInRun = 1
    /// When set, every block's seconds are added here (indexed by block number), for `StepProfile`.
    var blockSeconds: UnsafeMutablePointer<Double>?
    /// The most workers that run: the processors (tests raise it, to see more workers share the blocks).
    var workerLimit = DataParallelTrainer.processors
    /// The order in which a worker takes the blocks of a task (tests change it: the bits must not change).
    var blockOrder = BlockOrder.ownFirst
    /// Shards of fewer rows form dL/dx from parts (`StepPlan.partsBelowRows`; tests change it: same bits).
    var partsBelowRows = StepPlan.partsBelowRows

    /// How a worker walks a task's blocks.
    enum BlockOrder: Equatable {
        /// Its own blocks (b mod T), then any left from the last down.
        case ownFirst
        /// Every block from the last down.
        case reversed
        /// Every block in an order drawn from this seed, another for each task and worker.
        case shuffled(seed: UInt64)
    }

    /// Buffers for `network` and shards of up to `shardRows` rows, `shardCount` of them.
    init(network: MLP, shardRows: Int, shardCount: Int, sparse: SparseFirstLayer?) {
        self.shardRows = shardRows
        self.shardCount = shardCount
        self.sparse = sparse
        workspaces = (0..<shardCount).map { _ in network.makeWorkspace(capacity: shardRows) }
        inputs = sparse != nil ? [] : (0..<shardCount).map { _ in FloatBuffer(count: shardRows * network.inputSize) }
        targets = (0..<shardCount).map { _ in FloatBuffer(count: shardRows * network.outputSize) }
        batches = sparse.map { layer in
            (0..<shardCount).map { _ in SparseBatch(capacity: shardRows, inputs: network.inputSize, width: layer.stride) }
        } ?? []
        let layers = network.layers
        dropoutRates = layers.map(\.dropout)
        func dropoutBuffers() -> [[FloatBuffer]] {
            (0..<shardCount).map { _ in
                layers.map { FloatBuffer(count: $0.dropout > 0 ? shardRows * $0.inputSize : 0) }
            }
        }
        masks = dropoutBuffers()
        dropped = dropoutBuffers()
        rowSlots = layers.indices.map { l in layers[..<l].reduce(0) { $0 + $1.outputSize } }
        rowSquares = .allocate(capacity: layers.reduce(0) { $0 + $1.outputSize })
        gradientPointers = .allocate(capacity: shardCount)
        parts = (0..<shardCount).map { _ in FloatBuffer(count: 0) }
        partPointers = .allocate(capacity: shardCount)
        for s in 0..<shardCount { partPointers[s] = parts[s].pointer }
        scratchPointers = .allocate(capacity: 1)
        losses = FloatBuffer(count: shardCount)
    }

    deinit {
        gradientPointers.deallocate()
        partPointers.deallocate()
        scratchPointers.deallocate()
        rowSquares.deallocate()
    }

    /// The plan for a batch of `rows` rows, shared among workers or for one, its gradient clipped by its norm
    /// or not (made the first time, then kept).
    func plan(rows: Int, network: MLP, update: StepPlan.Update, exchange: (any ShardExchange)?,
              clipped: Bool = false, shared: Bool) -> StepPlan {
        let key = 4 * rows + (clipped ? 2 : 0) + (shared ? 1 : 0)
        if let plan = plans[key] { return plan }
        let shards = (rows + shardRows - 1) / shardRows
        precondition(shards <= shardCount, "a batch of \(rows) rows needs more than \(shardCount) shards")
        let shardSizes = (0..<shards).map { min(shardRows, rows - $0 * shardRows) }
        let plan = StepPlan(layers: network.layers, inputSize: network.inputSize, rows: shardSizes,
                            computed: exchange?.shards(of: shards) ?? 0..<shards, sparse: sparse != nil,
                            update: update, exchanged: exchange != nil, clipped: clipped, shared: shared,
                            partsBelowRows: partsBelowRows)
        if !plan.fused && update != .accumulate { makeGradients(network: network) }
        for s in 0..<shardCount where parts[s].count < plan.partsFloats {
            parts[s] = FloatBuffer(count: plan.partsFloats)
            partPointers[s] = parts[s].pointer
        }
        plans[key] = plan
        return plan
    }

    /// One step's numbers, fixed while its blocks run.
    struct Step {
        let network: MLP
        let indices: UnsafePointer<Int>
        /// The samples' input rows and target rows (read by row number: `indices`).
        let inputs: RowReader
        let targets: RowReader
        let learningRate: Float
        /// The optimizer's rule (`.rule` plans), or SGD's at `learningRate`.
        let rule: UpdateRule
        /// Where `accumulate` adds the gradient.
        let gradient: UnsafeMutablePointer<Float>?
        /// What each sample's dL/dz at the output is multiplied by (`LossReduction.gradientScale`).
        var gradientScale: Float = 1
        /// The key of the step's dropout masks (`Dropout.key`).
        var dropoutKey: UInt64 = 0
        /// The largest global norm of the gradient a clipped plan lets through.
        var clipNorm: Float = .infinity
    }

    /// Runs up to `steps` steps of `plan` on `workers` threads, in one fan-out: the threads stay for the whole run.
    /// `prepare(k)` gives step k's numbers and `finished(k, loss)` takes its summed loss (shard by shard) as soon
    /// as it is done, returning whether to go on; both are called on the calling thread, between steps, while no
    /// block runs (so `finished` may read the network). Returns the steps taken. With `exchange`, each step is two
    /// fan-outs, the shards' results exchanged between the passes and the updates.
    @discardableResult
    func run(_ plan: StepPlan, steps: Int, workers: Int, exchange: (any ShardExchange)?,
             prepare: (Int) -> Step, finished: (Int, Double) -> Bool) -> Int {
        guard steps > 0 else { return 0 }
        let threads = max(1, min(workers, workerLimit))
        workersInRun = threads
        growScratch(plan, workers: threads)
        sync.reset(tasks: plan.tasks.count, blocks: plan.blockCount)
        begin(plan, prepare(0))
        if let exchange {
            var k = 0
            while true {
                fanOut(threads) { worker, _ in self.runTasks(plan, 0..<plan.exchangePoint, step: k, worker: worker) }
                exchangeRegions(plan, exchange)
                fanOut(threads) { worker, _ in
                    self.runTasks(plan, plan.exchangePoint..<plan.tasks.count, step: k, worker: worker)
                }
                k += 1
                guard finished(k - 1, loss(plan)), k < steps else { return k }
                begin(plan, prepare(k))
            }
        }
        // The leader (the iteration on the calling thread) waits for each step to end, reports it, prepares the
        // next and releases it; the other workers wait for the release. `released` holds the step now allowed,
        // `end` the steps the run makes plus one (0 while it goes on).
        let released = plan.tasks.count, end = plan.tasks.count + 1
        var taken = 0
        fanOut(threads) { worker, leads in
            var k = min(self.sync.count(released), steps)
            while true {
                if !leads {
                    self.sync.wait(for: released, reaching: k)
                    let last = self.sync.count(end)
                    if last > 0 && k >= last - 1 { return }
                }
                self.runTasks(plan, 0..<plan.tasks.count, step: k, worker: worker)
                guard leads else {
                    k += 1
                    continue
                }
                for t in plan.tasks.indices { self.sync.wait(for: t, reaching: (k + 1) * plan.tasks[t].blocks) }
                k += 1
                if finished(k - 1, self.loss(plan)) && k < steps {
                    self.begin(plan, prepare(k))
                    self.sync.set(released, to: k)
                } else {
                    taken = k
                    self.sync.set(end, to: k + 1)
                    self.sync.set(released, to: Int.max)
                    return
                }
            }
        }
        return taken
    }

    /// Runs `body(worker, leads)` on `threads` workers (`concurrentPerform`); `leads` is true for one of them, the
    /// first to run on the calling thread.
    private func fanOut(_ threads: Int, _ body: (Int, Bool) -> Void) {
        let caller = pthread_self()
        sync.resetLead()
        forEachWorker(threads) { worker in
            body(worker, pthread_equal(pthread_self(), caller) != 0 && self.sync.takeLead())
        }
    }

    /// Makes the step's numbers the current ones, and points the sparse batches at its rows.
    private func begin(_ plan: StepPlan, _ step: Step) {
        current = step
        if let sparse {
            for s in plan.loaded {
                let batch = batches[s], first = s * shardRows
                for r in 0..<plan.rows[s] { batch.sources[r] = step.indices[first + r] }
                batch.begin(rows: plan.rows[s], background: sparse.background, reader: step.inputs)
            }
        }
    }

    /// The step's summed loss, shard by shard.
    private func loss(_ plan: StepPlan) -> Double {
        var loss = 0.0
        for s in plan.rows.indices { loss += Double(losses.pointer[s]) }
        return loss
    }

    /// A gradient scratch per worker, as large as the plan needs.
    private func growScratch(_ plan: StepPlan, workers: Int) {
        guard plan.scratchFloats > 0 && (workers > scratch.count || scratch[0].count < plan.scratchFloats) else {
            return
        }
        let floats = max(plan.scratchFloats, scratch.first?.count ?? 0)
        scratch = (0..<max(workers, scratch.count)).map { _ in FloatBuffer(count: floats) }
        scratchPointers.deallocate()
        scratchPointers = .allocate(capacity: scratch.count)
        for w in scratch.indices { scratchPointers[w] = scratch[w].pointer }
    }

    /// Step k's blocks of tasks `tasks` that `worker` (of the run's `threads`) gets to.
    private func runTasks(_ plan: StepPlan, _ tasks: Range<Int>, step k: Int, worker: Int) {
        let threads = max(1, min(workersInRun, workerLimit))
        for t in tasks {
            let task = plan.tasks[t]
            guard blockOrder == .ownFirst else {
                runBlocks(plan, t, step: k, worker: worker)
                continue
            }
            // Its own blocks first (a task of one block belongs to one worker in turn), in order.
            var block = task.blocks == 1 ? (t % threads == worker ? 0 : 1) : worker
            while block < task.blocks {
                runBlock(plan, t, block, step: k, worker: worker)
                block += threads
            }
            // Then any block left, from the last down (where the owners, going up, reach last).
            block = task.blocks - 1
            while block >= 0 {
                runBlock(plan, t, block, step: k, worker: worker)
                block -= 1
            }
        }
    }

    /// Walks task t's blocks in the order `blockOrder` gives (for tests: it allocates).
    private func runBlocks(_ plan: StepPlan, _ t: Int, step k: Int, worker: Int) {
        var order = Array((0..<plan.tasks[t].blocks).reversed())
        if case .shuffled(let seed) = blockOrder {
            var generator = SplitMix64(seed: seed &+ UInt64(t) &* 1_000_003 &+ UInt64(worker) &+ UInt64(k))
            generator.shuffle(&order)
        }
        for block in order { runBlock(plan, t, block, step: k, worker: worker) }
    }

    /// Runs block `block` of task `t` for step k unless another worker has it, once the tasks it reads from are
    /// done for step k.
    @inline(__always)
    private func runBlock(_ plan: StepPlan, _ t: Int, _ block: Int, step k: Int, worker: Int) {
        let task = plan.tasks[t]
        guard sync.claim(task.firstBlock + block, step: k) else { return }
        for d in task.after {
            let dependency = plan.dependencies[d]
            sync.wait(for: dependency, reaching: (k + 1) * plan.tasks[dependency].blocks)
        }
        let step = current!
        if let blockSeconds {
            let clock = Stopwatch()
            execute(plan, task, block, step, worker: worker)
            blockSeconds[task.firstBlock + block] += clock.seconds
        } else {
            execute(plan, task, block, step, worker: worker)
        }
        sync.increment(t)
    }

    // MARK: The blocks

    private func execute(_ plan: StepPlan, _ task: StepPlan.Task, _ block: Int, _ step: Step, worker: Int) {
        let net = step.network, l = task.layer, layer = net.layers[l], s = task.shard
        let p = net.parameterBuffer.pointer, k = layer.inputSize, n = layer.outputSize
        let range = task.range(block)
        switch task.kind {
        case .load:
            load(s, block: block, plan: plan, task: task, step)
        case .dropout:
            let x = undropped(l, s), mask = masks[s][l].pointer, out = dropped[s][l].pointer
            for r in range {
                Dropout.fillMask(mask + r * k, units: k, rate: layer.dropout, key: step.dropoutKey, layer: l,
                                 sample: step.indices[s * shardRows + r])
                for i in r * k ..< (r + 1) * k { out[i] = x[i] * mask[i] }
            }
        case .sparseForward:
            let h = workspaces[s].activations[0].pointer, rows = plan.rows[s]
            sparse!.forward(h, batches[s], outputs: range)
            if task.fold {
                layer.activation.forward(h, rows: rows, stride: n, columns: range)
            } else {
                layer.activation.forward(h, rows: rows, columns: n)
            }
        case .forward:
            let y = workspaces[s].activations[l].pointer, rows = plan.rows[s]
            denseForwardBlock(y, input(l, s), p + layer.weightOffset, p + layer.biasOffset,
                              rows: denseBlockRows(m: rows, k: k), k: k, n: n, outputs: range)
            if task.fold { layer.activation.forward(y, rows: rows, stride: n, columns: range) }
        case .forwardTail:
            let y = workspaces[s].activations[l].pointer, rows = plan.rows[s]
            denseForwardTail(y, input(l, s), p + layer.weightOffset, p + layer.biasOffset,
                             from: denseBlockRows(m: rows, k: k), m: rows, k: k, n: n)
            layer.activation.forward(y, rows: rows, columns: n)
        case .loss:
            let yhat = UnsafePointer(workspaces[s].activations[l].pointer), rows = plan.rows[s]
            let y = UnsafePointer(targets[s].pointer)
            losses.pointer[s] = net.loss.value(yhat, y, count: rows * n)
            let delta = workspaces[s].deltas[l].pointer
            net.loss.outputDelta(delta, yhat, y, activation: layer.activation, rows: rows, columns: n)
            if step.gradientScale != 1 {
                for i in 0..<(rows * n) { delta[i] *= step.gradientScale }
            }
        case .inputPart:
            let fullRows = plan.rows[s] & ~3
            denseBackwardInputPart(partPointers[s] + block * fullRows * k, workspaces[s].deltas[l].pointer,
                                   p + layer.weightOffset, rows: fullRows, k: k, n: n, outputs: range)
        case .inputSum, .input:
            let dx = workspaces[s].deltas[l - 1].pointer, rows = plan.rows[s]
            if task.kind == .inputSum {
                denseSumParts(dx, partPointers[s], count: (n + StepPlan.blockSize - 1) / StepPlan.blockSize,
                              rows: rows & ~3, k: k, inputs: range)
            } else {
                denseBackwardInputBlock(dx, workspaces[s].deltas[l].pointer, p + layer.weightOffset, rows: rows & ~3,
                                        k: k, n: n, inputs: range)
            }
            if task.fold {
                if dropoutRates[l] > 0 { applyMask(dx, masks[s][l].pointer, rows: 0..<rows, stride: k, columns: range) }
                net.layers[l - 1].activation.backward(dx, output: undropped(l, s), rows: rows, stride: k,
                                                      columns: range)
            }
        case .inputTail:
            let dx = workspaces[s].deltas[l - 1].pointer, rows = plan.rows[s]
            denseBackwardInputTail(dx, workspaces[s].deltas[l].pointer, p + layer.weightOffset, from: rows & ~3,
                                   m: rows, k: k, n: n)
            if dropoutRates[l] > 0 { applyMask(dx, masks[s][l].pointer, rows: 0..<rows, stride: k, columns: 0..<k) }
            net.layers[l - 1].activation.backward(dx, output: undropped(l, s), rows: rows, columns: k)
        case .weights:
            weights(plan, task, block, range, step, worker: worker)
        case .update:
            let rule = step.rule, w = layer.weightOffset, b = layer.biasOffset, shards = plan.rows.count
            let weights = w + range.lowerBound * k ..< w + range.upperBound * k
            let biases = b + range.lowerBound ..< b + range.upperBound
            if plan.clipped {
                let gradient = ScaledGradient(values: gradientPointers[0], factor: clipFactor)
                applyUpdate(rule, p, range: weights, clipped: gradient)
                applyUpdate(rule, p, range: biases, clipped: gradient)
            } else {
                applyUpdate(rule, p, range: weights, shards: gradientPointers, count: shards)
                applyUpdate(rule, p, range: biases, shards: gradientPointers, count: shards)
            }
        case .gather:
            let w = layer.weightOffset, b = layer.biasOffset, shards = plan.rows.count, g = gradientPointers[0]
            gatherShards(gradientPointers, count: shards, range: w + range.lowerBound * k ..< w + range.upperBound * k)
            gatherShards(gradientPointers, count: shards, range: b + range.lowerBound ..< b + range.upperBound)
            for j in range {
                rowSquares[rowSlots[l] + j] = sumOfSquares(g + w + j * k, count: k) + Double(g[b + j]) * Double(g[b + j])
            }
        case .norm:
            var total = 0.0
            for i in 0..<(rowSlots[l] + n) { total += rowSquares[i] }
            clipFactor = clippingFactor(norm: total.squareRoot(), maximum: step.clipNorm)
        case .sparseStep:
            for shard in plan.rows.indices {
                sparse!.descend(delta: workspaces[shard].deltas[0].pointer, batch: batches[shard],
                                learningRate: step.learningRate, outputs: range)
            }
        }
    }

    /// Layer l's input on shard s: the shard's inputs, or the layer below's outputs; through the layer's dropout
    /// mask when it has one.
    private func input(_ l: Int, _ s: Int) -> UnsafePointer<Float> {
        dropoutRates[l] > 0 ? UnsafePointer(dropped[s][l].pointer) : undropped(l, s)
    }

    /// Layer l's input on shard s before any dropout: the shard's inputs, or the layer below's outputs.
    private func undropped(_ l: Int, _ s: Int) -> UnsafePointer<Float> {
        UnsafePointer(l == 0 ? inputs[s].pointer : workspaces[s].activations[l - 1].pointer)
    }

    /// dL/dx of a layer with dropout becomes dL/d(its undropped input): each element times its mask.
    private func applyMask(_ dx: UnsafeMutablePointer<Float>, _ mask: UnsafePointer<Float>, rows: Range<Int>,
                           stride: Int, columns: Range<Int>) {
        for r in rows {
            for c in columns { dx[r * stride + c] *= mask[r * stride + c] }
        }
    }

    /// A block of a shard's load: rows (inputs and targets), or with a sparse first layer, a block of inputs'
    /// lists and then blocks of rows' lists (and targets).
    private func load(_ s: Int, block: Int, plan: StepPlan, task: StepPlan.Task, _ step: Step) {
        let k = step.network.inputSize, outputs = step.network.outputSize, rows = plan.rows[s]
        let first = s * shardRows
        var range = task.range(block)
        if sparse != nil {
            let inputBlocks = (k + StepPlan.loadInputs - 1) / StepPlan.loadInputs
            if task.blocks == 1 {
                // The whole batch, listed both ways in one scan.
                batches[s].loadAll()
                range = 0..<rows
            } else if block < inputBlocks {
                batches[s].loadInputs(block * StepPlan.loadInputs ..< min(k, (block + 1) * StepPlan.loadInputs))
                return
            } else {
                let lower = (block - inputBlocks) * StepPlan.loadRows
                range = lower ..< min(rows, lower + StepPlan.loadRows)
                batches[s].loadRows(range)
            }
        } else {
            for r in range { step.inputs.copyRow(step.indices[first + r], into: inputs[s].pointer + r * k) }
        }
        for r in range { step.targets.copyRow(step.indices[first + r], into: targets[s].pointer + r * outputs) }
    }

    /// A block of layer l's dW and db on a shard: added to the gradient, written to the shard's buffer, or taking
    /// the step at once (SGD in place; another rule through this worker's scratch).
    private func weights(_ plan: StepPlan, _ task: StepPlan.Task, _ block: Int, _ range: Range<Int>, _ step: Step,
                         worker: Int) {
        let net = step.network, l = task.layer, layer = net.layers[l], s = task.shard
        let k = layer.inputSize, n = layer.outputSize, rows = plan.rows[s]
        let dy = UnsafePointer(workspaces[s].deltas[l].pointer), x = input(l, s)
        func form(_ dw: UnsafeMutablePointer<Float>, _ db: UnsafeMutablePointer<Float>, _ write: GradientWrite,
                  dy: UnsafePointer<Float>, outputs: Range<Int>) {
            if rows >= 2 {
                denseBackwardWeightsBlock(dw, db, dy, x, m: rows, k: k, n: n, write: write, outputs: outputs)
            } else {
                denseBackwardWeights(dw, db, dy, x, m: rows, k: k, n: n, write: write)
            }
        }
        guard plan.fused else {
            let g = gradientPointers[s]
            form(g + layer.weightOffset, g + layer.biasOffset, .overwrite, dy: dy, outputs: range)
            return
        }
        let p = net.parameterBuffer.pointer
        switch plan.update {
        case .accumulate:
            let g = step.gradient!
            form(g + layer.weightOffset, g + layer.biasOffset, .accumulate, dy: dy, outputs: range)
        case .descend:
            form(p + layer.weightOffset, p + layer.biasOffset, .descend(learningRate: step.learningRate), dy: dy,
                 outputs: range)
        case .rule:
            // The block's dW rows and db, formed in this worker's scratch (rows of the block from 0), then the
            // rule over the block's parameters while the scratch is in cache.
            let dw = scratchPointers[worker], db = dw + range.count * k
            form(dw, db, .overwrite, dy: dy + range.lowerBound, outputs: 0..<range.count)
            let w = layer.weightOffset + range.lowerBound * k, b = layer.biasOffset + range.lowerBound
            applyUpdate(step.rule, p, range: w ..< w + range.count * k, gradient: dw)
            applyUpdate(step.rule, p, range: b ..< b + range.count, gradient: db)
        }
    }

    // MARK: Across processes

    /// Gradient buffers for every shard, and the regions each shard's pass leaves for other processes.
    private func makeGradients(network: MLP) {
        guard gradients.isEmpty else { return }
        gradients = (0..<shardCount).map { _ in FloatBuffer(count: network.parameterCount) }
        for s in 0..<shardCount { gradientPointers[s] = gradients[s].pointer }
        // A sparse first layer's gradient is never formed: its dL/dz travels instead.
        let denseStart = sparse == nil ? 0
            : (network.layers.count > 1 ? network.layers[1].weightOffset : network.parameterCount)
        regions = (0..<shardCount).flatMap { s -> [ShardRegion] in
            var mine = [ShardRegion(start: gradients[s].pointer + denseStart, count: network.parameterCount - denseStart)]
            if sparse != nil {
                mine.append(ShardRegion(start: workspaces[s].deltas[0].pointer,
                                        count: shardRows * network.layers[0].outputSize))
            }
            return mine
        }
        regionsPerShard = sparse == nil ? 1 : 2
    }

    private func exchangeRegions(_ plan: StepPlan, _ exchange: any ShardExchange) {
        regions.withUnsafeBufferPointer { regions in
            exchange.exchange(regions: regions.baseAddress!, perShard: regionsPerShard, losses: losses.pointer,
                              shards: plan.rows.count)
        }
    }
}
