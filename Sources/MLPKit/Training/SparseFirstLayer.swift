// A mini-batch trainer's first layer, stored so that a step touches only the inputs that differ from the background.

/// The first layer of a network trained by mini-batches whose inputs are mostly one value c (MNIST: 81% of the
/// pixels are background). Write each input as x = c·1 + z, with z sparse, and keep the weights as W = V + u·1ᵀ:
/// - forward:  W·x + b = V·z + u·(1ᵀx) + c·(V·1) + b, where V·1 (the row sums of V) is kept up to date;
/// - step:     W −= η·Σ δ·xᵀ becomes V −= η·Σ δ·zᵀ (sparse) and u −= η·c·Σ δ (dense, tiny), the row sums
///             moving by −η·Σ δ·(1ᵀz).
/// A batch then costs O(N · nonzeros) instead of O(N · K) in this layer, and the training is the same mini-batch
/// gradient descent as with the dense layer up to float rounding. V is kept transposed (K × N), so each input's
/// weights are one contiguous row, read once per batch for all the samples in which that input is not
/// background (`SparseBatch` lists them).
///
/// While it trains, the network's own copy of W is stale: `store()` writes W = V + u·1ᵀ back, and the network
/// calls it (as its `mirror`) whenever it is read.
final class SparseFirstLayer: ParameterMirror {
    let network: MLP
    /// The common input value c.
    let background: Float
    private let vT: FloatBuffer        // K × N: V transposed
    private let u: FloatBuffer         // N
    private let rowSums: FloatBuffer   // N: Σᵢ V[j, i]
    /// Whether V or u moved since W was last written back; the trainer sets it after each step.
    var changed = false

    /// Takes over `network`'s first layer: V = W, u = 0.
    init(network: MLP, background: Float) {
        self.network = network
        self.background = background
        let layer = network.layers[0]
        vT = FloatBuffer(count: layer.inputSize * layer.outputSize)
        u = FloatBuffer(count: layer.outputSize)
        rowSums = FloatBuffer(count: layer.outputSize)
        reload()
        network.mirror = self
    }

    /// Leaves the network up to date when the trainer lets go of the layer.
    deinit { store() }

    /// V = W, u = 0, from the network's first layer.
    func reload() {
        let layer = network.layers[0], k = layer.inputSize, n = layer.outputSize
        let w = network.parameterBuffer.pointer + layer.weightOffset
        for j in 0..<n { for i in 0..<k { vT.pointer[i * n + j] = w[j * k + i] } }
        u.zero()
        recomputeRowSums()
        changed = false
    }

    /// Writes W = V + u·1ᵀ into the network, and recomputes the row sums (whose running updates drift by
    /// float rounding), when a step has moved them since the last time.
    func store() {
        guard changed else { return }
        changed = false
        let layer = network.layers[0], k = layer.inputSize, n = layer.outputSize
        let w = network.parameterBuffer.pointer + layer.weightOffset
        for j in 0..<n { for i in 0..<k { w[j * k + i] = vT.pointer[i * n + j] + u.pointer[j] } }
        recomputeRowSums()
    }

    private func recomputeRowSums() {
        let k = network.layers[0].inputSize, n = network.layers[0].outputSize
        for j in 0..<n { rowSums.pointer[j] = 0 }
        for i in 0..<k { for j in 0..<n { rowSums.pointer[j] += vT.pointer[i * n + j] } }
    }

    /// h = W·x + b for each row of `batch`, into h (rows × N, before the activation).
    func forward(_ h: UnsafeMutablePointer<Float>, _ batch: SparseBatch) {
        let layer = network.layers[0], k = layer.inputSize, n = layer.outputSize
        let bias = network.parameterBuffer.pointer + layer.biasOffset
        let c = background, u = u.pointer, rowSums = rowSums.pointer
        for r in 0..<batch.rows {
            let ones = Float(k) * c + batch.zSums[r]
            let row = h + r * n
            for j in 0..<n { row[j] = bias[j] + c * rowSums[j] + u[j] * ones }
        }
        for a in 0..<batch.activeCount {
            let i = Int(batch.active[a])
            let v = UnsafePointer(vT.pointer + i * n)
            let slots = i * batch.capacity
            for e in slots..<(slots + Int(batch.counts[i])) {
                axpy(h + Int(batch.sampleRows[e]) * n, v, batch.values[e], count: n)
            }
        }
    }

    /// The gradient-descent step for the samples of `batch`, whose dL/dz are the rows of `delta` (rows × N),
    /// restricted to outputs `outputs` (whose bounds are multiples of 8 or N). Every weight's update is formed
    /// the same way whatever the ranges, so splitting the outputs across threads does not change the result.
    func descend(delta: UnsafePointer<Float>, batch: SparseBatch, learningRate: Float, outputs: Range<Int>) {
        let layer = network.layers[0], n = layer.outputSize
        let bias = network.parameterBuffer.pointer + layer.biasOffset
        let rate = learningRate, c = background
        for j in outputs {
            var sum: Float = 0, weighted: Float = 0
            for r in 0..<batch.rows {
                let d = delta[r * n + j]
                sum += d
                weighted = weighted.addingProduct(batch.zSums[r], d)
            }
            bias[j] -= rate * sum
            u.pointer[j] -= rate * c * sum
            rowSums.pointer[j] -= rate * weighted
        }
        let vector = outputs.lowerBound + (outputs.count & ~7)
        for a in 0..<batch.activeCount {
            let i = Int(batch.active[a])
            let v = vT.pointer + i * n
            let slots = i * batch.capacity, end = slots + Int(batch.counts[i])
            var j = outputs.lowerBound
            while j < vector {
                var g = SIMD8<Float>()
                for e in slots..<end {
                    g = g.addingProduct(splat(batch.values[e]), load8(delta + (Int(batch.sampleRows[e]) * n + j)))
                }
                store8(load8(v + j) - splat(rate) * g, v + j)
                j += 8
            }
            while j < outputs.upperBound {
                var g: Float = 0
                for e in slots..<end { g = g.addingProduct(batch.values[e], delta[Int(batch.sampleRows[e]) * n + j]) }
                v[j] -= rate * g
                j += 1
            }
        }
    }
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

    init(capacity: Int, inputs: Int) {
        self.capacity = capacity
        self.inputs = inputs
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

    /// Loads `rows` rows, row r being `source(r)` (`inputs` floats), relative to `background`.
    func load(rows: Int, background: Float, source: (Int) -> UnsafePointer<Float>) {
        precondition(rows <= capacity)
        self.rows = rows
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
