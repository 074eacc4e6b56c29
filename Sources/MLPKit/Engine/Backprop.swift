// The two passes every API above calls: forward through a range of layers, and backpropagation.

extension MLP {
    /// Runs `x` (rows × layers[first].inputSize) through `range`; layer l's outputs land in workspace.activations[l].
    func forwardPass(_ x: UnsafePointer<Float>, rows: Int, layers range: Range<Int>, workspace: Workspace,
                     parameters: UnsafePointer<Float>? = nil) {
        let p = parameters ?? UnsafePointer(parameterBuffer.pointer)
        var input = x
        for l in range {
            let layer = layers[l]
            let output = workspace.activations[l].pointer
            denseForward(output, input, p + layer.weightOffset, p + layer.biasOffset,
                         m: rows, k: layer.inputSize, n: layer.outputSize)
            layer.activation.forward(output, rows: rows, columns: layer.outputSize)
            input = UnsafePointer(output)
        }
    }

    /// Forward through the whole network, then backpropagation of the loss against `targets`
    /// (rows × outputSize), ADDING each layer's dW and db into `gradients`. `write: .overwrite` overwrites them
    /// instead (every gradient is written, so the buffer need not be zeroed first); `.descend(learningRate:)`
    /// takes the gradient-descent step in place — `gradients` must then be the parameters — with each layer's
    /// dL/dx computed from its weights before they move. Returns the summed loss. dL/dx is not computed for
    /// the first layer: nothing consumes it.
    func backwardPass(_ x: UnsafePointer<Float>, targets: UnsafePointer<Float>, rows: Int, workspace: Workspace,
                      gradients: UnsafeMutablePointer<Float>, parameters: UnsafePointer<Float>? = nil,
                      write: GradientWrite = .accumulate) -> Float {
        let p = parameters ?? UnsafePointer(parameterBuffer.pointer)
        forwardPass(x, rows: rows, layers: 0..<layers.count, workspace: workspace, parameters: p)
        return backpropagate(x, targets: targets, rows: rows, workspace: workspace, gradients: gradients,
                             parameters: p, write: write, downTo: 0).loss
    }

    /// The backward half of `backwardPass`, for layers `first...` whose forward pass is already in `workspace`
    /// (`x` is layer `first`'s input). With first > 0 it stops after layer `first`, returning also
    /// dL/dz of layer first − 1 (rows × its outputSize, in one of the workspace's delta buffers): the caller
    /// finishes the layers below itself.
    func backpropagate(_ x: UnsafePointer<Float>, targets: UnsafePointer<Float>, rows: Int, workspace: Workspace,
                       gradients: UnsafeMutablePointer<Float>, parameters p: UnsafePointer<Float>,
                       write: GradientWrite, downTo first: Int) -> (loss: Float, delta: UnsafeMutablePointer<Float>) {
        let last = layers.count - 1
        let yhat = UnsafePointer(workspace.activations[last].pointer)
        let lossValue = loss.value(yhat, targets, count: rows * layers[last].outputSize)

        var delta = workspace.deltas.0.pointer, spare = workspace.deltas.1.pointer
        loss.outputDelta(delta, yhat, targets, activation: layers[last].activation,
                         rows: rows, columns: layers[last].outputSize)
        for l in stride(from: last, through: first, by: -1) {
            let layer = layers[l]
            let input = l == first ? x : UnsafePointer(workspace.activations[l - 1].pointer)
            if l > 0 {
                denseBackwardInput(spare, delta, p + layer.weightOffset, m: rows, k: layer.inputSize, n: layer.outputSize)
                layers[l - 1].activation.backward(spare, output: input, rows: rows, columns: layer.inputSize)
            }
            denseBackwardWeights(gradients + layer.weightOffset, gradients + layer.biasOffset, delta, input,
                                 m: rows, k: layer.inputSize, n: layer.outputSize, write: write)
            swap(&delta, &spare)
        }
        return (lossValue, delta)
    }
}
