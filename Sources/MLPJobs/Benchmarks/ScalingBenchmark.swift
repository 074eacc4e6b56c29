// Training speed against the machine's limit: the autoencoder at three batch sizes on 1, 2 and all threads.
import MLPData
import MLPKit

/// Measures how training scales with threads, as samples/s and as a fraction of the FMA peak of the same number
/// of threads measured in the same run (`FMAPeak`): the autoencoder at batches 16, 256 and 1024, on MNIST digits
/// with the sparse first layer (as `mlp-train autoencoder` trains) when they are given, else on random inputs
/// (every pixel counts, so the first layer is dense). For each batch size the thread counts are timed in
/// alternating chunks, so each speed-up is the median of ratios measured side by side, not of two runs apart.
public enum ScalingBenchmark {
    /// One batch size on one thread count.
    public struct Result: Sendable {
        public let batchSize: Int
        public let threads: Int
        /// Median speed over the timed chunks.
        public let samplesPerSecond: Double
        /// The arithmetic that speed stands for: samples/s × FLOPs of a training sample, in GFLOP/s.
        public let gflops: Double
        /// The FMA peak of `threads` threads, measured just before.
        public let peakGflops: Double
        /// Speed ÷ the same batch's speed on one thread, the median over the rounds of alternating chunks (nil
        /// when one thread was not timed).
        public let speedup: Double?

        /// `gflops` as a fraction of the peak.
        public var fractionOfPeak: Double { gflops / peakGflops }
    }

    /// 1, 2 and `available` threads, without repeats.
    public static func threadCounts(available: Int) -> [Int] {
        var counts: [Int] = []
        for count in [1, 2, available] where count >= 1 && !counts.contains(count) { counts.append(count) }
        return counts
    }

    /// FLOPs of one training sample of `net` by dense arithmetic: forward, dL/dx (not for the first layer) and
    /// dW, two per weight each (biases and activations not counted).
    public static func trainingFLOPs(_ net: MLP) -> Double {
        net.layers.enumerated().reduce(0) { total, item in
            let weights = Double(item.element.inputSize * item.element.outputSize)
            return total + 2 * weights * (item.offset == 0 ? 2 : 3)
        }
    }

    /// Times every batch size in `batchSizes` on every count in `threads`, about `seconds` each, on `digits`
    /// (2,048 of them, sparse first layer) or, without them, on random inputs.
    public static func run(seconds: Double = 0.5, batchSizes: [Int] = [16, 256, 1024], threads: [Int],
                           digits: Dataset? = nil) -> [Result] {
        let sample = digits.flatMap(AutoencoderStepper.sample(of:))
        let data = sample?.images ?? TrainingBenchmark.uniform(2048 * 784, seed: 2)
        let flops = trainingFLOPs(AutoencoderDemo.makeNetwork(seed: 1))
        let peaks = threads.map { FMAPeak.measure(threads: $0).total }
        var results: [Result] = []
        for batch in batchSizes {
            let steppers = threads.map {
                AutoencoderStepper(batchSize: batch, threads: $0, data: data, background: sample?.background)
            }
            // Rounds of one chunk per thread count, until `seconds` per count are spent (at least 5 rounds).
            var rates = [[Double]](repeating: [], count: threads.count)
            for stepper in steppers { _ = TrainingBenchmark.chunkRate(stepper.step) }
            let clock = Stopwatch()
            while rates[0].count < 5 || clock.seconds < seconds * Double(threads.count) {
                for (index, stepper) in steppers.enumerated() {
                    rates[index].append(TrainingBenchmark.chunkRate(stepper.step))
                }
            }
            let single = threads.firstIndex(of: 1)
            for index in threads.indices {
                let speedup = single.map { one in
                    TrainingBenchmark.median(zip(rates[index], rates[one]).map { $0 / $1 })
                }
                let rate = TrainingBenchmark.median(rates[index])
                results.append(Result(batchSize: batch, threads: threads[index], samplesPerSecond: rate,
                                      gflops: rate * flops / 1e9, peakGflops: peaks[index], speedup: speedup))
            }
        }
        return results.sorted { ($0.threads, $0.batchSize) < ($1.threads, $1.batchSize) }
    }

    /// An aligned plain-text table, one batch size and thread count per line.
    public static func report(_ results: [Result]) -> String {
        let table = [["autoencoder", "threads", "samples/s", "GFLOP/s", "FMA peak", "of peak", "vs 1 thread, paired"]]
            + results.map { result in
                ["batch \(result.batchSize)", String(result.threads), String(Int(result.samplesPerSecond.rounded())),
                 String(format: "%.1f", result.gflops), String(format: "%.0f", result.peakGflops),
                 String(format: "%.0f%%", 100 * result.fractionOfPeak),
                 result.speedup.map { String(format: "x%.2f", $0) } ?? ""]
            }
        let widths = (0..<table[0].count).map { column in table.map { $0[column].count }.max() ?? 0 }
        return table.map { cells in
            cells.indices.map { column in
                let pad = String(repeating: " ", count: widths[column] - cells[column].count)
                return column == 0 ? cells[column] + pad : pad + cells[column]
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
