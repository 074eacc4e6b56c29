// `mlp-train classify`: the homework's networks A and B on MNIST, compared over the epochs.
import ArgumentParser
import Foundation
import MLPData
import MLPImaging
import MLPJobs
import MLPKit

struct ClassifyCommand: TrainingCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Train and compare the homework's digit classifiers A and B on MNIST (per-sample SGD by default).",
        discussion: """
            A = 784 → 20 (leaky ReLU) → 10 (softmax); B = 784 → 40 (ReLU) → 20 (leaky ReLU) → 10 (softmax). \
            Writes metrics.csv, summary.json, network-a/b.safetensors, curves.png, confusion-a/b.png and \
            report.md into --output. The homework's own recipe is --learning-rate 0.001 --schedule constant.
            """)

    enum NetworkChoice: String, ExpressibleByArgument, CaseIterable { case a, b, both }

    @Option(help: "Which network to train: a, b or both.")
    var network: NetworkChoice = .both

    @OptionGroup var run: TrainingArguments<ClassifyDemo.Options>
    @OptionGroup var dataOptions: DataOptions

    @Option(help: "Folder for the metrics, models, figures and report.")
    var output: String = "Output/classify"

    /// The job's options from the command line.
    var options: ClassifyDemo.Options {
        var options = ClassifyDemo.Options()
        options.networks = network == .both ? [.a, .b] : [DigitNetwork(rawValue: network.rawValue)!]
        options.training = run.training
        options.output = output
        options.checkpoints = run.checkpointing.options()
        return options
    }

    func validate() throws { try usage { try options.validate() } }

    func train(stop: StopRequest, cluster: ClusterRun) throws {
        let digits = try dataOptions.load()
        var options = self.options
        options.checkpoints.stop = stop
        var progress = ProgressLine()
        var networkClock = Stopwatch()
        var currentNetwork: DigitNetwork?
        let epochs = run.epochs
        let summary = try ClassifyDemo.run(options, data: digits) { event in
            switch event {
            case let .progress(network, epoch, done, total, runningLoss, samplesPerSecond):
                if currentNetwork != network { currentNetwork = network; networkClock = Stopwatch() }
                let fraction = (Double(epoch - 1) + Double(done) / Double(total)) / Double(epochs)
                let eta = networkClock.seconds * (1 - fraction) / max(fraction, 1e-9)
                progress.update(String(format: "%@ epoch %d/%d  %3.0f%%  %.0fk samples/s  loss %.4f  ETA %@",
                                       network.title, epoch, epochs, 100 * Double(done) / Double(total),
                                       samplesPerSecond / 1000, runningLoss, ProgressLine.duration(eta)))
            case let .epoch(r):
                progress.finish(String(format: "%@ epoch %3d/%d  lr %.5f  train %.2f%% (loss %.4f)  "
                                       + "test %.2f%% (loss %.4f)  %.0fk samples/s  %.1f s",
                                       r.network.title, r.epoch, epochs, r.learningRate, 100 * r.trainAccuracy,
                                       r.trainLoss, 100 * r.testAccuracy, r.testLoss, r.samplesPerSecond / 1000,
                                       r.seconds))
            }
        }
        for n in summary.networks {
            print(String(format: "network %@: test %.2f%% (best %.2f%% at epoch %d), train %.2f%%, "
                         + "%.0f samples/s of %@", n.network.title, 100 * n.finalTestAccuracy,
                         100 * n.bestTestAccuracy, n.bestEpoch, 100 * n.finalTrainAccuracy, n.samplesPerSecond,
                         stepping(summary.optimizer, batchSize: summary.batchSize)))
        }
        print("first layer: \(summary.sparseFirstLayer ? "sparse (non-background pixels only)" : "dense")")
        print("wrote \(output)/report.md, metrics.csv, summary.json, curves.png, models and confusion matrices")
    }
}
