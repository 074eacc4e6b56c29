// The autoencoder trained batch after batch on a fixed set of inputs: what the training benchmarks time.
import MLPData
import MLPKit

/// A fresh autoencoder (seed 1) and its trainer, stepping through the rows of `data` (784 inputs each, their own
/// targets), in a shuffled order that wraps around; a tiny learning rate keeps the weights near their initial scale
/// however long it runs. With a `background` (and SGD), the first layer is trained on the other pixels only, as
/// `mlp-train autoencoder` trains it.
final class AutoencoderStepper {
    let batchSize: Int
    private let trainer: DataParallelTrainer
    private let inputs: FloatBuffer
    private let order: [Int]
    private var next = 0

    init(batchSize: Int, threads: Int, data: [Float], background: Float?, optimizer: Optimizer = .sgd) {
        let net = AutoencoderDemo.makeNetwork(seed: 1)
        self.batchSize = batchSize
        // The sparse first layer is SGD's; another rule trains it dense, as `mlp-train autoencoder` does.
        let state = optimizer == .sgd ? nil
            : OptimizerState(optimizer: optimizer, weightDecay: 0, parameters: net.parameterCount)
        trainer = DataParallelTrainer(network: net, batchSize: batchSize, threads: threads,
                                      inputBackground: state == nil ? background : nil, optimizer: state)
        // The threads share every step, as asked: a benchmark times the configuration it names.
        trainer.choosesWorkers = false
        inputs = FloatBuffer(data)
        var order = Array(0..<(data.count / net.inputSize))
        var generator = SplitMix64(seed: 3)
        generator.shuffle(&order)
        self.order = order
    }

    /// Trains a few batches with the threads staying for all of them, as `Trainer` runs an epoch (up to 256
    /// samples, at least one batch); returns the samples trained.
    func step() -> Int {
        let count = max(1, 256 / batchSize)
        if next + count * batchSize > order.count { next = 0 }
        let x = UnsafePointer(inputs.pointer), size = batchSize, start = next
        trainer.steps(count, rows: size, batch: { k in self.order[start + k * size ..< start + (k + 1) * size] },
                      inputs: x, targets: x, learningRate: 1e-7) { _, _ in true }
        next += count * batchSize
        return count * batchSize
    }

    /// The profile of `steps` steps on one thread, every block timed (`StepProfile`).
    func profile(steps: Int) -> StepProfile {
        let x = UnsafePointer(inputs.pointer)
        return trainer.profile(steps: steps, batch: { _ in
            if self.next + self.batchSize > self.order.count { self.next = 0 }
            defer { self.next += self.batchSize }
            return self.order[self.next ..< self.next + self.batchSize]
        }, inputs: x, targets: x, learningRate: 1e-7)
    }

    /// 2,048 digits of `digits` spread over the whole set (the mosaics are stored class by class), and their
    /// background value (the one that fills at least half of the pixels), when `digits` are 28 × 28 and there
    /// are enough of them.
    static func sample(of digits: Dataset) -> (images: [Float], background: Float)? {
        guard digits.pixelsPerImage == 784, digits.count >= 2048 else { return nil }
        var images: [Float] = []
        images.reserveCapacity(2048 * 784)
        for s in 0..<2048 {
            let image = s * digits.count / 2048
            images += digits.images[(image * 784)..<((image + 1) * 784)]
        }
        guard let background = TrainingSet.dominantValue(of: images).flatMap({ $0.fraction >= 0.5 ? $0.value : nil })
        else { return nil }
        return (images, background)
    }
}
