// The first layer stored so that a step touches only the inputs that differ from the background: for mini-batches,
// and for per-sample SGD as a batch of one.

/// The first layer of a network trained on inputs that are mostly one value c (MNIST: 81% of the pixels are
/// background), by mini-batches or sample by sample (a batch of one). Write each input as x = c·1 + z, with z sparse, and keep the weights as W = V + u·1ᵀ:
/// - forward:  W·x + b = V·z + u·(1ᵀx) + c·(V·1) + b, where V·1 (the row sums of V) is kept up to date;
/// - step:     W −= η·Σ δ·xᵀ becomes V −= η·Σ δ·zᵀ (sparse) and u −= η·c·Σ δ (dense, tiny), the row sums
///             moving by −η·Σ δ·(1ᵀz).
/// A batch then costs O(N · nonzeros) instead of O(N · K) in this layer, and the training is the same mini-batch
/// gradient descent as with the dense layer up to float rounding. V is kept transposed (K × N, rows padded to
/// whole SIMD vectors), so each input's weights are one contiguous row, read once per batch for all the samples
/// in which that input is not background (`SparseBatch` lists them).
///
/// While it trains, the network's own copy of W is stale: `store()` writes W = V + u·1ᵀ back, and the network
/// calls it (as its `mirror`) whenever it is read.
final class SparseFirstLayer: ParameterMirror {
    let network: MLP
    /// The common input value c.
    let background: Float
    /// N rounded up to a multiple of 8: each row of Vᵀ is whole SIMD vectors, zero-padded.
    let stride: Int
    private let vT: FloatBuffer        // K × stride: V transposed
    private let u: FloatBuffer         // N
    private let rowSums: FloatBuffer   // N: Σᵢ V[j, i]
    /// Whether V or u moved since W was last written back; the trainer sets it after each step.
    var changed = false

    /// Takes over `network`'s first layer: V = W, u = 0.
    init(network: MLP, background: Float) {
        self.network = network
        self.background = background
        let layer = network.layers[0]
        stride = (layer.outputSize + 7) / 8 * 8
        vT = FloatBuffer(count: layer.inputSize * stride)
        u = FloatBuffer(count: layer.outputSize)
        rowSums = FloatBuffer(count: layer.outputSize)
        reload()
        network.mirror = self
    }

    /// Leaves the network up to date when the trainer lets go of the layer.
    deinit { store() }

    /// Starts afresh from the trained W (stored first): V = W, u = 0. Trainers call it at every epoch's start,
    /// so the running row sums never drift for long.
    func restart() {
        store()
        reload()
    }

    /// V = W, u = 0, from the network's first layer.
    func reload() {
        let layer = network.layers[0], k = layer.inputSize, n = layer.outputSize
        let w = network.parameterBuffer.pointer + layer.weightOffset
        for j in 0..<n { for i in 0..<k { vT.pointer[i * stride + j] = w[j * k + i] } }
        u.zero()
        recomputeRowSums()
        changed = false
    }

    /// Writes W = V + u·1ᵀ into the network when a step has moved V or u since the last time. The layer's own
    /// state is left as it is, so reading the network mid-epoch (a figure, a checkpoint) never changes the
    /// training; the running row sums, which drift by float rounding, are recomputed at each `restart`.
    func store() {
        guard changed else { return }
        changed = false
        let layer = network.layers[0], k = layer.inputSize, n = layer.outputSize
        let w = network.parameterBuffer.pointer + layer.weightOffset
        for j in 0..<n { for i in 0..<k { w[j * k + i] = vT.pointer[i * stride + j] + u.pointer[j] } }
    }

    /// The layer's own state, to continue from it later with the same bits.
    var state: SparseLayerState {
        SparseLayerState(vTransposed: vT.array, stride: stride, u: u.array, rowSums: rowSums.array)
    }

    /// Continues from `state` (taken from a layer of the same shape), after checking that it fits.
    func restore(_ state: SparseLayerState) throws {
        let layer = network.layers[0]
        guard state.stride == stride, state.vTransposed.count == layer.inputSize * stride,
              state.u.count == layer.outputSize, state.rowSums.count == layer.outputSize else {
            throw MLPError("the sparse first layer's saved state does not fit a \(layer.inputSize) → "
                           + "\(layer.outputSize) layer")
        }
        vT.assign(state.vTransposed)
        u.assign(state.u)
        rowSums.assign(state.rowSums)
        changed = true
        store()
    }

    private func recomputeRowSums() {
        let k = network.layers[0].inputSize, n = network.layers[0].outputSize
        for j in 0..<n { rowSums.pointer[j] = 0 }
        for i in 0..<k { for j in 0..<n { rowSums.pointer[j] += vT.pointer[i * stride + j] } }
    }

    /// h = W·x + b for each row of `batch`, into h (rows × N, before the activation). The rows are formed
    /// `stride` wide in the batch's scratch (h itself when N is a multiple of 8), each non-background input
    /// adding its row of Vᵀ in whole vectors.
    func forward(_ h: UnsafeMutablePointer<Float>, _ batch: SparseBatch) {
        let layer = network.layers[0], k = layer.inputSize, n = layer.outputSize
        let bias = network.parameterBuffer.pointer + layer.biasOffset
        let c = background, u = u.pointer, rowSums = rowSums.pointer
        let padded = stride == n ? h : batch.scratch(stride: stride)
        for r in 0..<batch.rows {
            let ones = Float(k) * c + batch.zSums[r]
            let row = padded + r * stride
            for j in 0..<n { row[j] = bias[j] + c * rowSums[j] + u[j] * ones }
            for j in n..<stride { row[j] = 0 }
        }
        if let one = batch.single {
            // One sample, read in place: each non-background input adds its row of Vᵀ.
            for e in 0..<one.count {
                axpy(padded, vT.pointer + Int(one.indices[e]) * stride, one.values[e], count: stride)
            }
        } else {
            for a in 0..<batch.activeCount {
                let i = Int(batch.active[a])
                let v = UnsafePointer(vT.pointer + i * stride)
                let slots = i * batch.capacity
                for e in slots..<(slots + Int(batch.counts[i])) {
                    axpy(padded + Int(batch.sampleRows[e]) * stride, v, batch.values[e], count: stride)
                }
            }
        }
        if padded != h {
            for r in 0..<batch.rows { (h + r * n).update(from: padded + r * stride, count: n) }
        }
    }

    /// The gradient-descent step for the samples of `batch`, whose dL/dz are the rows of `delta` (rows × N),
    /// restricted to outputs `outputs` (whose bounds are multiples of 8 or N). Sample after sample, as
    /// per-sample SGD moves them: b −= η·δ, u −= η·c·δ, the row sums −= η·δ·(1ᵀz), and V += z·(−η·δ) as FMAs
    /// straight into V, so a batch of one is exactly a per-sample step. Every weight's update is formed the
    /// same way whatever the ranges, so splitting the outputs across threads does not change the result.
    func descend(delta: UnsafePointer<Float>, batch: SparseBatch, learningRate: Float, outputs: Range<Int>) {
        let layer = network.layers[0], n = layer.outputSize
        let bias = network.parameterBuffer.pointer + layer.biasOffset
        let rate = learningRate, c = background
        // −η·δ, `stride` wide and zero-padded, so V moves in whole vectors.
        let scaled = batch.scratch(stride: stride)
        let end = outputs.upperBound == n ? stride : outputs.upperBound
        for r in 0..<batch.rows {
            let zSum = batch.zSums[r], d = delta + r * n, s = scaled + r * stride
            for j in outputs {
                bias[j] -= rate * d[j]
                u.pointer[j] -= rate * c * d[j]
                rowSums.pointer[j] -= rate * d[j] * zSum
                s[j] = -rate * d[j]
            }
            for j in outputs.upperBound..<end { s[j] = 0 }
        }
        if let one = batch.single {
            for e in 0..<one.count {
                axpy(vT.pointer + Int(one.indices[e]) * stride + outputs.lowerBound,
                     UnsafePointer(scaled + outputs.lowerBound), one.values[e], count: end - outputs.lowerBound)
            }
            return
        }
        for a in 0..<batch.activeCount {
            let i = Int(batch.active[a])
            let v = vT.pointer + i * stride
            let slots = i * batch.capacity, count = Int(batch.counts[i])
            let rows = UnsafePointer(batch.sampleRows + slots), values = UnsafePointer(batch.values + slots)
            var j = outputs.lowerBound
            while j + 32 <= end {
                descend32(v + j, UnsafePointer(scaled + j), rows: rows, values: values, count: count, stride: stride)
                j += 32
            }
            while j < end {
                descend8(v + j, UnsafePointer(scaled + j), rows: rows, values: values, count: count, stride: stride)
                j += 8
            }
        }
    }

    /// v[0..<32] += Σₑ values[e]·scaled[rows[e]·stride ..< +32], e in order: four independent chains of FMAs, so
    /// the adds do not wait on each other (a single chain runs at a quarter of the FMA rate). Each float's sum is
    /// formed as in `descend8`.
    @inline(never)
    private func descend32(_ v: UnsafeMutablePointer<Float>, _ scaled: UnsafePointer<Float>,
                           rows: UnsafePointer<Int32>, values: UnsafePointer<Float>, count: Int, stride: Int) {
        var w0 = load8(v), w1 = load8(v + 8), w2 = load8(v + 16), w3 = load8(v + 24)
        var e = 0
        while e < count {
            let z = splat(values[e]), s = scaled + Int(rows[e]) &* stride
            w0 = w0.addingProduct(z, load8(s)); w1 = w1.addingProduct(z, load8(s + 8))
            w2 = w2.addingProduct(z, load8(s + 16)); w3 = w3.addingProduct(z, load8(s + 24))
            e &+= 1
        }
        store8(w0, v); store8(w1, v + 8); store8(w2, v + 16); store8(w3, v + 24)
    }

    /// v[0..<8] += Σₑ values[e]·scaled[rows[e]·stride ..< +8], e in order.
    @inline(never)
    private func descend8(_ v: UnsafeMutablePointer<Float>, _ scaled: UnsafePointer<Float>,
                          rows: UnsafePointer<Int32>, values: UnsafePointer<Float>, count: Int, stride: Int) {
        var w = load8(v)
        var e = 0
        while e < count {
            w = w.addingProduct(splat(values[e]), load8(scaled + Int(rows[e]) &* stride))
            e &+= 1
        }
        store8(w, v)
    }
}

extension MLP {
    /// Forward and backward passes of the rows of `batch` with the first layer sparse: `layer` computes the
    /// first layer, the dense kernels the rest, and backpropagation applies `write` to `gradients` for layers
    /// 1…, stopping there. Returns the summed loss and the first layer's dL/dz (rows × its outputs, in a
    /// workspace buffer) for `layer.descend`.
    func sparsePass(_ layer: SparseFirstLayer, _ batch: SparseBatch, targets: UnsafePointer<Float>,
                    workspace: Workspace, gradients: UnsafeMutablePointer<Float>, parameters: UnsafePointer<Float>,
                    write: GradientWrite) -> (loss: Float, delta: UnsafeMutablePointer<Float>) {
        let first = layers[0], rows = batch.rows
        let h = workspace.activations[0].pointer
        layer.forward(h, batch)
        first.activation.forward(h, rows: rows, columns: first.outputSize)
        forwardPass(h, rows: rows, layers: 1..<layers.count, workspace: workspace, parameters: parameters)
        return backpropagate(h, targets: targets, rows: rows, workspace: workspace, gradients: gradients,
                             parameters: parameters, write: write, downTo: 1)
    }
}

/// A whole data set's inputs relative to a background value c, in compressed rows: for each sample, the inputs
/// that are not c, their z = x − c, and Σz. Built once, so per-sample SGD loads a sample's few non-background
/// inputs without scanning all of them.
final class SparseRows {
    /// Sample s's entries are starts[s] ..< starts[s + 1] of `indices` and `values`, inputs in increasing order.
    let starts: [Int]
    let indices: UnsafeMutablePointer<Int32>
    let values: UnsafeMutablePointer<Float>
    /// Σz per sample.
    let zSums: [Float]

    /// The rows of `inputs` (count × width) relative to `background`.
    init(inputs: [Float], width: Int, background: Float) {
        let count = inputs.count / width
        var starts = [0], indices: [Int32] = [], values: [Float] = [], zSums: [Float] = []
        starts.reserveCapacity(count + 1)
        zSums.reserveCapacity(count)
        for s in 0..<count {
            var sum: Float = 0
            for i in 0..<width {
                let z = inputs[s * width + i] - background
                if z != 0 { indices.append(Int32(i)); values.append(z); sum += z }
            }
            starts.append(indices.count)
            zSums.append(sum)
        }
        self.starts = starts
        self.indices = .allocate(capacity: max(indices.count, 1))
        self.indices.initialize(from: indices, count: indices.count)
        self.values = .allocate(capacity: max(values.count, 1))
        self.values.initialize(from: values, count: values.count)
        self.zSums = zSums
    }

    deinit {
        indices.deallocate()
        values.deallocate()
    }

    /// Mean number of non-background inputs per sample.
    var meanNonzeros: Double { Double(starts.last ?? 0) / Double(max(zSums.count, 1)) }
}

/// A batch of inputs relative to a background value c, in compressed-column form: for every input i, the rows
/// (samples) whose input i is not c, with z = x − c. Preallocated for up to `capacity` rows; `load` refills it.
final class SparseBatch {
    /// Largest number of rows.
    let capacity: Int
    /// Inputs per row (K).
    let inputs: Int
    /// Rows loaded.
    private(set) var rows = 0
    /// counts[i]: how many rows have input i ≠ c; their row numbers and z values are in
    /// sampleRows/values[i·capacity ..< i·capacity + counts[i]], rows in increasing order.
    let counts: UnsafeMutablePointer<Int32>
    let sampleRows: UnsafeMutablePointer<Int32>
    let values: UnsafeMutablePointer<Float>
    /// The inputs with counts[i] > 0, in increasing order: active[0..<activeCount].
    let active: UnsafeMutablePointer<Int32>
    private(set) var activeCount = 0
    /// zSums[r] = Σᵢ z[r, i].
    let zSums: UnsafeMutablePointer<Float>

    /// capacity × width floats for the layer's work on this batch: its padded outputs, then its scaled deltas.
    private let scratchBuffer: FloatBuffer
    /// The padded width of a scratch row.
    let width: Int

    /// The scratch rows, `stride` (the layer's padded width, at most `width`) apart.
    func scratch(stride: Int) -> UnsafeMutablePointer<Float> {
        precondition(stride <= width, "the batch was made for a narrower layer")
        return scratchBuffer.pointer
    }

    /// Room for `capacity` rows of `inputs` inputs, for a sparse layer of padded width `width`.
    init(capacity: Int, inputs: Int, width: Int) {
        self.capacity = capacity
        self.inputs = inputs
        self.width = width
        scratchBuffer = FloatBuffer(count: capacity * width)
        counts = .allocate(capacity: inputs)
        counts.initialize(repeating: 0, count: inputs)
        sampleRows = .allocate(capacity: inputs * capacity)
        values = .allocate(capacity: inputs * capacity)
        active = .allocate(capacity: inputs)
        zSums = .allocate(capacity: capacity)
    }

    deinit {
        counts.deallocate(); sampleRows.deallocate(); values.deallocate(); active.deallocate(); zSums.deallocate()
    }

    /// One sample's non-background inputs and their z, read in place from `SparseRows` (set by
    /// `load(sample:from:)`, cleared by `load(rows:…)`), inputs in increasing order.
    private(set) var single: (indices: UnsafePointer<Int32>, values: UnsafePointer<Float>, count: Int)?

    /// Makes sample `sample` of `rows` the batch's only row, without copying: the layer reads its entries in
    /// place, so the cost follows the number of non-background inputs, not the input size. `rows` must outlive
    /// the use of the batch.
    func load(sample: Int, from rows: SparseRows) {
        let first = rows.starts[sample]
        single = (UnsafePointer(rows.indices + first), UnsafePointer(rows.values + first),
                  rows.starts[sample + 1] - first)
        self.rows = 1
        zSums[0] = rows.zSums[sample]
    }

    /// Loads `rows` rows, row r being `source(r)` (`inputs` floats), relative to `background`.
    func load(rows: Int, background: Float, source: (Int) -> UnsafePointer<Float>) {
        precondition(rows <= capacity)
        self.rows = rows
        single = nil
        counts.update(repeating: 0, count: inputs)
        let c = splat(background)
        for r in 0..<rows {
            let x = source(r)
            var sum: Float = 0
            var i = 0
            while i < inputs {
                // Skip 8 background inputs at a time (most of an image's border).
                if i + 8 <= inputs, all(load8(x + i) .== c) {
                    i += 8
                    continue
                }
                let end = min(i + 8, inputs)
                while i < end {
                    let z = x[i] - background
                    if z != 0 {
                        let slot = i * capacity + Int(counts[i])
                        sampleRows[slot] = Int32(r)
                        values[slot] = z
                        counts[i] += 1
                        sum += z
                    }
                    i += 1
                }
            }
            zSums[r] = sum
        }
        activeCount = 0
        for i in 0..<inputs where counts[i] > 0 {
            active[activeCount] = Int32(i)
            activeCount += 1
        }
    }
}
