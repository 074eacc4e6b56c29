// A network stepped through batches of a fixed data set, over and over: what the training benchmarks time.

/// Trains a network batch after batch on fixed samples, in one shuffled order that wraps around, at a learning
/// rate (1e-7) small enough to keep the weights near their start however long it runs. The threads share every
/// step (the trainer does not choose), so a benchmark times the configuration it names. Per-sample SGD
/// (`perSampleSteps`) takes the fused update, as `Trainer` does at batch 1.
package final class BatchStepper {
    /// Samples per step.
    package let batchSize: Int
    /// Samples each `step()` trains, in whole batches (at least one).
    package let samplesPerRun: Int
    /// The network trained.
    package let network: MLP
    private let trainer: DataParallelTrainer
    private let inputs: FloatBuffer
    /// Nil: the inputs are their own targets.
    private let targets: FloatBuffer?
    private let order: [Int]
    private var next = 0
    private let learningRate: Float = 1e-7

    /// Steps `network` through `inputs` (rows of `network.inputSize`) against `targets` (rows of its outputs; nil:
    /// the inputs themselves) in batches of `batchSize` on `threads` threads, by `optimizer`; with a
    /// `background` (SGD only), the first layer is trained on the other inputs only. The order is shuffled from
    /// `seed`; each `step()` trains about `samplesPerRun` samples.
    package init(network: MLP, batchSize: Int, threads: Int, inputs: [Float], targets: [Float]? = nil,
                 background: Float? = nil, optimizer: Optimizer = .sgd, seed: UInt64 = 3, samplesPerRun: Int = 256) {
        precondition(inputs.count % network.inputSize == 0 && inputs.count / network.inputSize >= batchSize)
        precondition(targets.map { $0.count / network.outputSize == inputs.count / network.inputSize } ?? true)
        self.network = network
        self.batchSize = batchSize
        self.samplesPerRun = samplesPerRun
        let state = optimizer == .sgd ? nil
            : OptimizerState(optimizer: optimizer, weightDecay: 0, parameters: network.parameterCount)
        trainer = DataParallelTrainer(network: network, batchSize: batchSize, threads: threads,
                                      inputBackground: state == nil ? background : nil, optimizer: state)
        trainer.choosesWorkers = false
        self.inputs = FloatBuffer(inputs)
        self.targets = targets.map(FloatBuffer.init)
        var order = Array(0..<(inputs.count / network.inputSize))
        var generator = SplitMix64(seed: seed)
        generator.shuffle(&order)
        self.order = order
    }

    /// Trains as many batches as fit in `samplesPerRun` (at least one), the threads staying for all of them as
    /// `Trainer` runs an epoch; returns the samples trained.
    package func step() -> Int {
        let count = max(1, samplesPerRun / batchSize), size = batchSize
        if next + count * size > order.count { next = 0 }
        let start = next
        let x = UnsafePointer(inputs.pointer), y = UnsafePointer((targets ?? inputs).pointer)
        trainer.steps(count, rows: size, batch: { k in self.order[start + k * size ..< start + (k + 1) * size] },
                      inputs: x, targets: y, learningRate: learningRate) { _, _ in true }
        next += count * size
        return count * size
    }

    /// The profile of `steps` steps on one thread, every block timed (`StepProfile`).
    package func profile(steps: Int) -> StepProfile {
        let x = UnsafePointer(inputs.pointer), y = UnsafePointer((targets ?? inputs).pointer)
        return trainer.profile(steps: steps, batch: { _ in
            if self.next + self.batchSize > self.order.count { self.next = 0 }
            defer { self.next += self.batchSize }
            return self.order[self.next ..< self.next + self.batchSize]
        }, inputs: x, targets: y, learningRate: learningRate)
    }
}

extension MLP {
    /// `count` fused per-sample SGD steps (`sgdStep`) on the rows of `inputs` and `targets` from row `first`,
    /// wrapping around, at a learning rate of 1e-7; returns the row after the last. For benchmarks.
    package func perSampleSteps(_ count: Int, inputs: [Float], targets: [Float], from first: Int,
                                workspace: Workspace) -> Int {
        let rows = inputs.count / inputSize
        var row = first
        inputs.withUnsafeBufferPointer { x in
            targets.withUnsafeBufferPointer { t in
                for _ in 0..<count {
                    _ = sgdStep(x.baseAddress! + row * inputSize, target: t.baseAddress! + row * outputSize,
                                learningRate: 1e-7, workspace: workspace)
                    row = (row + 1) % rows
                }
            }
        }
        return row
    }
}
