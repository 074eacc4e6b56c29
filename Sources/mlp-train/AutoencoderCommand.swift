// `mlp-train autoencoder`: the homework's 2-D autoencoder of the digits, trained data-parallel.
import ArgumentParser
import Foundation
import MLPData
import MLPImaging
import MLPJobs
import MLPKit

struct AutoencoderCommand: TrainingCommand {
    static let configuration = CommandConfiguration(
        commandName: "autoencoder",
        abstract: "Train the homework's 784-512-256-128-2-128-256-512-784 autoencoder on MNIST.",
        discussion: """
            Mini-batch gradient descent (gradients summed over each batch), each batch split into shards that \
            --threads workers process in parallel; the trained weights do not depend on --threads. Writes \
            metrics.csv, model.safetensors, summary.json and frame-0001.png … into --output.
            """)

    @OptionGroup var run: TrainingArguments<AutoencoderDemo.Options>

    @Option(help: "Also write a frame every K batches, to watch training as an animation.")
    var framesEvery: Int?

    @OptionGroup var dataOptions: DataOptions

    @Option(help: "Folder for the metrics, model, summary and frames.")
    var output: String = "Output/autoencoder"

    @OptionGroup var animation: GIFOptions

    /// The job's options from the command line.
    var options: AutoencoderDemo.Options {
        var options = AutoencoderDemo.Options()
        options.training = run.training
        options.framesEvery = framesEvery
        options.output = output
        options.gif = animation.gif
        if let delay = animation.gifDelay { options.gifDelay = delay }
        options.checkpoints = run.checkpointing.options()
        return options
    }

    static let trainsAcrossProcesses = true

    func validate() throws { try usage { try options.validate() } }

    func train(stop: StopRequest, cluster: ClusterRun) throws {
        let digits = try dataOptions.load()
        var options = self.options
        options.checkpoints.stop = stop
        if let exchange = cluster.exchange {
            options.exchange = exchange
            if !cluster.leads { options.output = nil }
        }
        var progress = ProgressLine()
        let runClock = Stopwatch()
        let epochs = run.epochs
        let summary = try AutoencoderDemo.run(options, data: digits) { event in
            switch event {
            case let .progress(epoch, done, total, runningLoss, samplesPerSecond):
                let fraction = (Double(epoch - 1) + Double(done) / Double(total)) / Double(epochs)
                let eta = runClock.seconds * (1 - fraction) / max(fraction, 1e-9)
                progress.update(String(format: "epoch %d/%d  %3.0f%%  %.1fk samples/s  loss %.2f  ETA %@", epoch,
                                       epochs, 100 * Double(done) / Double(total), samplesPerSecond / 1000,
                                       runningLoss, ProgressLine.duration(eta)))
            case let .epoch(r):
                progress.finish(String(format: "epoch %d/%d  lr %.2e  train loss %.2f  test loss %.2f  "
                                       + "%.1fk samples/s  %.1f s", r.epoch, epochs, r.learningRate, r.trainLoss,
                                       r.testLoss, r.samplesPerSecond / 1000, r.seconds))
            }
        }
        guard cluster.leads else { return }
        print(String(format: "test loss %.2f after %d epochs (per image, sum of squares); %.0f samples/s on %d "
                     + "thread(s), %d shard(s) of %d per batch, %@ first layer; wrote %@", summary.finalTestLoss, epochs,
                     summary.samplesPerSecond, run.threading.threads, summary.shardsPerBatch, summary.shardRows,
                     summary.sparseFirstLayer ? "sparse" : "dense", output))
    }
}
