// Timing whole training steps (forward + backward + update) on the homework's networks.
import MLPData
import MLPImaging
import MLPKit

/// Measures training speed in samples per second: the data-parallel mini-batch trainer on the autoencoder,
/// and fused per-sample SGD on the disc network and the two digit classifiers. Inputs are random values in
/// [0, 1] (no MNIST needed), plus real digits for the autoencoder when they are given; the learning rate is
/// tiny so the weights stay near their initial scale however long it runs.
public enum TrainingBenchmark {
    /// One configuration's speed.
    public struct Result: Sendable {
        /// What was trained, e.g. `autoencoder` or `classify A`.
        public let name: String
        /// How, e.g. `batch 16, 2 threads` or `per-sample SGD`.
        public let configuration: String
        /// Median speed over the timed chunks, in samples per second.
        public let samplesPerSecond: Double
        /// For a pair timed in alternation: the median over the pairs of chunks of this speed ÷ the other's.
        public var ratio: Double? = nil
    }

    /// Times the autoencoder at batch 16 (1 and 2 threads) and batch 256 (1 and 2 threads), then per-sample
    /// SGD on the disc network and classifiers A and B, spending about `seconds` on each. With `digits`, the
    /// autoencoder is also timed on real digits (see `runAutoencoder`).
    public static func run(seconds: Double = 1, digits: Dataset? = nil) -> [Result] {
        var results = runAutoencoder(seconds: seconds, digits: digits)
        let perSample: [(String, MLP)] = [("disc", DiscDemo.makeNetwork(seed: 1)),
                                          ("classify A", DigitNetwork.a.make(seed: 1)),
                                          ("classify B", DigitNetwork.b.make(seed: 1))]
        for (name, net) in perSample {
            results.append(Result(name: name, configuration: "per-sample SGD",
                                  samplesPerSecond: sgd(net, seconds: seconds)))
        }
        return results
    }

    /// Times the autoencoder alone at batch 16 and 256, on 1 and 2 threads: on random inputs (every pixel
    /// counts, so the first layer is dense), then, given `digits` (MNIST), on its first 2,048 images with the
    /// first layer trained on the non-background pixels, as `mlp-train autoencoder` does.
    public static func runAutoencoder(seconds: Double = 1, digits: Dataset? = nil) -> [Result] {
        let configurations = [(16, 1), (16, 2), (256, 1), (256, 2)]
        func label(_ batch: Int, _ threads: Int) -> String {
            "batch \(batch), \(threads) thread" + (threads == 1 ? "" : "s")
        }
        let random = uniform(2048 * 784, seed: 2)
        var results = configurations.map { batch, threads in
            Result(name: "autoencoder, random inputs", configuration: label(batch, threads),
                   samplesPerSecond: autoencoder(batchSize: batch, threads: threads, seconds: seconds, data: random))
        }
        if let digits, let (images, background) = AutoencoderStepper.sample(of: digits) {
            for (batch, threads) in configurations {
                let (dense, sparse, ratio) = pairedAutoencoder(batchSize: batch, threads: threads, seconds: seconds,
                                                               data: images, background: background)
                results.append(Result(name: "autoencoder, MNIST, dense first layer", configuration: label(batch, threads),
                                      samplesPerSecond: dense))
                results.append(Result(name: "autoencoder, MNIST, sparse first layer",
                                      configuration: label(batch, threads), samplesPerSecond: sparse, ratio: ratio))
            }
        }
        return results
    }

    /// The autoencoder on `data` with a dense and with a sparse first layer, timed in alternating chunks so that
    /// both see the same machine: the two median speeds and the median of sparse ÷ dense over the pairs.
    static func pairedAutoencoder(batchSize: Int, threads: Int, seconds: Double, data: [Float],
                                  background: Float) -> (dense: Double, sparse: Double, ratio: Double) {
        var dense: [Double] = [], sparse: [Double] = [], ratios: [Double] = []
        let clock = Stopwatch()
        let denseStepper = AutoencoderStepper.make(batchSize: batchSize, threads: threads, data: data, background: nil)
        let sparseStepper = AutoencoderStepper.make(batchSize: batchSize, threads: threads, data: data,
                                               background: background)
        _ = chunkRate(denseStepper.step)
        _ = chunkRate(sparseStepper.step)
        while dense.count < 5 || clock.seconds < 2 * seconds {
            dense.append(chunkRate(denseStepper.step))
            sparse.append(chunkRate(sparseStepper.step))
            ratios.append(sparse.last! / dense.last!)
        }
        return (median(dense), median(sparse), median(ratios))
    }

    /// The middle value (the upper of the two middle ones for an even count); `values` must not be empty.
    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

    /// Formats results as an aligned plain-text table.
    public static func report(_ results: [Result]) -> String {
        let table = [["network", "training", "samples/s", "paired ratio"]]
            + results.map { [$0.name, $0.configuration, String(Int($0.samplesPerSecond.rounded())),
                             $0.ratio.map { String(format: "x%.2f", $0) } ?? ""] }
        let widths = (0..<4).map { column in table.map { $0[column].count }.max() ?? 0 }
        return table.map { cells in
            cells.indices.map { column in
                let pad = String(repeating: " ", count: widths[column] - cells[column].count)
                return column < 2 ? cells[column] + pad : pad + cells[column]
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    /// `count` values uniform in [0, 1).
    static func uniform(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in Float(generator.nextUniform()) }
    }

    /// Samples per second of `DataParallelTrainer.step` on the autoencoder, on `data` (rows of 784 values that
    /// are their own targets), with a sparse first layer when `background` is given.
    static func autoencoder(batchSize: Int, threads: Int, seconds: Double, data: [Float],
                            background: Float? = nil) -> Double {
        let stepper = AutoencoderStepper.make(batchSize: batchSize, threads: threads, data: data, background: background)
        return medianRate(seconds: seconds, stepper.step)
    }

    /// Samples per second of fused per-sample SGD (`sgdStep`) on `net`, with random targets: a random class
    /// (one-hot) for a softmax output, 0 or 1 otherwise.
    static func sgd(_ net: MLP, seconds: Double) -> Double {
        let samples = 1024, outputs = net.outputSize
        let data = uniform(samples * net.inputSize, seed: 4)
        var targets = [Float](repeating: 0, count: samples * outputs)
        var generator = SplitMix64(seed: 5)
        for i in 0..<samples { targets[i * outputs + generator.nextInt(below: max(outputs, 2)) % outputs] = 1 }
        let workspace = net.makeWorkspace(capacity: 1)
        var next = 0
        return medianRate(seconds: seconds) {
            next = net.perSampleSteps(64, inputs: data, targets: targets, from: next, workspace: workspace)
            return 64
        }
    }

    /// The median rate over chunks of about 50 ms of `body` (which returns the samples it trained), timed
    /// until `seconds` are spent (at least 5 chunks), after one warm-up chunk. The median, not the best:
    /// these runs stream megabytes of weights, so they feel the other work on the machine, and the typical
    /// chunk says more than the luckiest one.
    static func medianRate(seconds: Double, _ body: () -> Int) -> Double {
        _ = chunkRate(body)
        var rates: [Double] = []
        let clock = Stopwatch()
        while rates.count < 5 || clock.seconds < seconds { rates.append(chunkRate(body)) }
        return median(rates)
    }

    /// Samples per second of `body` (which returns the samples it trained) called until about 50 ms pass.
    static func chunkRate(_ body: () -> Int) -> Double {
        let clock = Stopwatch()
        var samples = 0
        repeat { samples += body() } while clock.seconds < 0.05
        return Double(samples) / clock.seconds
    }
}
