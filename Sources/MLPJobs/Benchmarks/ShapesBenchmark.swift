// Timing whole training steps of networks off the homework's shapes, as a fraction of the FMA peak.
import MLPKit

/// Whole mini-batch training steps of the networks users bring to `mlp-train train`: 784 inputs, wide or narrow
/// layers, 10 classes, Adam on the summed softmax cross-entropy, random inputs in [0, 1] with random one-hot
/// targets. The learning rate is tiny (1e-7), as in the other training benchmarks, so the weights stay near their
/// initial scale however long it runs: at 1e-3, chasing random labels, the 128-unit network drifted into values
/// whose arithmetic is slow (1 thread ran at half speed, with 16-lane vectors more than with 8) while the same
/// network on Fashion-MNIST did not. FLOPs are counted as 6 per weight per sample (forward 2, dL/dx 2, dW 2).
public enum ShapesBenchmark {
    /// One network's speed on some threads.
    public struct Result: Sendable {
        /// The layers, as `--layers` writes them.
        public let layers: String
        /// Samples per step.
        public let batch: Int
        /// Threads that shared each step.
        public let threads: Int
        /// Median speed over the timed chunks, in samples per second.
        public let samplesPerSecond: Double
        /// The same speed in GFLOP/s (6 FLOPs per weight per sample).
        public let gflops: Double
        /// The FMA peak of as many threads, measured in the same run (GFLOP/s).
        public let peak: Double
    }

    /// The networks timed, with their batch sizes.
    public static let networks: [(layers: String, batch: Int)] = [
        ("1024:relu,1024:relu,10:softmax", 256),
        ("256:relu,128:relu,10:softmax", 128),
        ("128:relu,10:softmax", 32),
    ]

    /// Times each network on each of `threads`, about `seconds` each; `peaks[t]` is the FMA peak of t threads.
    public static func run(seconds: Double, threads: [Int], peaks: [Int: Double]) throws -> [Result] {
        var results: [Result] = []
        for (layers, batch) in networks {
            for t in threads {
                let (stepper, flopsPerSample) = try Self.stepper(layers: layers, batch: batch, threads: t)
                let rate = TrainingBenchmark.medianRate(seconds: seconds, stepper.step)
                results.append(Result(layers: layers, batch: batch, threads: t, samplesPerSecond: rate,
                                      gflops: rate * flopsPerSample / 1e9, peak: peaks[t] ?? .nan))
            }
        }
        return results
    }

    /// Formats results as an aligned plain-text table.
    public static func report(_ results: [Result]) -> String {
        let table = [["layers (784 inputs)", "batch", "threads", "samples/s", "GFLOP/s", "% of FMA peak"]]
            + results.map { r in
                [r.layers, String(r.batch), String(r.threads), String(Int(r.samplesPerSecond.rounded())),
                 String(Int(r.gflops.rounded())),
                 r.peak.isFinite ? String(Int((100 * r.gflops / r.peak).rounded())) + "%" : "-"]
            }
        return ScalingBenchmark.aligned(table)
    }

    /// One network and its trainer, stepping through 4,096 random samples in a fixed shuffled order.
    /// A train network on random inputs and classes, stepped by Adam 2,048 samples a run, and its FLOPs per
    /// sample (forward, dL/dx and dW: 6 per weight).
    private static func stepper(layers: String, batch: Int, threads: Int) throws
        -> (stepper: BatchStepper, flopsPerSample: Double) {
        let net = MLP(inputSize: 784, loss: .softmaxCrossEntropy, seed: 1)
        for entry in try LayerSpec(parsing: layers).entries {
            net.addLayer(entry.units, activation: entry.activation)
        }
        let count = 4096, classes = net.outputSize
        var oneHot = [Float](repeating: 0, count: count * classes)
        var generator = SplitMix64(seed: 4)
        for s in 0..<count { oneHot[s * classes + Int(generator.next() % UInt64(classes))] = 1 }
        let stepper = BatchStepper(network: net, batchSize: batch, threads: threads,
                                   inputs: TrainingBenchmark.uniform(count * 784, seed: 2), targets: oneHot,
                                   optimizer: .defaultAdam, seed: 4, samplesPerRun: 2048)
        return (stepper, 6 * Double(net.parameterCount - net.layers.reduce(0) { $0 + $1.outputSize }))
    }
}
