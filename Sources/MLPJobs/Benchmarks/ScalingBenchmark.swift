// Training speed against the machine's limit: the autoencoder at three batch sizes on 1, 2 and all threads.
import MLPKit

/// Measures how training scales with threads, as samples/s and as a fraction of the FMA peak of the same number
/// of threads measured in the same run (`FMAPeak`): the autoencoder on random inputs (every pixel counts, so the
/// first layer is dense) at batches 16, 256 and 1024.
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
        /// Speed ÷ the same batch's speed on one thread (nil when one thread was not timed).
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

    /// Times every batch size in `batchSizes` on every count in `threads`, about `seconds` each.
    public static func run(seconds: Double = 0.5, batchSizes: [Int] = [16, 256, 1024],
                           threads: [Int]) -> [Result] {
        let data = TrainingBenchmark.uniform(2048 * 784, seed: 2)
        let flops = trainingFLOPs(AutoencoderDemo.makeNetwork(seed: 1))
        var results: [Result] = []
        for count in threads {
            let peak = FMAPeak.measure(threads: count).total
            for batch in batchSizes {
                let rate = TrainingBenchmark.autoencoder(batchSize: batch, threads: count, seconds: seconds, data: data)
                let single = results.first { $0.batchSize == batch && $0.threads == 1 }?.samplesPerSecond
                results.append(Result(batchSize: batch, threads: count, samplesPerSecond: rate,
                                      gflops: rate * flops / 1e9, peakGflops: peak,
                                      speedup: single.map { rate / $0 }))
            }
        }
        return results
    }

    /// An aligned plain-text table, one batch size and thread count per line.
    public static func report(_ results: [Result]) -> String {
        let table = [["autoencoder", "threads", "samples/s", "GFLOP/s", "FMA peak", "of peak", "vs 1 thread"]]
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
