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
