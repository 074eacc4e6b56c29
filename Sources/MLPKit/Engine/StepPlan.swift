// A mini-batch step as a fixed graph of tasks cut into fixed blocks: the one description every thread count runs.

/// What one mini-batch step does, laid out once for a network, the batch's shards and the way the weights move.
///
/// A step is a list of tasks: load a shard's rows, one layer's forward pass on a shard, the loss, one layer's
/// dL/dx and dW on a shard, and the update of a layer's parameters from every shard's dW. Each task is cut into
/// fixed blocks (48 outputs or inputs of a layer, a few rows of a shard) and waits for the tasks it reads from.
/// The bounds of a plan that workers share depend on the network and the batch only, never on the number of
/// threads, and each block is computed the same way by whichever thread runs it, and as it would be within the
/// whole task; so the weights are the same bits for any `--threads`. A plan for one worker takes each task whole,
/// in order: the serial path.
///
/// ```
///            load   forward 0 … L−1   loss   dL/dx, dW  L−1 … 0   update L−1 … 0
/// shard 0    ▮▮     ▮▮▮▮▮▮ ▮▮▮ …      ▮      ▮▮▮▮ ▮▮▮ …           ▮▮▮▮▮ (all shards' dW of a block of rows,
/// shard 1    ▮▮     ▮▮▮▮▮▮ ▮▮▮ …      ▮      ▮▮▮▮ ▮▮▮ …            summed in shard order, then the rule)
///            every block claimed by whichever of the T threads gets to it first (each starts with its own)
/// ```
///
/// Dropout adds a task before a layer's forward pass (its inputs through the mask). Clipping by the global norm
/// splits the update in three: each layer's shards summed (`gather`), the norm (`norm`), then every update.
///
/// The update is fused: with one shard (and no other process, and no clipping), each block of a layer's dW takes the rule as
/// soon as it is formed, in cache (SGD straight into W; other rules through a block-sized scratch), and no
/// gradient buffer is written. With several shards, each shard's dW goes to its gradient buffer, and a layer's
/// update task sums the shards' blocks in shard order and applies the rule while they are in cache.
final class StepPlan {
    /// What a task does.
    enum Kind {
        /// Copy a shard's rows (inputs and targets) into its buffers; with a sparse first layer, list their
        /// non-background inputs (blocks of inputs, then blocks of rows).
        case load
        /// A layer's inputs on a shard through its dropout mask (`Dropout`), blocks of rows.
        case dropout
        /// The sparse first layer's outputs (with its activation when elementwise), blocks of outputs.
        case sparseForward
        /// A layer's outputs on the rows the blocked kernels take, blocks of outputs (with the activation when
        /// every row is in the blocks).
        case forward
        /// A layer's remaining rows and its activation (one block).
        case forwardTail
        /// A shard's loss and the last layer's dL/dz (one block).
        case loss
        /// A layer's dL/dx as parts, one per tile of 48 rows of W, each from zero (`denseBackwardInputPart`).
        case inputPart
        /// A layer's dL/dx as the sum of its parts (`denseSumParts`), blocks of inputs, with the derivative of
        /// the activation below when every row is in the blocks.
        case inputSum
        /// A layer's dL/dx in one kernel (`denseBackwardInputBlock`), blocks of inputs; same bits as the parts.
        case input
        /// A layer's dL/dx for the remaining rows, and the derivative of the activation below (one block).
        case inputTail
        /// A layer's dW and db on a shard, blocks of outputs: added to the gradient (`accumulate`), written to the
        /// shard's gradient buffer, or (fused) applied to the parameters at once.
        case weights
        /// A layer's parameters move by every shard's dW and db (summed in shard order), blocks of outputs; with
        /// clipping, by the gathered gradient times the clipping factor.
        case update
        /// With clipping: a layer's dW and db summed over the shards in shard order (into shard 0's buffer), and
        /// each output row's sum of squares, blocks of outputs.
        case gather
        /// With clipping: the gradient's global norm from the rows' sums of squares, in order, and the factor
        /// every update takes (one block).
        case norm
        /// The sparse first layer's step for every shard in order, blocks of outputs.
        case sparseStep

        /// What a block's bounds must be a multiple of for the kernel to form every element the same way
        /// whatever the bounds, and so the bits not to depend on the thread count (docs/design.md's checklist):
        /// the forward kernels' tiles take 3 outputs, dL/dx's widest strip is 24 inputs, dW's and the sparse
        /// layer's strips are multiples of 8 rows or outputs; dL/dx's parts are one per tile of `blockSize` rows.
        var boundMultiple: Int {
            switch self {
            case .forward: 3
            case .input, .inputSum: 24
            case .weights, .sparseForward, .sparseStep: 8
            case .inputPart: StepPlan.blockSize
            case .load, .dropout, .forwardTail, .loss, .inputTail, .update, .gather, .norm: 1
            }
        }
    }

    /// How the weights move.
    enum Update: Equatable {
        /// Nothing moves: the summed gradient is added to the network's gradient buffer (`MLP.backward`).
        case accumulate
        /// θ −= η·g, with a sparse first layer when there is one.
        case descend
        /// An optimizer's rule (`UpdateRule`).
        case rule
    }

    struct Task {
        let kind: Kind
        let layer: Int
        /// The shard it works on (-1: every shard).
        let shard: Int
        /// Outputs, inputs or rows its blocks cover, `size` at a time.
        let count: Int
        let size: Int
        let blocks: Int
        /// The number of its first block among all the plan's blocks.
        let firstBlock: Int
        /// Whether each block also applies the activation (forward) or its derivative (dL/dx) to its columns.
        let fold: Bool
        /// Indices into `dependencies`: the tasks that must be done before any block of this one starts.
        let after: Range<Int>

        /// Block b's outputs, inputs or rows (a sparse load's row blocks work out their own).
        func range(_ b: Int) -> Range<Int> {
            blocks == 1 ? 0..<count : min(count, b * size) ..< min(count, (b + 1) * size)
        }
    }

    /// The tasks in the order threads walk them.
    private(set) var tasks: [Task] = []
    /// The tasks each task waits for (`Task.after`).
    private(set) var dependencies: [Int] = []
    /// Blocks in all.
    private(set) var blockCount = 0
    /// Tasks `0..<exchangePoint` run before the shards' gradients are exchanged with other processes, the rest
    /// after (all of them when there is no exchange).
    private(set) var exchangePoint = 0
    /// Rows in each shard.
    let rows: [Int]
    /// The shards whose rows this process loads: those it computes, or with a sparse first layer whose step needs
    /// every shard's rows and other processes, all.
    let loaded: Range<Int>
    /// How the weights move.
    let update: Update
    /// Whether a lone shard's dW takes the update inside its own task (no gradient buffer, no `update` task).
    let fused: Bool
    /// Whether the gradient is clipped by its global norm before the update (`gather`, `norm`, then `update`).
    let clipped: Bool
    /// Floats of dL/dx parts a shard needs, and of gradient scratch a thread needs (fused rules).
    private(set) var partsFloats = 0, scratchFloats = 0

    /// Outputs or inputs per block: a multiple of 24 (the kernels' widest strip), small enough that a layer of 512
    /// splits into 11 blocks (near-even shares for 2 threads), large enough that a block is tens of thousands of
    /// FMAs at batch 16 (96 measured slower on 2 threads, for the odd block's wait).
    static let blockSize = 48
    /// Below this many FMAs (rows × inputs × outputs), a layer's task is one block: sharing costs more than it
    /// saves.
    static let minimumWork = 1 << 16
    /// Rows per block of a shard's load.
    static let loadRows = 4
    /// Inputs per block of the sparse batch's per-input lists.
    static let loadInputs = 256
    /// Non-background inputs per row assumed when sizing the sparse layer's work (MNIST has about 150).
    static let sparseWork = 64
    /// Outputs per block of the sparse layer's step over several shards: each block streams its rows of Vᵀ once
    /// per shard, so wider blocks than the layers' (and a multiple of 48, the step's widest strip).
    static let sparseStepBlock = 96
    /// Shards of fewer rows form dL/dx as parts per tile of W's rows, so a worker reads only the rows of W it
    /// steps (see `StepRunner`); larger shards, whose kernels reuse W over many rows, in one kernel. Both ways
    /// give the same bits.
    static let partsBelowRows = 64

    /// The blocks for `count` outputs or inputs, when the task's `work` (FMAs) is worth sharing.
    static func blocks(_ count: Int, work: Int, size: Int = blockSize) -> Int {
        work >= minimumWork ? max(1, (count + size - 1) / size) : 1
    }

    /// The plan for `layers` (after `inputSize` inputs) with shards of `rows` rows, of which this process
    /// computes `computed` (the others come from other processes when `exchanged`), a sparse first layer or not,
    /// and weights that move as `update` says, the gradient clipped by its norm first or not (`clipped`); cut
    /// into blocks for workers to share (`shared`), or each task whole for one worker.
    init(layers: [Layer], inputSize: Int, rows: [Int], computed: Range<Int>, sparse: Bool, update: Update,
         exchanged: Bool, clipped: Bool = false, shared: Bool = true, partsBelowRows: Int = StepPlan.partsBelowRows) {
        precondition(update != .accumulate || (rows.count == 1 && !exchanged && !clipped),
                     "a gradient is added for one shard, unclipped")
        precondition(!sparse || (update == .descend && !clipped), "the sparse first layer is plain SGD only")
        precondition(!sparse || layers[0].dropout == 0, "the sparse first layer takes its inputs whole")
        self.rows = rows
        self.update = update
        self.clipped = clipped
        loaded = sparse && exchanged ? 0..<rows.count : computed
        let shards = rows.count, last = layers.count - 1, firstDense = sparse ? 1 : 0
        fused = shards == 1 && !exchanged && !clipped
        var later: [() -> Void] = []   // with an exchange, the updates wait until every shard is in
        var gathers: [Int] = []        // with clipping, the tasks the norm waits for

        // A lone worker takes each task whole: the kernels give the same bits for any block bounds, and whole
        // tasks walk memory in order (and the sparse batch is listed both ways in one scan).
        func blocks(_ count: Int, work: Int, size: Int = StepPlan.blockSize) -> Int {
            shared ? Self.blocks(count, work: work, size: size) : 1
        }

        @discardableResult
        func add(_ kind: Kind, _ layer: Int, _ shard: Int, count: Int = 1, size: Int = StepPlan.blockSize,
                 blocks: Int = 1, fold: Bool = false, after: [Int]) -> Int {
            precondition(blocks == 1 || size % kind.boundMultiple == 0,
                         "\(kind) blocks of \(size) break the bits' rule: multiples of \(kind.boundMultiple)")
            let start = dependencies.count
            dependencies.append(contentsOf: after)
            tasks.append(Task(kind: kind, layer: layer, shard: shard, count: count, size: size, blocks: blocks,
                              firstBlock: blockCount, fold: fold, after: start..<dependencies.count))
            blockCount += blocks
            return tasks.count - 1
        }

        // Load: a sparse layer steps every shard's rows, so every shard is listed, also those computed elsewhere.
        var ready = [Int](repeating: -1, count: shards)
        for s in loaded {
            if sparse {
                let inputBlocks = (inputSize + Self.loadInputs - 1) / Self.loadInputs
                ready[s] = add(.load, 0, s, count: inputSize,
                               blocks: shared ? inputBlocks + (rows[s] + Self.loadRows - 1) / Self.loadRows : 1,
                               after: [])
            } else {
                ready[s] = add(.load, 0, s, count: rows[s], size: Self.loadRows,
                               blocks: shared ? (rows[s] + Self.loadRows - 1) / Self.loadRows : 1, after: [])
            }
        }
        // Forward, each layer's inputs through their dropout mask first when it has one.
        for l in 0...last {
            let k = layers[l].inputSize, n = layers[l].outputSize, elementwise = layers[l].activation.isElementwise
            for s in computed {
                if layers[l].dropout > 0 {
                    ready[s] = add(.dropout, l, s, count: rows[s], size: Self.loadRows,
                                   blocks: shared ? (rows[s] + Self.loadRows - 1) / Self.loadRows : 1,
                                   after: [ready[s]])
                }
                if l == 0 && sparse {
                    ready[s] = add(.sparseForward, 0, s, count: n,
                                   blocks: elementwise ? blocks(n, work: rows[s] * n * Self.sparseWork) : 1,
                                   fold: elementwise, after: [ready[s]])
                    continue
                }
                let blockRows = denseBlockRows(m: rows[s], k: k), fold = blockRows == rows[s] && elementwise
                ready[s] = add(.forward, l, s, count: n, blocks: blocks(n, work: blockRows * k * n), fold: fold,
                               after: [ready[s]])
                if !fold { ready[s] = add(.forwardTail, l, s, after: [ready[s]]) }
            }
        }
        // The loss, then backward, layer by layer from the top: `ready[s]` is the task that leaves dL/dz of the
        // layer at hand for shard s.
        for s in computed { ready[s] = add(.loss, last, s, after: [ready[s]]) }
        var readers = [Int](repeating: -1, count: shards), below = ready
        for l in stride(from: last, through: 0, by: -1) {
            let k = layers[l].inputSize, n = layers[l].outputSize
            if l > 0 {
                for s in computed {
                    let fullRows = rows[s] & ~3, fold = fullRows == rows[s] && layers[l - 1].activation.isElementwise
                    let inputBlocks = blocks(k, work: fullRows * k * n), tiles = (n + Self.blockSize - 1) / Self.blockSize
                    if rows[s] < partsBelowRows && inputBlocks > 1 && tiles > 1 {
                        readers[s] = add(.inputPart, l, s, count: n, blocks: tiles, after: [ready[s]])
                        below[s] = add(.inputSum, l, s, count: k, blocks: inputBlocks, fold: fold, after: [readers[s]])
                        partsFloats = max(partsFloats, tiles * fullRows * k)
                    } else {
                        below[s] = add(.input, l, s, count: k, blocks: inputBlocks, fold: fold, after: [ready[s]])
                        readers[s] = below[s]
                    }
                    if !fold {
                        below[s] = add(.inputTail, l, s, count: k, after: [below[s]])
                        readers[s] = below[s]
                    }
                }
            }
            if l >= firstDense {
                var weights: [Int] = []
                for s in computed {
                    // A fused step moves W, so it waits for this shard's readers of W (its dL/dx).
                    let weightBlocks = rows[s] >= 2 ? blocks(n, work: rows[s] * k * n) : 1
                    let movesW = fused && update != .accumulate && l > 0
                    weights.append(add(.weights, l, s, count: n, blocks: weightBlocks,
                                       after: movesW ? [ready[s], readers[s]] : [ready[s]]))
                    if fused && update == .rule {
                        scratchFloats = max(scratchFloats, (weightBlocks == 1 ? n : Self.blockSize) * (k + 1))
                    }
                }
                if !fused {
                    let after = weights + (l > 0 ? computed.map { readers[$0] } : [])
                    let work = rows.reduce(0, +) * k * n
                    let task = {
                        let t = add(clipped ? .gather : .update, l, -1, count: n, blocks: blocks(n, work: work),
                                    after: after)
                        if clipped { gathers.append(t) }
                    }
                    if exchanged { later.append(task) } else { task() }
                }
            } else {
                // The sparse first layer's step: every shard's rows, in shard order.
                let n = layers[0].outputSize, total = rows.reduce(0, +)
                let after = computed.map { ready[$0] }
                let task = { () -> Int in
                    if shards == 1 {
                        return add(.sparseStep, 0, -1, count: n,
                                   blocks: blocks(n, work: total * n * Self.sparseWork), after: after)
                    } else {
                        return add(.sparseStep, 0, -1, count: n, size: Self.sparseStepBlock,
                                   blocks: (n + Self.sparseStepBlock - 1) / Self.sparseStepBlock, after: after)
                    }
                }
                if exchanged { later.append { _ = task() } } else { _ = task() }
            }
            ready = below
        }
        // With clipping, every layer's update waits for the norm, which waits for every layer's gradient.
        if clipped {
            let updates = {
                let norm = add(.norm, last, -1, after: gathers)
                for l in stride(from: last, through: 0, by: -1) {
                    let work = rows.reduce(0, +) * layers[l].inputSize * layers[l].outputSize
                    add(.update, l, -1, count: layers[l].outputSize,
                        blocks: blocks(layers[l].outputSize, work: work), after: [norm])
                }
            }
            if exchanged { later.append(updates) } else { updates() }
        }
        exchangePoint = tasks.count
        for task in later { task() }
        if !exchanged { exchangePoint = tasks.count }
    }
}
