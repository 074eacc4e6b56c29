// The two passes every API above calls: forward through a range of layers, and backpropagation.

extension MLP {
    /// Runs `x` (rows × layers[first].inputSize) through `range`; layer l's outputs land in workspace.activations[l].
    /// `workers` threads share each layer's work in fixed blocks of outputs (see `LayerBlocks`): the same bits
    /// for any number of workers.
    func forwardPass(_ x: UnsafePointer<Float>, rows: Int, layers range: Range<Int>, workspace: Workspace,
                     parameters: UnsafePointer<Float>? = nil, workers: Int = 1) {
        let p = parameters ?? UnsafePointer(parameterBuffer.pointer)
        var input = x
        for l in range {
            let layer = layers[l]
            let output = workspace.activations[l].pointer
            let w = p + layer.weightOffset, b = p + layer.biasOffset
            let k = layer.inputSize, n = layer.outputSize
            let blocked = denseBlockRows(m: rows, k: k)
            let source = input
            LayerBlocks.run(n, work: blocked * k * n, workers: workers) { outputs in
                denseForwardBlock(output, source, w, b, rows: blocked, k: k, n: n, outputs: outputs)
            }
            denseForwardTail(output, input, w, b, from: blocked, m: rows, k: k, n: n)
            layer.activation.forward(output, rows: rows, columns: n)
            input = UnsafePointer(output)
        }
    }

    /// Forward through the whole network, then backpropagation of the loss against `targets`
    /// (rows × outputSize), ADDING each layer's dW and db into `gradients`. `write: .overwrite` overwrites them
    /// instead (every gradient is written, so the buffer need not be zeroed first); `.descend(learningRate:)`
    /// takes the gradient-descent step in place — `gradients` must then be the parameters — with each layer's
    /// dL/dx computed from its weights before they move. Returns the summed loss. dL/dx is not computed for
    /// the first layer: nothing consumes it. `workers` threads share each layer's work (same bits for any count).
    func backwardPass(_ x: UnsafePointer<Float>, targets: UnsafePointer<Float>, rows: Int, workspace: Workspace,
                      gradients: UnsafeMutablePointer<Float>, parameters: UnsafePointer<Float>? = nil,
                      write: GradientWrite = .accumulate, workers: Int = 1) -> Float {
        let p = parameters ?? UnsafePointer(parameterBuffer.pointer)
        forwardPass(x, rows: rows, layers: 0..<layers.count, workspace: workspace, parameters: p, workers: workers)
        return backpropagate(x, targets: targets, rows: rows, workspace: workspace, gradients: gradients,
                             parameters: p, write: write, downTo: 0, workers: workers).loss
    }

    /// The backward half of `backwardPass`, for layers `first...` whose forward pass is already in `workspace`
    /// (`x` is layer `first`'s input). With first > 0 it stops after layer `first`, returning also
    /// dL/dz of layer first − 1 (rows × its outputSize, in one of the workspace's delta buffers): the caller
    /// finishes the layers below itself.
    ///
    /// With several `workers`, each layer's dL/dx is shared in fixed blocks of inputs and then its dW (or its
    /// step) in fixed blocks of outputs; dL/dx is complete before any weight of the layer moves.
    func backpropagate(_ x: UnsafePointer<Float>, targets: UnsafePointer<Float>, rows: Int, workspace: Workspace,
                       gradients: UnsafeMutablePointer<Float>, parameters p: UnsafePointer<Float>,
                       write: GradientWrite, downTo first: Int,
                       workers: Int = 1) -> (loss: Float, delta: UnsafeMutablePointer<Float>) {
        let last = layers.count - 1
        let yhat = UnsafePointer(workspace.activations[last].pointer)
        let lossValue = loss.value(yhat, targets, count: rows * layers[last].outputSize)

        var delta = workspace.deltas.0.pointer, spare = workspace.deltas.1.pointer
        loss.outputDelta(delta, yhat, targets, activation: layers[last].activation,
                         rows: rows, columns: layers[last].outputSize)
        let shared = workers > 1 && rows >= 2
        for l in stride(from: last, through: first, by: -1) {
            let layer = layers[l]
            let input = l == first ? x : UnsafePointer(workspace.activations[l - 1].pointer)
            let k = layer.inputSize, n = layer.outputSize
            let w = p + layer.weightOffset, dy = UnsafePointer(delta)
            if l > 0 {
                if shared {
                    let dx = spare, blocked = rows & ~3
                    LayerBlocks.run(k, work: blocked * k * n, workers: workers) { inputs in
                        denseBackwardInputBlock(dx, dy, w, rows: blocked, k: k, n: n, inputs: inputs)
                    }
                    denseBackwardInputTail(dx, dy, w, from: blocked, m: rows, k: k, n: n)
                } else {
                    denseBackwardInput(spare, dy, w, m: rows, k: k, n: n)
                }
                layers[l - 1].activation.backward(spare, output: input, rows: rows, columns: k)
            }
            let dw = gradients + layer.weightOffset, db = gradients + layer.biasOffset
            if shared {
                LayerBlocks.run(n, work: rows * k * n, workers: workers) { outputs in
                    denseBackwardWeightsBlock(dw, db, dy, input, m: rows, k: k, n: n, write: write, outputs: outputs)
                }
            } else {
                denseBackwardWeights(dw, db, dy, input, m: rows, k: k, n: n, write: write)
            }
            swap(&delta, &spare)
        }
        return (lossValue, delta)
    }
}
