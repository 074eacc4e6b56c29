// The autoencoder trained batch after batch on a fixed set of inputs: what the training benchmarks time.
import MLPData
import MLPKit

/// The autoencoder's steppers and samples for the training benchmarks.
enum AutoencoderStepper {
    /// A fresh autoencoder (seed 1) stepping through the rows of `data` (784 inputs each, their own targets), 256
    /// samples a run. With a `background` (and SGD), the first layer is trained on the other pixels only, as
    /// `mlp-train autoencoder` trains it; another rule trains it dense, as the command does.
    static func make(batchSize: Int, threads: Int, data: [Float], background: Float?,
                     optimizer: Optimizer = .sgd) -> BatchStepper {
        BatchStepper(network: AutoencoderDemo.makeNetwork(seed: 1), batchSize: batchSize, threads: threads,
                     inputs: data, background: background, optimizer: optimizer)
    }

    /// 2,048 digits of `digits` spread over the whole set (the mosaics are stored class by class), and their
    /// background value (the one that fills at least half of the pixels), when `digits` are 28 × 28 and there
    /// are enough of them.
    static func sample(of digits: Dataset) -> (images: [Float], background: Float)? {
        guard digits.pixelsPerImage == 784, digits.count >= 2048 else { return nil }
        var images = [Float](repeating: 0, count: 2048 * 784)
        images.withUnsafeMutableBufferPointer { images in
            for s in 0..<2048 { digits.pixels.copyRow(s * digits.count / 2048, into: images.baseAddress! + s * 784) }
        }
        guard let background = TrainingSet.dominantValue(of: images).flatMap({ $0.fraction >= 0.5 ? $0.value : nil })
        else { return nil }
        return (images, background)
    }
}
