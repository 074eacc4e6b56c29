// Timing whole training steps (forward + backward + update) on the homework's networks, on random data.

/// Measures training speed in samples per second: the data-parallel mini-batch trainer on the autoencoder,
/// and fused per-sample SGD on the disc network and the two digit classifiers. Inputs are random values in
/// [0, 1] (no MNIST needed); the learning rate is tiny so the weights stay near their initial scale however
/// long it runs.
public enum TrainingBenchmark {
    /// One configuration's speed.
    public struct Result: Sendable {
        /// What was trained, e.g. `autoencoder` or `classify A`.
        public let name: String
        /// How, e.g. `batch 16, 2 threads` or `per-sample SGD`.
        public let configuration: String
        /// Median speed over the timed chunks, in samples per second.
        public let samplesPerSecond: Double
    }

    /// Times the autoencoder at batch 16 (1 and 2 threads) and batch 256 (1 and 2 threads), then per-sample
    /// SGD on the disc network and classifiers A and B, spending about `seconds` on each (7 in all).
    public static func run(seconds: Double = 1) -> [Result] {
        var results: [Result] = []
        for (batch, threads) in [(16, 1), (16, 2), (256, 1), (256, 2)] {
            results.append(Result(name: "autoencoder", configuration: "batch \(batch), \(threads) thread" + (threads == 1 ? "" : "s"),
                                  samplesPerSecond: autoencoder(batchSize: batch, threads: threads, seconds: seconds)))
        }
        let perSample: [(String, MLP)] = [("disc", DiscDemo.makeNetwork(seed: 1)),
                                          ("classify A", DigitNetwork.a.make(seed: 1)),
                                          ("classify B", DigitNetwork.b.make(seed: 1))]
        for (name, net) in perSample {
            results.append(Result(name: name, configuration: "per-sample SGD",
                                  samplesPerSecond: sgd(net, seconds: seconds)))
        }
        return results
    }

    /// Formats results as an aligned plain-text table.
    public static func report(_ results: [Result]) -> String {
        let table = [["network", "training", "samples/s"]]
            + results.map { [$0.name, $0.configuration, String(Int($0.samplesPerSecond.rounded()))] }
        let widths = (0..<3).map { column in table.map { $0[column].count }.max() ?? 0 }
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

    /// Samples per second of `DataParallelTrainer.step` on the autoencoder (inputs are their own targets).
    static func autoencoder(batchSize: Int, threads: Int, seconds: Double) -> Double {
        let net = AutoencoderDemo.makeNetwork(seed: 1)
        let trainer = DataParallelTrainer(network: net, batchSize: batchSize, threads: threads)
        let samples = 2048
        let data = uniform(samples * net.inputSize, seed: 2)
        var order = Array(0..<samples)
        var generator = SplitMix64(seed: 3)
        generator.shuffle(&order)
        var next = 0
        return data.withUnsafeBufferPointer { buffer in
            let x = buffer.baseAddress!
            return medianRate(seconds: seconds) {
                if next + batchSize > samples { next = 0 }
                trainer.step(indices: order[next ..< next + batchSize], inputs: x, targets: x, learningRate: 1e-7)
                next += batchSize
                return batchSize
            }
        }
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
        return data.withUnsafeBufferPointer { x in
            targets.withUnsafeBufferPointer { t in
                medianRate(seconds: seconds) {
                    for _ in 0..<64 {
                        _ = net.sgdStep(x.baseAddress! + next * net.inputSize, target: t.baseAddress! + next * outputs,
                                        learningRate: 1e-7, workspace: workspace)
                        next = (next + 1) % samples
                    }
                    return 64
                }
            }
        }
    }

    /// The median rate over chunks of about 50 ms of `body` (which returns the samples it trained), timed
    /// until `seconds` are spent (at least 5 chunks), after one warm-up chunk. The median, not the best:
    /// these runs stream megabytes of weights, so they feel the other work on the machine, and the typical
    /// chunk says more than the luckiest one.
    static func medianRate(seconds: Double, _ body: () -> Int) -> Double {
        func chunk() -> Double {
            let clock = Stopwatch()
            var samples = 0
            repeat { samples += body() } while clock.seconds < 0.05
            return Double(samples) / clock.seconds
        }
        _ = chunk()
        var rates: [Double] = []
        let clock = Stopwatch()
        while rates.count < 5 || clock.seconds < seconds { rates.append(chunk()) }
        rates.sort()
        return rates[rates.count / 2]
    }
}
