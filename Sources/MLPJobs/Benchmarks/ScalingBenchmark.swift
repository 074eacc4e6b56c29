// Training speed against the machine's limit: the autoencoder's step shapes on 1, 2, all and more threads than
// cores, and a model of what more cores would give.
import MLPData
import MLPKit

/// Measures how training scales with threads, as samples/s and as a fraction of the FMA peak of the same number
/// of threads measured in the same run (`FMAPeak`): the autoencoder at batches 16, 256, 384 and 1024 with SGD,
/// and at batch 16 with Adam and momentum, on MNIST digits (with the sparse first layer for SGD, as
/// `mlp-train autoencoder` trains) when they are given, else on random inputs (every pixel counts, so the first
/// layer is dense). For each configuration the thread counts are timed in alternating chunks, so each speed-up
/// is the median of ratios measured side by side, not of two runs apart.
///
/// It also profiles each configuration's step on one thread (`StepProfile`): its work (every block's time) and
/// its span (the longest chain of tasks by their slowest blocks, plus a measured hand-over per link), which bound
/// a step on T threads: time ≥ max(work / T, span). A model for machines with more cores than this one.
public enum ScalingBenchmark {
    /// A step shape: batch size and update rule.
    public struct Configuration: Sendable, Equatable {
        public let batchSize: Int
        public let optimizer: Optimizer

        public init(batchSize: Int, optimizer: Optimizer = .sgd) {
            self.batchSize = batchSize
            self.optimizer = optimizer
        }

        /// "batch 16" or "adam, batch 16".
        public var name: String { (optimizer == .sgd ? "" : optimizer.name + ", ") + "batch \(batchSize)" }
    }

    /// The configurations timed by default: SGD at 1, 2, 3 and 8 shards, Adam and momentum at one.
    public static let configurations = [16, 256, 384, 1024].map { Configuration(batchSize: $0) }
        + [Configuration(batchSize: 16, optimizer: .defaultAdam), Configuration(batchSize: 16, optimizer: .defaultMomentum)]

    /// One configuration on one thread count.
    public struct Result: Sendable {
        public let configuration: Configuration
        public let threads: Int
        /// Median speed over the timed chunks.
        public let samplesPerSecond: Double
        /// The arithmetic that speed stands for: samples/s × FLOPs of a training sample, in GFLOP/s.
        public let gflops: Double
        /// The FMA peak of min(`threads`, cores) threads, measured just before.
        public let peakGflops: Double
        /// Speed ÷ the same configuration's speed on one thread, the median over the rounds of alternating chunks
        /// (nil when one thread was not timed).
        public let speedup: Double?

        /// `gflops` as a fraction of the peak.
        public var fractionOfPeak: Double { gflops / peakGflops }
    }

    /// One configuration's step profiled on one thread, and the bounds it gives for more threads.
    public struct Model: Sendable {
        public let configuration: Configuration
        /// Seconds per step: all blocks (work) and the longest chain (span) of the plan that threads share, profiled
        /// on one thread; one hand-over; and one thread's step as it trains (each task whole, nothing timed inside).
        public let work: Double, span: Double, handOver: Double, step: Double
        /// Each kind of task's share of the work, in the plan's order.
        public let shares: [(kind: String, fraction: Double)]

        /// The model's bound on the speed-up over one thread with `threads` threads: step / max(work / T, span).
        public func speedupBound(threads: Int) -> Double {
            step / max(work / Double(threads), span)
        }
    }

    /// 1, 2, `available` and 4 × `available` threads (more threads than cores), without repeats.
    public static func threadCounts(available: Int) -> [Int] {
        var counts: [Int] = []
        for count in [1, 2, available, 4 * available] where count >= 1 && !counts.contains(count) {
            counts.append(count)
        }
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

    /// The inputs the autoencoder is timed on: 2,048 of `digits` and their background, or random inputs.
    static func inputs(_ digits: Dataset?) -> (images: [Float], background: Float?) {
        if let sample = digits.flatMap(AutoencoderStepper.sample(of:)) { return (sample.images, sample.background) }
        return (TrainingBenchmark.uniform(2048 * 784, seed: 2), nil)
    }

    /// Times every configuration on every count in `threads`, about `seconds` each, on `digits` (2,048 of them)
    /// or, without them, on random inputs.
    public static func run(seconds: Double = 0.5, configurations: [Configuration] = configurations, threads: [Int],
                           available: Int, digits: Dataset? = nil) -> [Result] {
        let (data, background) = inputs(digits)
        let flops = trainingFLOPs(AutoencoderDemo.makeNetwork(seed: 1))
        let peaks = threads.map { FMAPeak.measure(threads: min($0, available)).total }
        var results: [Result] = []
        for configuration in configurations {
            let steppers = threads.map {
                AutoencoderStepper.make(batchSize: configuration.batchSize, threads: $0, data: data, background: background,
                                   optimizer: configuration.optimizer)
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
                results.append(Result(configuration: configuration, threads: threads[index], samplesPerSecond: rate,
                                      gflops: rate * flops / 1e9, peakGflops: peaks[index], speedup: speedup))
            }
        }
        return results
    }

    /// Profiles every configuration's step on one thread for about `seconds` each (`StepProfile`).
    public static func model(seconds: Double = 0.5, configurations: [Configuration] = configurations,
                             digits: Dataset? = nil) -> [Model] {
        let (data, background) = inputs(digits)
        let handOver = TrainingBenchmark.median((0..<5).map { _ in StepProfile.measureHandOver() })
        return configurations.map { configuration in
            let stepper = AutoencoderStepper.make(batchSize: configuration.batchSize, threads: 1, data: data,
                                             background: background, optimizer: configuration.optimizer)
            _ = stepper.profile(steps: 3)
            let clock = Stopwatch()
            let first = stepper.profile(steps: 5)
            let steps = max(5, min(2_000, Int(seconds / max(clock.seconds / 5, 1e-6))))
            let profile = steps > 5 ? stepper.profile(steps: steps) : first
            let work = profile.work
            // One thread's step as it trains: its whole tasks, no block timed.
            let oneThread = Double(stepper.batchSize) / TrainingBenchmark.medianRate(seconds: seconds, stepper.step)
            return Model(configuration: configuration, work: work, span: profile.span(boundary: handOver),
                         handOver: handOver, step: oneThread,
                         shares: profile.secondsByKind.map { ($0.kind, $0.seconds / work) })
        }
    }

    /// An aligned plain-text table, one configuration and thread count per line.
    public static func report(_ results: [Result]) -> String {
        let table = [["autoencoder", "threads", "samples/s", "GFLOP/s", "FMA peak", "of peak", "vs 1 thread, paired"]]
            + results.map { result in
                [result.configuration.name, String(result.threads), String(Int(result.samplesPerSecond.rounded())),
                 String(format: "%.1f", result.gflops), String(format: "%.0f", result.peakGflops),
                 String(format: "%.0f%%", 100 * result.fractionOfPeak),
                 result.speedup.map { String(format: "x%.2f", $0) } ?? ""]
            }
        return aligned(table)
    }

    /// The model's table: work, span and hand-over per configuration, the bound they give on the speed-up for
    /// 4, 8, 16 and 32 threads, and where the work goes.
    public static func report(_ models: [Model]) -> String {
        let counts = [4, 8, 16, 32]
        let table = [["model", "1-thread step µs", "work µs", "span µs", "hand-over µs"]
                     + counts.map { "bound T=\($0)" }]
            + models.map { model in
                [model.configuration.name, String(format: "%.0f", model.step * 1e6),
                 String(format: "%.0f", model.work * 1e6), String(format: "%.0f", model.span * 1e6),
                 String(format: "%.2f", model.handOver * 1e6)]
                    + counts.map { String(format: "x%.1f", model.speedupBound(threads: $0)) }
            }
        let shares = models.map { model in
            "  \(model.configuration.name): " + model.shares.map { share in
                "\(share.kind) \(String(format: "%.0f", 100 * share.fraction))%"
            }.joined(separator: ", ")
        }
        return aligned(table) + "A model, not a measurement: time ≥ max(work / T, span), with span the longest chain of "
            + "tasks (each by its slowest block) plus a hand-over per link; bound = one thread's step / that.\n"
            + "Where the work goes:\n" + shares.joined(separator: "\n") + "\n"
    }

    /// Left-aligned first column, right-aligned others (also the shapes benchmark's tables).
    static func aligned(_ table: [[String]]) -> String {
        let widths = (0..<table[0].count).map { column in table.map { $0[column].count }.max() ?? 0 }
        return table.map { cells in
            cells.indices.map { column in
                let pad = String(repeating: " ", count: widths[column] - cells[column].count)
                return column == 0 ? cells[column] + pad : pad + cells[column]
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
