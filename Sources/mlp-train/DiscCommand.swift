// `mlp-train disc`: the homework's disc test, with a PNG frame per epoch.
import ArgumentParser
import Foundation
import MLPData
import MLPImaging
import MLPJobs
import MLPKit

struct DiscCommand: TrainingCommand {
    static let configuration = CommandConfiguration(
        commandName: "disc",
        abstract: "Separate points inside the unit circle from those outside (2 → 100 → 2 → 1, per-sample SGD by default).",
        discussion: "Writes metrics.csv, summary.json and frame-0001.png … (one per epoch) into --output.")

    @OptionGroup var run: TrainingArguments<DiscDemo.Options>

    @Option(help: "Folder for metrics.csv, summary.json and the frames.")
    var output: String = "Output/disc"

    @OptionGroup var animation: GIFOptions

    @Flag(help: "Skip drawing the per-epoch PNG frames.")
    var noFrames = false

    /// The job's options from the command line.
    var options: DiscDemo.Options {
        var options = DiscDemo.Options()
        options.training = run.training
        options.output = output
        options.frames = !noFrames
        options.gif = animation.gif
        if let delay = animation.gifDelay { options.gifDelay = delay }
        options.checkpoints = run.checkpointing.options()
        return options
    }

    func validate() throws { try usage { try options.validate() } }

    func train(stop: StopRequest, cluster: ClusterRun) throws {
        var options = self.options
        options.checkpoints.stop = stop
        let summary = try DiscDemo.run(options) { epoch in
            printError(String(format: "epoch %3d/%d  loss %9.3f  accuracy %6.2f%%", epoch.epoch, run.epochs,
                              epoch.loss, 100 * epoch.accuracy))
        }
        print(String(format: "final accuracy %.2f%% after %d epochs (first 99%%: %@, first 100%%: %@); "
                     + "%.0f samples/s of %@; wrote %@", 100 * summary.finalAccuracy, run.epochs,
                     summary.firstEpochAt99Percent.map { "epoch \($0)" } ?? "never",
                     summary.firstEpochAt100Percent.map { "epoch \($0)" } ?? "never",
                     summary.samplesPerSecond, stepping(summary.optimizer, batchSize: summary.batchSize), output))
    }
}
