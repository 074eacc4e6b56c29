// `mlp-train bench`: kernel throughput and training speed on this machine.
import ArgumentParser
import Foundation
import MLPData
import MLPImaging
import MLPJobs
import MLPKit

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure kernel GFLOP/s and training speed in samples/s (use a release build).")

    /// Which tables to measure.
    enum Suite: String, ExpressibleByArgument, CaseIterable {
        case all, kernels, training, autoencoder, scaling, shapes, inference
    }

    @Option(help: "Seconds to time each kernel or training configuration.")
    var seconds: Double = 0.3

    @Option(help: ArgumentHelp("What to measure: all, kernels, training, autoencoder (its training speed only), "
                               + "scaling, shapes or inference.", discussion: "inference: the forward pass "
                               + "through MLP.forward of network B, the autoencoder's encoder and 784 → 1024 → 1024 → "
                               + "10, each call timed: one sample's latency (median and p99, µs), and batches of 1,024 "
                               + "on 1 and 2 threads; not part of all. shapes: forward, dL/dx and dW of square layers "
                               + "of 64 to 2048 units at batches 16, 128 and 1024 as GFLOP/s and % of one thread's FMA "
                               + "peak (measured in the same run; both vector widths where 16 lanes are used), then "
                               + "whole Adam steps of three networks for `train` on 1 and 2 threads; it is not part "
                               + "of all. scaling: the autoencoder at batches 16, 256, 384 and 1024 "
                               + "(SGD) and 16 (Adam, momentum) on 1, 2, all and 4 × all threads (in alternating "
                               + "chunks, so the speed-ups are paired), as samples/s and as a fraction of the FMA peak "
                               + "of as many threads, measured in the same run; on MNIST (sparse first layer for SGD) "
                               + "when the digits are found, else on random inputs. Then each step profiled on one "
                               + "thread: its work, its span, and the bound they give for 4 to 32 threads."))
    var suite: Suite = .all

    @Option(help: ArgumentHelp("Folder holding MNIST, to time the autoencoder on real digits too.",
                               discussion: "Default: $MLP_DATA when set; without data, only random inputs are timed."))
    var data: String?

    @Flag(help: ArgumentHelp("With --suite inference: print one JSON object per line (model, batch, threads, "
                             + "median_us, p99_us, samples_per_s)."))
    var json = false

    @Option(help: ArgumentHelp("With --suite inference: write the networks timed into this folder (b.safetensors, "
                               + "autoencoder.safetensors, wide.safetensors), to export and time them elsewhere.",
                               valueName: "folder"))
    var saveModels: String?

    func validate() throws {
        guard seconds > 0, seconds.isFinite else {
            throw ValidationError("--seconds must be a positive number of seconds, not \(seconds).")
        }
        if suite != .inference, json || saveModels != nil {
            throw ValidationError("--json and --save-models go with --suite inference.")
        }
    }

    /// The training images to time the autoencoder on, when --data or $MLP_DATA names a folder (never downloads).
    func digits() throws -> Dataset? {
        let environment = ProcessInfo.processInfo.environment["MLP_DATA"].flatMap { $0.isEmpty ? nil : $0 }
        guard let folder = data ?? environment else { return nil }
        return try MNIST.load(from: folder).train
    }

    func run() throws {
        if suite == .inference {
            let models = InferenceBenchmark.models()
            if let saveModels { try InferenceBenchmark.save(models, to: saveModels) }
            let results = try InferenceBenchmark.run(seconds: seconds, models: models)
            print(json ? InferenceBenchmark.jsonLines(results) : InferenceBenchmark.report(results), terminator: "")
            return
        }
        if suite == .shapes {
            let peaks = Dictionary(uniqueKeysWithValues: [1, 2].map { ($0, FMAPeak.measure(threads: $0).total) })
            print(String(format: "FMA peak: %.0f GFLOP/s on 1 thread, %.0f on 2", peaks[1]!, peaks[2]!))
            print(KernelBenchmark.report(KernelBenchmark.shapes(seconds: seconds), peak: peaks[1]))
            print(ShapesBenchmark.report(try ShapesBenchmark.run(seconds: seconds, threads: [1, 2], peaks: peaks)))
            return
        }
        let digits = suite == .kernels ? nil : try digits()
        if suite != .kernels, digits == nil {
            printError("No MNIST folder (--data or $MLP_DATA): the autoencoder is timed on random inputs only.")
        }
        if suite == .all || suite == .kernels {
            print(KernelBenchmark.report(KernelBenchmark.run(seconds: seconds)))
        }
        if suite == .all { print() }
        if suite == .all || suite == .training {
            print(TrainingBenchmark.report(TrainingBenchmark.run(seconds: seconds, digits: digits)))
        }
        if suite == .all || suite == .scaling {
            if suite == .all { print() }
            let available = ProcessInfo.processInfo.activeProcessorCount
            let threads = ScalingBenchmark.threadCounts(available: available)
            print(ScalingBenchmark.report(ScalingBenchmark.run(seconds: seconds, threads: threads, available: available,
                                                               digits: digits)))
            print(ScalingBenchmark.report(ScalingBenchmark.model(seconds: seconds, digits: digits)))
        }
        if suite == .autoencoder {
            print(TrainingBenchmark.report(TrainingBenchmark.runAutoencoder(seconds: seconds, digits: digits)))
        }
    }
}
