// One shard's forward and backward passes shared by several threads in a single fan-out: phases of fixed blocks.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Runs one shard's training pass (forward, loss, backward with `write`) on several threads at once, with one
/// fan-out per step instead of one per layer.
///
/// The pass is a fixed sequence of phases (each layer's forward pass, its tail rows and activation, the loss,
/// each layer's dL/dx and its dW or step), each cut into fixed blocks of `LayerBlocks.size` outputs or inputs.
/// A thread starts a block only once every block of the phases before it is done. A block is computed the same
/// way by whichever thread runs it, so the bits are those of the one-thread pass.
///
/// Each thread owns the same blocks of every phase (block b of W's rows belongs to thread b mod T), so a layer's
/// rows of W are read by the forward pass, read for dL/dx and stepped by one thread: no other core's cache holds
/// them when they are written. (Writing a cache line that another core has just read costs a transfer of its
/// ownership; measured on 2 cores, stepping 800 kB of weights another core had read took 4–10 times as long as
/// stepping weights the same core had read.) dL/dx is therefore formed by rows of W too: each row block's part
/// (`denseBackwardInputPart`), then the parts added in order by blocks of columns (`denseSumParts`), with the
/// bits of the one-thread kernel. A thread first runs its own blocks of a phase, then takes any block of that
/// phase not yet claimed (claims are one bit per block), so a thread that starts late, or never, stalls no one.
final class SharedPass: @unchecked Sendable {
    /// What one phase does.
    enum Kind {
        /// The sparse first layer's batch: blocks of inputs (its per-input lists), then blocks of rows.
        case sparseLoad
        /// The sparse first layer's forward pass, blocks of outputs (with its activation, when elementwise).
        case sparseForward
        /// Layer l's outputs, blocks of outputs over the rows the blocked kernels take.
        case forward
        /// Layer l's remaining rows and its activation (one block).
        case forwardFinish
        /// The loss and the last layer's dL/dz (one block).
        case loss
        /// Layer l's dL/dx, blocks of inputs (for a layer whose W has one tile of rows, or too little work to
        /// share).
        case backwardInput
        /// Layer l's parts of dL/dx, one per tile of rows of W (blocks of outputs).
        case backwardInputPart
        /// Layer l's dL/dx as the sum of its parts, blocks of inputs.
        case backwardInputSum
        /// Layer l's dL/dx for the remaining rows, and the activation's derivative below it (one block).
        case backwardInputFinish
        /// Layer l's dW and db (or its step), blocks of outputs.
        case backwardWeights
        /// The sparse first layer's step, blocks of outputs.
        case sparseDescend
    }

    struct Phase {
        let kind: Kind
        let layer: Int
        /// Outputs or inputs the blocks cover.
        let count: Int
        let blocks: Int
        /// Blocks of all phases up to and including this one.
        let end: Int
        /// Whether each block also applies the activation (forward) or its derivative (dL/dx) to its columns,
        /// which then need no phase of their own: when every row is in the blocks and the activation is
        /// elementwise.
        let fold: Bool
    }

    /// 64 blocks' claim bits (blocks numbered through the whole pass).
    private final class ClaimWord: Sendable {
        let bits = Atomic<UInt64>(0)
    }

    private var claims: [ClaimWord] = []
    private let done = Atomic<Int>(0)
    private var phases: [Phase] = []
    /// The parts of one layer's dL/dx (`backwardInputPart`), tile after tile.
    private var parts = FloatBuffer(count: 0)
    private(set) var loss: Float = 0

    init() {}

    /// The blocks for `count` outputs or inputs, when the layer's `work` (FMAs) is worth sharing.
    private static func blocks(_ count: Int, work: Int) -> Int {
        work >= LayerBlocks.minimumWork ? max(1, (count + LayerBlocks.size - 1) / LayerBlocks.size) : 1
    }

    /// Non-background inputs per row assumed when sizing the sparse layer's work (MNIST has about 150).
    private static let sparseWork = 64
    /// Inputs per block of the sparse batch's per-input lists, and rows per block of its per-row lists.
    private static let loadInputs = 256, loadRows = 4

    /// Blocks of the sparse batch's load: the input blocks, then the row blocks.
    private static func loadBlocks(inputs: Int, rows: Int) -> Int {
        (inputs + loadInputs - 1) / loadInputs + (rows + loadRows - 1) / loadRows
    }

    /// Forward and backward passes of `rows` rows of `x` (layer `first`'s input: the raw inputs, or with
    /// `sparse` the batch it loads first, which the caller has begun), writing gradients as `write` says, on
    /// `workers` threads. With `sparse`, the first layer runs through it and, when `sparseStep` is given, takes
    /// its SGD step at that rate;
    /// otherwise its dL/dz is left in the returned buffer. Returns the loss and that buffer.
    func run(_ net: MLP, x: UnsafePointer<Float>, targets: UnsafePointer<Float>, rows: Int, workspace: Workspace,
             gradients: UnsafeMutablePointer<Float>, parameters p: UnsafePointer<Float>, write: GradientWrite,
             sparse: (layer: SparseFirstLayer, batch: SparseBatch)?, sparseStep: Float?,
             workers: Int) -> (loss: Float, delta: UnsafeMutablePointer<Float>) {
        let layers = net.layers, last = layers.count - 1, first = sparse == nil ? 0 : 1
        // The phases, laid out again for this step's rows (no allocation once the array has grown).
        phases.removeAll(keepingCapacity: true)
        var end = 0, partsNeeded = 0
        func add(_ kind: Kind, _ layer: Int, count: Int = 0, blocks: Int = 1, fold: Bool = false) {
            end += blocks
            phases.append(Phase(kind: kind, layer: layer, count: count, blocks: blocks, end: end, fold: fold))
        }
        if sparse != nil {
            let k = layers[0].inputSize, n = layers[0].outputSize, elementwise = layers[0].activation.isElementwise
            add(.sparseLoad, 0, count: k, blocks: Self.loadBlocks(inputs: k, rows: rows))
            add(.sparseForward, 0, count: n, blocks: elementwise ? Self.blocks(n, work: rows * n * Self.sparseWork) : 1,
                fold: elementwise)
        }
        for l in stride(from: first, through: last, by: 1) {
            let k = layers[l].inputSize, n = layers[l].outputSize
            let fold = denseBlockRows(m: rows, k: k) == rows && layers[l].activation.isElementwise
            add(.forward, l, count: n, blocks: Self.blocks(n, work: denseBlockRows(m: rows, k: k) * k * n), fold: fold)
            if !fold { add(.forwardFinish, l) }
        }
        add(.loss, last)
        for l in stride(from: last, through: first, by: -1) {
            let k = layers[l].inputSize, n = layers[l].outputSize
            if l > 0 {
                let fold = rows & ~3 == rows && layers[l - 1].activation.isElementwise
                let inputBlocks = Self.blocks(k, work: (rows & ~3) * k * n)
                let tiles = (n + backwardInputTile - 1) / backwardInputTile
                if inputBlocks > 1 && tiles > 1 {
                    add(.backwardInputPart, l, count: n, blocks: tiles)
                    add(.backwardInputSum, l, count: k, blocks: inputBlocks, fold: fold)
                    partsNeeded = max(partsNeeded, tiles * (rows & ~3) * k)
                } else {
                    // One tile of rows of W (its part is dL/dx itself), or too little work to share.
                    add(.backwardInput, l, count: k, blocks: inputBlocks, fold: fold)
                }
                if !fold { add(.backwardInputFinish, l) }
            }
            add(.backwardWeights, l, count: n, blocks: rows >= 2 ? Self.blocks(n, work: rows * k * n) : 1)
        }
        if sparse != nil, sparseStep != nil {
            let n = layers[0].outputSize
            add(.sparseDescend, 0, count: n, blocks: Self.blocks(n, work: rows * n * Self.sparseWork))
        }
        // Room for this step's claims and parts (allocated when the pass first meets a shape).
        while claims.count * 64 < end { claims.append(ClaimWord()) }
        for word in claims { word.bits.store(0, ordering: .relaxed) }
        if parts.count < partsNeeded { parts = FloatBuffer(count: partsNeeded) }
        done.store(0, ordering: .relaxed)

        let context = Context(net: net, x: x, targets: targets, rows: rows, workspace: workspace,
                              gradients: gradients, parameters: p, write: write, sparse: sparse,
                              sparseStep: sparseStep, parts: parts.pointer)
        let threads = max(1, min(workers, end))
        forEachWorker(threads) { worker in self.participate(context, worker: worker, of: threads) }
        // Layer l's dL/dz is in deltas.0 for l = last, and alternates downwards.
        let delta = (last - (first - 1)) % 2 == 0 ? workspace.deltas.0.pointer : workspace.deltas.1.pointer
        return (loss, delta)
    }

    /// Everything a block needs, fixed for the step.
    private struct Context {
        let net: MLP
        let x: UnsafePointer<Float>
        let targets: UnsafePointer<Float>
        let rows: Int
        let workspace: Workspace
        let gradients: UnsafeMutablePointer<Float>
        let parameters: UnsafePointer<Float>
        let write: GradientWrite
        let sparse: (layer: SparseFirstLayer, batch: SparseBatch)?
        let sparseStep: Float?
        let parts: UnsafeMutablePointer<Float>

        /// Layer l's dL/dz buffer (l = last in deltas.0, alternating downwards).
        func delta(_ l: Int) -> UnsafeMutablePointer<Float> {
            (net.layers.count - 1 - l) % 2 == 0 ? workspace.deltas.0.pointer : workspace.deltas.1.pointer
        }

        /// Layer l's input.
        func input(_ l: Int) -> UnsafePointer<Float> {
            l == 0 ? x : UnsafePointer(workspace.activations[l - 1].pointer)
        }
    }

    /// Returns once `count` blocks are done: spinning, and yielding the core now and then to a thread that
    /// may be waiting for it (more threads than free cores).
    private func wait(until count: Int) {
        var spins = 0
        while done.load(ordering: .acquiring) < count {
            spins += 1
            if spins > 1_000 { sched_yield() }
        }
    }

    /// Runs the blocks of every phase that `worker` (of `threads`) owns, or finds unclaimed once its own are
    /// taken.
    private func participate(_ c: Context, worker: Int, of threads: Int) {
        var start = 0
        for (index, phase) in phases.enumerated() {
            // Its own blocks first (a phase of one block belongs to one thread in turn), in order.
            var block = phase.blocks == 1 ? (index % threads == worker ? 0 : 1) : worker
            while block < phase.blocks {
                run(index, block: block, start: start, c)
                block += threads
            }
            // Then any block left, from the last down (where the owners, going up, reach last).
            block = phase.blocks - 1
            while block >= 0 {
                run(index, block: block, start: start, c)
                block -= 1
            }
            start = phase.end
        }
    }

    /// Runs block `block` of phase `index` (whose blocks are numbered from `start` in the pass) unless another
    /// thread has claimed it, once every block of the phases before it is done.
    @inline(__always)
    private func run(_ index: Int, block: Int, start: Int, _ c: Context) {
        let number = start + block, word = claims[number >> 6], bit = UInt64(1) << UInt64(number & 63)
        guard word.bits.load(ordering: .relaxed) & bit == 0,
              word.bits.bitwiseOr(bit, ordering: .relaxed).oldValue & bit == 0 else { return }
        wait(until: start)
        execute(phases[index], block: block, c)
        done.add(1, ordering: .releasing)
    }

    private func execute(_ phase: Phase, block: Int, _ c: Context) {
        let net = c.net, l = phase.layer, layer = net.layers[l], p = c.parameters
        let k = layer.inputSize, n = layer.outputSize, rows = c.rows
        // The block's outputs or inputs (the sparse load's blocks are its own: see `.sparseLoad`).
        let range = phase.blocks == 1 || phase.kind == .sparseLoad ? 0..<phase.count
            : block * LayerBlocks.size ..< min(phase.count, (block + 1) * LayerBlocks.size)
        switch phase.kind {
        case .sparseLoad:
            let batch = c.sparse!.batch, inputBlocks = (k + Self.loadInputs - 1) / Self.loadInputs
            if block < inputBlocks {
                batch.loadInputs(block * Self.loadInputs ..< min(k, (block + 1) * Self.loadInputs))
            } else {
                let first = (block - inputBlocks) * Self.loadRows
                batch.loadRows(first ..< min(rows, first + Self.loadRows))
            }
        case .sparseForward:
            let h = c.workspace.activations[0].pointer
            c.sparse!.layer.forward(h, c.sparse!.batch, outputs: range)
            if phase.fold {
                layer.activation.forward(h, rows: rows, stride: n, columns: range)
            } else {
                layer.activation.forward(h, rows: rows, columns: n)
            }
        case .forward:
            let y = c.workspace.activations[l].pointer
            denseForwardBlock(y, c.input(l), p + layer.weightOffset, p + layer.biasOffset,
                              rows: denseBlockRows(m: rows, k: k), k: k, n: n, outputs: range)
            if phase.fold { layer.activation.forward(y, rows: rows, stride: n, columns: range) }
        case .forwardFinish:
            let y = c.workspace.activations[l].pointer
            denseForwardTail(y, c.input(l), p + layer.weightOffset, p + layer.biasOffset,
                             from: denseBlockRows(m: rows, k: k), m: rows, k: k, n: n)
            layer.activation.forward(y, rows: rows, columns: n)
        case .loss:
            let yhat = UnsafePointer(c.workspace.activations[l].pointer)
            loss = net.loss.value(yhat, c.targets, count: rows * n)
            net.loss.outputDelta(c.delta(l), yhat, c.targets, activation: layer.activation, rows: rows, columns: n)
        case .backwardInput:
            let dx = c.delta(l - 1)
            denseBackwardInputBlock(dx, c.delta(l), p + layer.weightOffset, rows: rows & ~3, k: k, n: n,
                                    inputs: range)
            if phase.fold {
                net.layers[l - 1].activation.backward(dx, output: c.input(l), rows: rows, stride: k, columns: range)
            }
        case .backwardInputPart:
            denseBackwardInputPart(c.parts + block * (rows & ~3) * k, c.delta(l), p + layer.weightOffset,
                                   rows: rows & ~3, k: k, n: n, outputs: range)
        case .backwardInputSum:
            let dx = c.delta(l - 1), tiles = (n + backwardInputTile - 1) / backwardInputTile
            denseSumParts(dx, c.parts, count: tiles, rows: rows & ~3, k: k, inputs: range)
            if phase.fold {
                net.layers[l - 1].activation.backward(dx, output: c.input(l), rows: rows, stride: k, columns: range)
            }
        case .backwardInputFinish:
            let dx = c.delta(l - 1)
            denseBackwardInputTail(dx, c.delta(l), p + layer.weightOffset, from: rows & ~3, m: rows, k: k, n: n)
            net.layers[l - 1].activation.backward(dx, output: c.input(l), rows: rows, columns: k)
        case .backwardWeights:
            let dw = c.gradients + layer.weightOffset, db = c.gradients + layer.biasOffset
            if rows >= 2 {
                denseBackwardWeightsBlock(dw, db, c.delta(l), c.input(l), m: rows, k: k, n: n, write: c.write,
                                          outputs: range)
            } else {
                denseBackwardWeights(dw, db, c.delta(l), c.input(l), m: rows, k: k, n: n, write: c.write)
            }
        case .sparseDescend:
            c.sparse!.layer.descend(delta: c.delta(0), batch: c.sparse!.batch, learningRate: c.sparseStep!,
                                    outputs: range)
        }
    }
}
