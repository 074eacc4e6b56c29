// `mlp-train bench`: kernel throughput and training speed on this machine.
import ArgumentParser
import MLPKit

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure kernel GFLOP/s and per-sample training speed (use a release build).")

    @Option(help: "Seconds to time each kernel.")
    var seconds: Double = 0.3

    func run() throws {
        print(KernelBenchmark.report(KernelBenchmark.run(seconds: seconds)))
        print()
        print(TrainingBenchmark.report(TrainingBenchmark.run(seconds: seconds)))
    }
}
