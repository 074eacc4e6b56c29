// Per-sample SGD with the update fused into backpropagation: the homework's training loop, at kernel speed.

extension MLP {
    /// One SGD step on one sample: forward, then for each layer from the top, dL/dx is computed with the
    /// current W before W and b move by −learningRate·δ·xᵀ and −learningRate·δ. The update is the one
    /// `backward` + `step` + `zeroGrad` make, but W is touched once and the gradient buffer not at all.
    /// `target` holds outputSize values; returns the sample's loss (before the step).
    package func sgdStep(_ x: UnsafePointer<Float>, target: UnsafePointer<Float>, learningRate: Float,
                 workspace: Workspace) -> Float {
        forwardPass(x, rows: 1, layers: 0..<layers.count, workspace: workspace)
        return backpropagateWithUpdate(input: x, target: target, learningRate: learningRate, workspace: workspace,
                                       downTo: 0).loss
    }

    /// After a one-sample forward pass: the loss against `target`, then backpropagation from the last layer down
    /// to layer `lowest`, each layer's W and b moving by −η·δ·xᵀ and −η·δ right after dL/dx for the layer below
    /// is computed with the old W. `x` is layer 0's input. Returns the loss and, when lowest > 0, δ of layer
    /// lowest − 1 (in one of the workspace's delta buffers).
    func backpropagateWithUpdate(input x: UnsafePointer<Float>, target: UnsafePointer<Float>, learningRate: Float,
                                 workspace: Workspace, downTo lowest: Int) -> (loss: Float, delta: UnsafeMutablePointer<Float>) {
        let p = parameterBuffer.pointer
        let last = layers.count - 1
        let yhat = UnsafePointer(workspace.activations[last].pointer)
        let lossValue = loss.value(yhat, target, count: layers[last].outputSize)

        var delta = workspace.deltas.0.pointer, spare = workspace.deltas.1.pointer
        loss.outputDelta(delta, yhat, target, activation: layers[last].activation,
                         rows: 1, columns: layers[last].outputSize)
        for l in stride(from: last, through: lowest, by: -1) {
            let layer = layers[l]
            let input = l == 0 ? x : UnsafePointer(workspace.activations[l - 1].pointer)
            if l > 0 {
                denseBackwardInput(spare, delta, p + layer.weightOffset, m: 1, k: layer.inputSize, n: layer.outputSize)
                layers[l - 1].activation.backward(spare, output: input, rows: 1, columns: layer.inputSize)
            }
            rank1Step(p + layer.weightOffset, p + layer.biasOffset, delta, input, scale: -learningRate,
                      k: layer.inputSize, n: layer.outputSize)
            swap(&delta, &spare)
        }
        return (lossValue, delta)
    }

    /// One epoch of per-sample SGD over `count` samples of `inputs` (row-major, count × inputSize), visiting
    /// them in the order of `order`. `targetForSample` writes sample i's target into the buffer it is given
    /// (outputSize values, zeroed before each call). Calls `progress` every `progressInterval` samples with the
    /// number done and the running loss sum. Returns the loss summed over the epoch (each sample's loss before
    /// its step, as the homework prints it).
    package func trainEpoch(inputs: UnsafePointer<Float>, order: [Int], learningRate: Float, workspace: Workspace,
                    target targetForSample: (Int, UnsafeMutablePointer<Float>) -> Void,
                    progressInterval: Int = 0, progress: (Int, Double) -> Void = { _, _ in }) -> Double {
        let target = workspace.targets.pointer
        let outputs = outputSize
        var total = 0.0
        for (done, i) in order.enumerated() {
            for j in 0..<outputs { target[j] = 0 }
            targetForSample(i, target)
            total += Double(sgdStep(inputs + i * inputSize, target: target, learningRate: learningRate,
                                    workspace: workspace))
            if progressInterval > 0, (done + 1) % progressInterval == 0 { progress(done + 1, total) }
        }
        return total
    }
}
