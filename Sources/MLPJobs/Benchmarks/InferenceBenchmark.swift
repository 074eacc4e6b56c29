// Timing inference as a deployed network runs it: one sample's latency, and large batches' throughput.
import Dispatch
import MLPKit

/// The forward pass of three networks through the public API (`MLP.forward`), each call timed on its own: one
/// sample at a time (its latency), and batches of 1,024 on 1 and 2 threads (their throughput). The inputs are
/// uniform in [0, 1), as pixels are; the weights are the networks' seeded initial ones (the arithmetic does not
/// depend on their values).
public enum InferenceBenchmark {
    /// One network timed at one batch size on some threads.
    public struct Result: Sendable {
        /// `b`, `encoder` or `wide` (`InferenceBenchmark.models`).
        public let model: String
        /// Samples per call.
        public let batch: Int
        /// Threads that shared each call.
        public let threads: Int
        /// Median time of one call, in microseconds.
        public let medianMicroseconds: Double
        /// The 99th percentile of the time of one call, in microseconds.
        public let p99Microseconds: Double
        /// batch / the median call time.
        public var samplesPerSecond: Double { Double(batch) / medianMicroseconds * 1e6 }
        /// For one sample: the median time of reading the pass's parameters once (a sum over a copy of them), the
        /// bound the memory puts on its latency; nil for batches.
        public let readMicroseconds: Double?
    }

    /// A network timed, and the layer its pass ends at (nil: the last).
    public struct Model {
        /// How reports and JSON name it.
        public let name: String
        /// What it is, in words.
        public let description: String
        /// The whole network.
        public let network: MLP
        /// The name of the layer the timed pass ends at (nil: the last).
        public let end: String?
        /// The file name it is saved under (`save(_:to:)`).
        public var fileName: String { (end == nil ? name : "autoencoder") + ".safetensors" }
    }

    /// Network B of classify, the autoencoder's encoder (the pass from the input to `latent`) and a wide
    /// classifier, 784 → 1024 → 1024 → 10.
    public static func models() -> [Model] {
        let wide = MLP(inputSize: 784, loss: .softmaxCrossEntropy, seed: 3)
        wide.addLayer(1024, activation: .relu, name: "hidden1")
        wide.addLayer(1024, activation: .relu, name: "hidden2")
        wide.addLayer(10, activation: .softmax, name: "output")
        return [
            Model(name: "b", description: DigitNetwork.b.architecture, network: DigitNetwork.b.make(seed: 1),
                  end: nil),
            Model(name: "encoder", description: "784 → 512 → 256 → 128 → 2, the autoencoder up to its latent layer",
                  network: AutoencoderDemo.makeNetwork(seed: 2), end: "latent"),
            Model(name: "wide", description: "784 → 1024 (ReLU) → 1024 (ReLU) → 10 (softmax)", network: wide,
                  end: nil),
        ]
    }

    /// The (batch, threads) pairs timed for every model.
    public static let configurations = [(batch: 1, threads: 1), (batch: 1024, threads: 1), (batch: 1024, threads: 2)]

    /// Times every model at every configuration for about `seconds` each (at least `minimumCalls` calls, after 20
    /// to warm up).
    public static func run(seconds: Double, models: [Model] = models(), minimumCalls: Int = 200) throws -> [Result] {
        var results: [Result] = []
        for model in models {
            for (batch, threads) in configurations {
                let inputs = TrainingBenchmark.uniform(batch * model.network.inputSize, seed: 7)
                let x = Matrix(rows: batch, columns: model.network.inputSize, values: inputs)
                let times: [Double]
                var read: Double?
                if batch == 1 {
                    read = try readTime(model, seconds: seconds, minimumCalls: minimumCalls)
                    // The one-sample API: an array in, an array out.
                    times = try callTimes(seconds: seconds, minimumCalls: minimumCalls) {
                        _ = try model.network.forward(inputs, end: model.end)
                    }
                } else {
                    times = try callTimes(seconds: seconds, minimumCalls: minimumCalls) {
                        _ = try model.network.forward(x, end: model.end, threads: threads)
                    }
                }
                let sorted = times.sorted()
                results.append(Result(model: model.name, batch: batch, threads: threads,
                                      medianMicroseconds: sorted[sorted.count / 2] * 1e6,
                                      p99Microseconds: sorted[min(sorted.count - 1, sorted.count * 99 / 100)] * 1e6,
                                      readMicroseconds: read))
            }
        }
        return results
    }

    /// Writes each model's whole network into `folder` (b.safetensors, autoencoder.safetensors,
    /// wide.safetensors), to be exported and run elsewhere.
    public static func save(_ models: [Model], to folder: String) throws {
        for model in models { try model.network.write(to: folder + "/" + model.fileName) }
    }

    /// The median time of one read of the parameters that `model`'s pass uses, in µs: a sum of 16-lane vectors
    /// over a copy of them, called as often as the pass is. Read that way over and over, they come from the same
    /// level of the memory as the pass reads them from.
    static func readTime(_ model: Model, seconds: Double, minimumCalls: Int) throws -> Double {
        let net = model.network
        let last = try model.end.map { try net.layerIndex(named: $0) } ?? net.layers.count - 1
        let count = net.layers[last].biasOffset + net.layers[last].outputSize
        let copy = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
        defer { copy.deallocate() }
        net.parameters.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: count * 4) }
        var sink = SIMD16<Float>()
        let times = try callTimes(seconds: seconds, minimumCalls: minimumCalls) {
            var a = SIMD16<Float>(), b = SIMD16<Float>(), c = SIMD16<Float>(), d = SIMD16<Float>()
            var offset = 0
            while offset + 64 <= count {
                a += copy.load(fromByteOffset: offset * 4, as: SIMD16<Float>.self)
                b += copy.load(fromByteOffset: offset * 4 + 64, as: SIMD16<Float>.self)
                c += copy.load(fromByteOffset: offset * 4 + 128, as: SIMD16<Float>.self)
                d += copy.load(fromByteOffset: offset * 4 + 192, as: SIMD16<Float>.self)
                offset += 64
            }
            sink += (a + b) + (c + d)
        }
        // The sums are used, so the reads cannot be optimized away.
        guard !sink.sum().isNaN else { throw MLPError("the parameters of \(model.name) hold NaN") }
        return times.sorted()[times.count / 2] * 1e6
    }

    /// Seconds taken by each call of `body`, called until `seconds` pass and at least `minimumCalls` times.
    static func callTimes(seconds: Double, minimumCalls: Int, _ body: () throws -> Void) throws -> [Double] {
        for _ in 0..<20 { try body() }
        var times: [Double] = []
        times.reserveCapacity(1 << 16)
        let clock = Stopwatch()
        while times.count < minimumCalls || clock.seconds < seconds {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times
    }

    /// Formats results as an aligned plain-text table.
    public static func report(_ results: [Result]) -> String {
        let table = [["model", "batch", "threads", "median µs", "p99 µs", "samples/s", "parameters read once, µs"]]
            + results.map { r in
                [r.model, String(r.batch), String(r.threads), String(format: "%.2f", r.medianMicroseconds),
                 String(format: "%.2f", r.p99Microseconds), String(Int(r.samplesPerSecond.rounded())),
                 r.readMicroseconds.map { String(format: "%.2f", $0) } ?? "-"]
            }
        return ScalingBenchmark.aligned(table)
    }

    /// One JSON object per result and line: model, batch, threads, median_us, p99_us, samples_per_s, and for one
    /// sample read_us (`Result.readMicroseconds`).
    public static func jsonLines(_ results: [Result]) -> String {
        results.map { r in
            "{\"model\": \"\(r.model)\", \"batch\": \(r.batch), \"threads\": \(r.threads), "
                + String(format: "\"median_us\": %.3f, \"p99_us\": %.3f, \"samples_per_s\": %.1f",
                         r.medianMicroseconds, r.p99Microseconds, r.samplesPerSecond)
                + (r.readMicroseconds.map { String(format: ", \"read_us\": %.3f", $0) } ?? "") + "}"
        }.joined(separator: "\n") + "\n"
    }
}
