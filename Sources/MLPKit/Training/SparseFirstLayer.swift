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

    /// h[:, outputs] = W·x + b for each row of `batch`, into h (rows × N, before the activation); the bounds of
    /// `outputs` are multiples of 8 (or N), so blocks of outputs can run on different threads. Each row's outputs
    /// are formed a strip at a time in registers (`accumulate`) from b + c·(V·1) + u·(1ᵀx), adding the row of Vᵀ
    /// of each non-background input in increasing order: the same sums, in the same order, whatever the blocks.
    /// When N is not a multiple of 8 they are formed `stride` wide in the batch's scratch and copied into h.
    func forward(_ h: UnsafeMutablePointer<Float>, _ batch: SparseBatch, outputs: Range<Int>) {
        let layer = network.layers[0], k = layer.inputSize, n = layer.outputSize
        let bias = network.parameterBuffer.pointer + layer.biasOffset
        let c = background, u = u.pointer, rowSums = rowSums.pointer
        let padded = stride == n ? h : batch.scratch(stride: stride)
        let end = outputs.upperBound == n ? stride : outputs.upperBound
        let v = UnsafePointer(vT.pointer)
        for r in 0..<batch.rows {
            let ones = Float(k) * c + batch.zSums[r]
            let row = padded + r * stride
            for j in outputs { row[j] = bias[j] + c * rowSums[j] + u[j] * ones }
            for j in outputs.upperBound..<end { row[j] = 0 }
        }
        // A strip of outputs at a time, over all the rows: the strip of Vᵀ stays in cache from row to row.
        var j = outputs.lowerBound
        while j < end {
            let width = stripWidth(end - j)
            for r in 0..<batch.rows {
                let entries = batch.entries(row: r)
                accumulate(padded + (r * stride + j), v + j, entries.indices, entries.values, count: entries.count,
                           stride: stride, width: width)
            }
            j += width
        }
        if padded != h {
            for r in 0..<batch.rows {
                (h + (r * n + outputs.lowerBound)).update(from: padded + (r * stride + outputs.lowerBound),
                                                          count: outputs.count)
            }
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
        for i in 0..<batch.inputs where batch.counts[i] > 0 {
            let v = vT.pointer + i * stride
            let slots = i * batch.capacity, count = Int(batch.counts[i])
            let rows = UnsafePointer(batch.sampleRows + slots), values = UnsafePointer(batch.values + slots)
            var j = outputs.lowerBound
            while j < end {
                let width = stripWidth(end - j)
                accumulate(v + j, UnsafePointer(scaled + j), rows, values, count: count, stride: stride, width: width)
                j += width
            }
        }
    }
}

// The sparse layer's inner loops: a strip of floats a, kept in registers, plus values[e] times the strip at row
// rows[e] of a matrix with rows `stride` apart, for every e in order. The forward pass gathers rows of Vᵀ into an
// output row; the step gathers rows of −η·δ into a row of Vᵀ. The strip is 48 wide (six independent chains of
// FMAs, enough to hide their latency), or 32 or 8 at the end of a range; each float's sum is formed the same way
// whatever the width.

/// The width of the next strip when `remaining` floats (a multiple of 8) are left: 48, or 32 or 8 at the end.
@inline(__always)
private func stripWidth(_ remaining: Int) -> Int { remaining >= 48 ? 48 : remaining >= 32 ? 32 : 8 }

/// a[0..<width] += Σₑ values[e]·m[rows[e]·stride ..< +width], e in order, for a width from `stripWidth`.
@inline(__always)
private func accumulate(_ a: UnsafeMutablePointer<Float>, _ m: UnsafePointer<Float>, _ rows: UnsafePointer<Int32>,
                        _ values: UnsafePointer<Float>, count: Int, stride: Int, width: Int) {
    switch width {
    case 48: accumulate48(a, m, rows, values, count: count, stride: stride)
    case 32: accumulate32(a, m, rows, values, count: count, stride: stride)
    default: accumulate8(a, m, rows, values, count: count, stride: stride)
    }
}

/// a[0..<48] += Σₑ values[e]·m[rows[e]·stride ..< +48], e in order.
@inline(never)
private func accumulate48(_ a: UnsafeMutablePointer<Float>, _ m: UnsafePointer<Float>, _ rows: UnsafePointer<Int32>,
                          _ values: UnsafePointer<Float>, count: Int, stride: Int) {
    var a0 = load8(a), a1 = load8(a + 8), a2 = load8(a + 16), a3 = load8(a + 24), a4 = load8(a + 32)
    var a5 = load8(a + 40)
    var e = 0
    while e < count {
        let z = splat(values[e]), s = m + Int(rows[e]) &* stride
        a0 = a0.addingProduct(z, load8(s)); a1 = a1.addingProduct(z, load8(s + 8))
        a2 = a2.addingProduct(z, load8(s + 16)); a3 = a3.addingProduct(z, load8(s + 24))
        a4 = a4.addingProduct(z, load8(s + 32)); a5 = a5.addingProduct(z, load8(s + 40))
        e &+= 1
    }
    store8(a0, a); store8(a1, a + 8); store8(a2, a + 16); store8(a3, a + 24); store8(a4, a + 32)
    store8(a5, a + 40)
}

/// a[0..<32] += Σₑ values[e]·m[rows[e]·stride ..< +32], e in order.
@inline(never)
private func accumulate32(_ a: UnsafeMutablePointer<Float>, _ m: UnsafePointer<Float>, _ rows: UnsafePointer<Int32>,
                          _ values: UnsafePointer<Float>, count: Int, stride: Int) {
    var a0 = load8(a), a1 = load8(a + 8), a2 = load8(a + 16), a3 = load8(a + 24)
    var e = 0
    while e < count {
        let z = splat(values[e]), s = m + Int(rows[e]) &* stride
        a0 = a0.addingProduct(z, load8(s)); a1 = a1.addingProduct(z, load8(s + 8))
        a2 = a2.addingProduct(z, load8(s + 16)); a3 = a3.addingProduct(z, load8(s + 24))
        e &+= 1
    }
    store8(a0, a); store8(a1, a + 8); store8(a2, a + 16); store8(a3, a + 24)
}

/// a[0..<8] += Σₑ values[e]·m[rows[e]·stride ..< +8], e in order.
@inline(never)
private func accumulate8(_ a: UnsafeMutablePointer<Float>, _ m: UnsafePointer<Float>, _ rows: UnsafePointer<Int32>,
                         _ values: UnsafePointer<Float>, count: Int, stride: Int) {
    var a0 = load8(a)
    var e = 0
    while e < count {
        a0 = a0.addingProduct(splat(values[e]), load8(m + Int(rows[e]) &* stride))
        e &+= 1
    }
    store8(a0, a)
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

/// A batch of inputs relative to a background value c, listed both ways: for every input i, the rows (samples)
/// whose input i is not c (for the step, which walks the inputs), and for every row, its inputs that are not c (for
/// the forward pass, which walks the rows), each with z = x − c. Preallocated for up to `capacity` rows; `load`
/// refills it, or `begin` and then `loadInputs` and `loadRows` in blocks that can run on different threads.
final class SparseBatch {
    /// Largest number of rows.
    let capacity: Int
    /// Inputs per row (K).
    let inputs: Int
    /// Rows loaded.
    private(set) var rows = 0
    /// The value the inputs are taken relative to.
    private(set) var background: Float = 0
    /// counts[i]: how many rows have input i ≠ c; their row numbers and z values are in
    /// sampleRows/values[i·capacity ..< i·capacity + counts[i]], rows in increasing order.
    let counts: UnsafeMutablePointer<Int32>
    let sampleRows: UnsafeMutablePointer<Int32>
    let values: UnsafeMutablePointer<Float>
    /// rowCounts[r]: how many inputs of row r are not c; their indices and z values are in
    /// rowInputs/rowValues[r·inputs ..< r·inputs + rowCounts[r]], inputs in increasing order.
    let rowCounts: UnsafeMutablePointer<Int32>
    let rowInputs: UnsafeMutablePointer<Int32>
    let rowValues: UnsafeMutablePointer<Float>
    /// zSums[r] = Σᵢ z[r, i].
    let zSums: UnsafeMutablePointer<Float>
    /// Where row r's inputs are read from (set by `begin`'s caller, `inputs` floats each).
    let sources: UnsafeMutablePointer<UnsafePointer<Float>>

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
        rowCounts = .allocate(capacity: capacity)
        rowCounts.initialize(repeating: 0, count: capacity)
        rowInputs = .allocate(capacity: inputs * capacity)
        rowValues = .allocate(capacity: inputs * capacity)
        zSums = .allocate(capacity: capacity)
        sources = .allocate(capacity: capacity)
    }

    deinit {
        counts.deallocate(); sampleRows.deallocate(); values.deallocate(); zSums.deallocate()
        rowCounts.deallocate(); rowInputs.deallocate(); rowValues.deallocate(); sources.deallocate()
    }

    /// One sample's non-background inputs and their z, read in place from `SparseRows` (set by
    /// `load(sample:from:)`, cleared by `begin`), inputs in increasing order.
    private(set) var single: (indices: UnsafePointer<Int32>, values: UnsafePointer<Float>, count: Int)?

    /// Row r's non-background inputs and their z, inputs in increasing order.
    func entries(row r: Int) -> (indices: UnsafePointer<Int32>, values: UnsafePointer<Float>, count: Int) {
        if let single { return single }
        return (UnsafePointer(rowInputs + r * inputs), UnsafePointer(rowValues + r * inputs), Int(rowCounts[r]))
    }

    /// Makes sample `sample` of `rows` the batch's only row, without copying: the layer reads its entries in
    /// place, so the cost follows the number of non-background inputs, not the input size. `rows` must outlive
    /// the use of the batch. (The per-input lists are not filled: the step reads `single`.)
    func load(sample: Int, from rows: SparseRows) {
        let first = rows.starts[sample]
        single = (UnsafePointer(rows.indices + first), UnsafePointer(rows.values + first),
                  rows.starts[sample + 1] - first)
        self.rows = 1
        zSums[0] = rows.zSums[sample]
    }

    /// Loads `rows` rows, row r being `source(r)` (`inputs` floats), relative to `background`.
    func load(rows: Int, background: Float, source: (Int) -> UnsafePointer<Float>) {
        for r in 0..<rows { sources[r] = source(r) }
        begin(rows: rows, background: background)
        loadAll()
    }

    /// `loadInputs(0..<inputs)` and `loadRows(0..<rows)` in one scan of every row (after `begin`).
    func loadAll() {
        counts.update(repeating: 0, count: inputs)
        for r in 0..<rows { list(row: r, byInput: true) }
    }

    /// Starts a batch of `rows` rows, read from `sources[0..<rows]` by `loadInputs` and `loadRows`, which must
    /// then cover every input and every row before the batch is used.
    func begin(rows: Int, background: Float) {
        precondition(rows <= capacity)
        self.rows = rows
        self.background = background
        single = nil
    }

    /// The per-input lists of inputs `range`: every row is scanned over those inputs, rows in order.
    func loadInputs(_ range: Range<Int>) {
        counts.advanced(by: range.lowerBound).update(repeating: 0, count: range.count)
        for r in 0..<rows {
            scan(row: r, inputs: range) { i, z in add(row: r, input: i, z) }
        }
    }

    /// The per-row lists and Σz of rows `range`.
    func loadRows(_ range: Range<Int>) {
        for r in range { list(row: r, byInput: false) }
    }

    /// Lists row r's non-background inputs and their Σz, and also adds them to the per-input lists when
    /// `byInput` (rows taken in order).
    @inline(__always)
    private func list(row r: Int, byInput: Bool) {
        let base = r * inputs
        var count = 0
        var sum: Float = 0
        scan(row: r, inputs: 0..<inputs) { i, z in
            if byInput { add(row: r, input: i, z) }
            rowInputs[base + count] = Int32(i)
            rowValues[base + count] = z
            count += 1
            sum += z
        }
        rowCounts[r] = Int32(count)
        zSums[r] = sum
    }

    /// Appends row r, with z, to input i's list.
    @inline(__always)
    private func add(row r: Int, input i: Int, _ z: Float) {
        let slot = i * capacity + Int(counts[i])
        sampleRows[slot] = Int32(r)
        values[slot] = z
        counts[i] += 1
    }

    /// Calls `body(i, z)` for each input i in `range` of row r that is not the background, in increasing order,
    /// skipping 8 background inputs at a time (most of an image's border).
    @inline(__always)
    private func scan(row r: Int, inputs range: Range<Int>, _ body: (Int, Float) -> Void) {
        let x = sources[r], c = splat(background)
        var i = range.lowerBound
        while i < range.upperBound {
            if i + 8 <= range.upperBound, all(load8(x + i) .== c) {
                i += 8
                continue
            }
            let end = min(i + 8, range.upperBound)
            while i < end {
                let z = x[i] - background
                if z != 0 { body(i, z) }
                i += 1
            }
        }
    }
}
