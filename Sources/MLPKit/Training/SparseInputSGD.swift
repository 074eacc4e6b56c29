// Per-sample SGD that exploits inputs dominated by one value (MNIST: 81% of the pixels are background).

/// Per-sample SGD whose first layer works on the few inputs that differ from a common value c.
///
/// Write each input as x = c·1 + z, with z sparse, and keep the first layer's weights as W = V + u·1ᵀ:
/// - forward:  W·x = V·z + c·(V·1) + u·(1ᵀx), where V·1 (the row sums of V) is kept up to date;
/// - update:   W −= η·δ·xᵀ becomes u −= η·c·δ (dense, tiny) and V −= η·δ·zᵀ (sparse),
///             with the row sums moving by −η·δ·Σz.
/// Every step costs O(N · nnz) instead of O(N · K), and it is the same SGD as `sgdStep` up to float rounding.
/// V is stored transposed (K × N, rows padded to 8 floats) so each nonzero input touches one contiguous row.
/// Deeper layers run the dense kernels. W is rebuilt from V and u when the epoch ends.
package final class SparseInputSGD: ParameterMirror {
    let network: MLP
    /// The common input value c.
    let background: Float
    let stride: Int
    private let vT: FloatBuffer        // K × stride: V transposed
    private let u: FloatBuffer         // N
    private let rowSums: FloatBuffer   // N: Σᵢ V[j, i]
    private let hidden: FloatBuffer    // N: the first layer's pre-activation, then activation
    private let workspace: Workspace

    /// Per sample: where its nonzero entries of z start in `indices`/`values`, and Σz.
    private let starts: [Int]
    private let indices: [Int32]
    private let values: [Float]
    private let zSums: [Float]

    /// The fraction of `inputs` equal to their most common value, and that value (among 0 and 1, the two
    /// backgrounds of image data; nil when neither dominates).
    package static func dominantValue(of inputs: [Float], sampleEvery step: Int = 7) -> (value: Float, fraction: Double)? {
        var zeros = 0, ones = 0, seen = 0
        for i in Swift.stride(from: 0, to: inputs.count, by: step) {
            seen += 1
            if inputs[i] == 0 { zeros += 1 } else if inputs[i] == 1 { ones += 1 }
        }
        guard seen > 0 else { return nil }
        return zeros >= ones ? (0, Double(zeros) / Double(seen)) : (1, Double(ones) / Double(seen))
    }

    /// Prepares sparse copies of `count` samples of `inputs` (count × inputSize) relative to `background`.
    package init(network: MLP, inputs: [Float], count: Int, background: Float) {
        self.network = network
        self.background = background
        let k = network.inputSize, n = network.layers[0].outputSize
        stride = (n + 7) / 8 * 8
        vT = FloatBuffer(count: k * stride)
        u = FloatBuffer(count: n)
        rowSums = FloatBuffer(count: n)
        hidden = FloatBuffer(count: stride)
        workspace = network.makeWorkspace(capacity: 1)
        var starts = [0], indices: [Int32] = [], values: [Float] = [], zSums: [Float] = []
        starts.reserveCapacity(count + 1)
        zSums.reserveCapacity(count)
        for s in 0..<count {
            var sum: Float = 0
            for i in 0..<k {
                let z = inputs[s * k + i] - background
                if z != 0 { indices.append(Int32(i)); values.append(z); sum += z }
            }
            starts.append(indices.count)
            zSums.append(sum)
        }
        self.starts = starts
        self.indices = indices
        self.values = values
        self.zSums = zSums
    }

    /// Mean number of inputs per sample that differ from the background.
    var meanNonzeros: Double { Double(indices.count) / Double(max(zSums.count, 1)) }

    /// One epoch of per-sample SGD in the order `order`; `target(i, buffer)` writes sample i's target into a
    /// zeroed buffer. Returns the loss summed over the epoch (each sample's loss before its step).
    package func trainEpoch(order: [Int], learningRate: Float, target: (Int, UnsafeMutablePointer<Float>) -> Void,
                            progressInterval: Int = 0, progress: (Int, Double) -> Void = { _, _ in }) -> Double {
        loadFirstLayer()
        network.mirror = self
        defer {
            storeFirstLayer()
            network.mirror = nil
        }
        let targetBuffer = workspace.targets.pointer
        var total = 0.0
        indices.withUnsafeBufferPointer { indices in
            values.withUnsafeBufferPointer { values in
                for (done, sample) in order.enumerated() {
                    for j in 0..<network.outputSize { targetBuffer[j] = 0 }
                    target(sample, targetBuffer)
                    let range = starts[sample]..<starts[sample + 1]
                    total += Double(step(indices: indices, values: values, range: range, zSum: zSums[sample],
                                         target: targetBuffer, learningRate: learningRate))
                    if progressInterval > 0, (done + 1) % progressInterval == 0 { progress(done + 1, total) }
                }
            }
        }
        return total
    }

    /// While an epoch runs: W = V + u·1ᵀ into the network, which is being read.
    package func store() { storeFirstLayer() }

    /// While an epoch runs: the parameters were set from outside; start again from them.
    package func reload() { loadFirstLayer() }

    /// vT = Wᵀ, u = 0, rowSums = W·1.
    private func loadFirstLayer() {
        let layer = network.layers[0], k = layer.inputSize, n = layer.outputSize
        let w = network.parameterBuffer.pointer + layer.weightOffset
        vT.zero()
        for j in 0..<n {
            var sum: Float = 0
            for i in 0..<k { vT.pointer[i * stride + j] = w[j * k + i]; sum += w[j * k + i] }
            rowSums.pointer[j] = sum
            u.pointer[j] = 0
        }
    }

    /// W = V + u·1ᵀ.
    private func storeFirstLayer() {
        let layer = network.layers[0], k = layer.inputSize, n = layer.outputSize
        let w = network.parameterBuffer.pointer + layer.weightOffset
        for j in 0..<n { for i in 0..<k { w[j * k + i] = vT.pointer[i * stride + j] + u.pointer[j] } }
    }

    private func step(indices: UnsafeBufferPointer<Int32>, values: UnsafeBufferPointer<Float>, range: Range<Int>,
                      zSum: Float, target: UnsafePointer<Float>, learningRate: Float) -> Float {
        let layers = network.layers, first = layers[0]
        let n = first.outputSize, k = first.inputSize
        let p = network.parameterBuffer.pointer
        let bias = p + first.biasOffset
        let h = hidden.pointer

        // First layer: z·V (sparse rows of Vᵀ) + c·rowSums + u·(1ᵀx) + b.
        let ones = Float(k) * background + zSum
        for j in 0..<n { h[j] = bias[j] + background * rowSums.pointer[j] + u.pointer[j] * ones }
        for j in n..<stride { h[j] = 0 }
        for e in range {
            axpy(h, UnsafePointer(vT.pointer + Int(indices[e]) * stride), values[e], count: stride)
        }
        let a0 = workspace.activations[0].pointer
        a0.update(from: h, count: n)
        first.activation.forward(a0, rows: 1, columns: n)
        network.forwardPass(UnsafePointer(a0), rows: 1, layers: 1..<layers.count, workspace: workspace)

        // Backprop through the dense layers with the fused update, as sgdStep does; delta is then layer 0's δ.
        let (lossValue, delta) = network.backpropagateWithUpdate(input: UnsafePointer(a0), target: target,
                                                                 learningRate: learningRate, workspace: workspace,
                                                                 downTo: 1)

        // First layer update: b −= η·δ, u −= η·c·δ, V −= η·δ·zᵀ (sparse), rowSums −= η·δ·Σz.
        for j in 0..<n {
            let d = delta[j]
            bias[j] -= learningRate * d
            u.pointer[j] -= learningRate * background * d
            rowSums.pointer[j] -= learningRate * d * zSum
        }
        // δ has n entries (its buffer may end there, when this is the widest layer); the padding is zeros.
        let scaled = h                                   // reuse: −η·δ, padded with zeros
        for j in 0..<n { scaled[j] = -learningRate * delta[j] }
        for j in n..<stride { scaled[j] = 0 }
        for e in range {
            axpy(vT.pointer + Int(indices[e]) * stride, UnsafePointer(scaled), values[e], count: stride)
        }
        return lossValue
    }
}
