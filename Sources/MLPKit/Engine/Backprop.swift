// The forward pass every inference API calls, and per-sample SGD's backpropagation (mini-batch steps run as a
// `StepPlan` instead).

extension MLP {
    /// Runs `x` (rows × layers[first].inputSize) through `range`; layer l's outputs land in workspace.activations[l].
    /// With `descending`, a single sample reads each layer's rows of W last block first (`matVecDescending`).
    func forwardPass(_ x: UnsafePointer<Float>, rows: Int, layers range: Range<Int>, workspace: Workspace,
                     parameters: UnsafePointer<Float>? = nil, descending: Bool = false) {
        let p = parameters ?? UnsafePointer(parameterBuffer.pointer)
        var input = x
        for l in range {
            let layer = layers[l]
            let output = workspace.activations[l].pointer
            if descending, rows == 1 {
                matVecDescending(output, p + layer.weightOffset, input, p + layer.biasOffset, k: layer.inputSize,
                                 n: layer.outputSize)
            } else {
                denseForward(output, input, p + layer.weightOffset, p + layer.biasOffset,
                             m: rows, k: layer.inputSize, n: layer.outputSize)
            }
            layer.activation.forward(output, rows: rows, columns: layer.outputSize)
            input = UnsafePointer(output)
        }
    }

    /// Backpropagation of one sample whose forward pass is in `workspace` (`x` is layer `first`'s input), layer by
    /// layer from the top down to layer `first`, each layer's dL/dx computed from its weights before they take the
    /// gradient-descent step at `learningRate` (the rank-1 update). Returns the loss. With first = 1, dL/dz of
    /// layer 0 is left in `workspace.deltas[0]` for a sparse first layer to step itself; dL/dx is not computed for
    /// layer 0.
    func backpropagateSample(_ x: UnsafePointer<Float>, target: UnsafePointer<Float>, workspace: Workspace,
                             learningRate: Float, downTo first: Int) -> Float {
        let p = parameterBuffer.pointer
        let last = layers.count - 1
        let yhat = UnsafePointer(workspace.activations[last].pointer)
        let lossValue = loss.value(yhat, target, count: layers[last].outputSize)
        loss.outputDelta(workspace.deltas[last].pointer, yhat, target, activation: layers[last].activation,
                         rows: 1, columns: layers[last].outputSize)
        for l in stride(from: last, through: first, by: -1) {
            let layer = layers[l], delta = workspace.deltas[l].pointer
            let input = l == first ? x : UnsafePointer(workspace.activations[l - 1].pointer)
            if l > 0 {
                let below = workspace.deltas[l - 1].pointer
                denseBackwardInput(below, delta, p + layer.weightOffset, m: 1, k: layer.inputSize, n: layer.outputSize)
                layers[l - 1].activation.backward(below, output: input, rows: 1, columns: layer.inputSize)
            }
            denseBackwardWeights(p + layer.weightOffset, p + layer.biasOffset, delta, input,
                                 m: 1, k: layer.inputSize, n: layer.outputSize,
                                 write: .descend(learningRate: learningRate))
        }
        return lossValue
    }
}
