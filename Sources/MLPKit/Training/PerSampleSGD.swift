// Per-sample SGD with the update fused into backpropagation: the classic training loop, at kernel speed.

extension MLP {
    /// One SGD step on one sample: forward, then for each layer from the top, dL/dx is computed with the
    /// current W before W and b move by −learningRate·δ·xᵀ and −learningRate·δ. The update is the one
    /// `backward` + `step` + `zeroGrad` make, but W is touched once and the gradient buffer not at all.
    /// `target` holds outputSize values; returns the sample's loss (before the step).
    package func sgdStep(_ x: UnsafePointer<Float>, target: UnsafePointer<Float>, learningRate: Float,
                 workspace: Workspace) -> Float {
        forwardPass(x, rows: 1, layers: 0..<layers.count, workspace: workspace)
        return backpropagateSample(x, target: target, workspace: workspace, learningRate: learningRate, downTo: 0)
    }

    /// One SGD step on the sample `batch` holds (a batch of one) with the first layer sparse: `layer` holds it as
    /// V + u·1ᵀ and steps it as a batch of one. The same step as `sgdStep` up to float rounding, touching only the
    /// first-layer weights of the sample's non-background inputs.
    func sgdStep(sparse layer: SparseFirstLayer, batch: SparseBatch,
                 target: UnsafePointer<Float>, learningRate: Float, workspace: Workspace) -> Float {
        let first = layers[0], h = workspace.activations[0].pointer
        layer.forward(h, batch, outputs: 0..<first.outputSize)
        first.activation.forward(h, rows: 1, columns: first.outputSize)
        forwardPass(h, rows: 1, layers: 1..<layers.count, workspace: workspace)
        let loss = backpropagateSample(h, target: target, workspace: workspace, learningRate: learningRate, downTo: 1)
        layer.descend(delta: workspace.deltas[0].pointer, batch: batch, learningRate: learningRate,
                      outputs: 0..<first.outputSize)
        layer.changed = true
        return loss
    }
}
