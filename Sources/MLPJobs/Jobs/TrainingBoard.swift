// What a training run shows in TensorBoard: losses, scores, the learning rate and speed, the job's figure, and
// each layer's weights and gradients, on one axis that a resumed run continues.
import MLPImaging
import MLPInterop
import MLPKit

/// A training run's TensorBoard event file (`EventFile`). Its x-axis is the number of samples trained on since
/// the run began, across epochs, so per-step losses, per-epoch scores and a resumed run share one axis:
/// - `loss/step`: each mini-batch step's mean loss; per-sample runs, `loss/running_mean`, the epoch's mean so far;
/// - at each epoch's end: the job's scalars (`loss/train`, `loss/test`, `accuracy/test`, `learning_rate`,
///   `samples_per_second`, `epoch`, …), its figure as an image (at 20 epochs of the run, evenly spaced, and the
///   last), and histograms of each layer's weights, biases
///   and gradient (of the mean loss over the first 256 training samples, formed by `backward` for the picture).
/// A run resumed from a checkpoint writes a new file in the same folder that starts where the checkpoint was, so
/// TensorBoard drops what the interrupted run wrote after it: no step appears twice.
final class TrainingBoard {
    private let file: EventFile
    private let samplesPerEpoch: Int
    private let batchSize: Int
    private let probe: (x: Matrix, y: Matrix)?
    private let epochs: Int

    /// A board in `folder` for a run of `epochs` over `data` in batches of `batchSize`; `resumed` is the state it
    /// continues.
    init(folder: String, data: TrainingSet, outputs: Int, batchSize: Int, epochs: Int, resumed: TrainingState?) throws {
        samplesPerEpoch = data.count
        self.batchSize = batchSize
        self.epochs = epochs
        let rows = min(256, data.count), k = data.inputSize
        let x = Matrix(rows: rows, columns: k, values: data.inputRows.floats(rows: 0..<rows))
        switch data.targets {
        case .classes(let labels):
            var y = [Float](repeating: 0, count: rows * outputs)
            for r in 0..<rows { y[r * outputs + Int(labels[r])] = 1 }
            probe = (x, Matrix(rows: rows, columns: outputs, values: y))
        case .values(let values, let size):
            probe = (x, Matrix(rows: rows, columns: size, values: Array(values[0 ..< rows * size])))
        case .inputs:
            probe = (x, x)
        }
        let start = resumed.map { ($0.epoch - 1) * data.count + $0.position + 1 }
        file = try EventFile(folder: folder, resumingAt: start)
    }

    /// The samples trained on when `done` samples of epoch `epoch` are.
    private func axis(epoch: Int, done: Int) -> Int { (epoch - 1) * samplesPerEpoch + done }

    /// A mini-batch step's loss (summed over its rows), as their mean.
    func step(_ step: TrainingStep) throws {
        let done = min(step.step * batchSize, samplesPerEpoch)
        let rows = done - (step.step - 1) * batchSize
        try file.scalar("loss/step", step.loss / Double(max(rows, 1)), step: axis(epoch: step.epoch, done: done))
    }

    /// A per-sample run's progress: the epoch's mean loss so far.
    func progress(epoch: Int, done: Int, meanLoss: Double) throws {
        try file.scalar("loss/running_mean", meanLoss, step: axis(epoch: epoch, done: done))
    }

    /// The end of epoch `epoch`: `scalars`, the figure (drawn when shown), and the layers' histograms; then the
    /// file is flushed.
    func epoch(_ epoch: Int, scalars: [(tag: String, value: Double)], figure: () throws -> Canvas, network: MLP) throws {
        let at = axis(epoch: epoch, done: samplesPerEpoch)
        try file.scalar("epoch", Double(epoch), step: at)
        for (tag, value) in scalars { try file.scalar(tag, value, step: at) }
        let every = max(1, (epochs + 19) / 20)
        if epoch % every == 0 || epoch == epochs {
            let figure = try figure()
            try file.image("figure", png: PNGFile.encode(rgb: figure.pixels, width: figure.width, height: figure.height),
                           width: figure.width, height: figure.height, step: at)
        }
        if let probe {
            network.zeroGrad()
            try network.backward(probe.x, targets: probe.y)
        }
        // The parameters and the probe's gradient read in place (a network's size, not copied twice).
        try network.withParametersAndGradients { parameters, gradients in
            for (l, layer) in network.layers.enumerated() {
                let weights = layer.weightOffset ..< layer.biasOffset
                let biases = layer.biasOffset ..< layer.biasOffset + layer.outputSize
                try file.histogram("weights/layers.\(l)", UnsafeBufferPointer(rebasing: parameters[weights]), step: at)
                try file.histogram("biases/layers.\(l)", UnsafeBufferPointer(rebasing: parameters[biases]), step: at)
                if let probe {
                    // The probe's mean gradient: the summed one over its rows.
                    try file.histogram("gradients/layers.\(l).weight", UnsafeBufferPointer(rebasing: gradients[weights]),
                                       dividedBy: Float(probe.x.rows), step: at)
                }
            }
        }
        if probe != nil { network.zeroGrad() }
        try file.flush()
    }
}
