// The `mlp-train` command: parses options and hands the work to MLPKit.
import ArgumentParser
import Foundation
import MLPData
import MLPImaging
import MLPJobs
import MLPKit

@main
struct MLPTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlp-train",
        abstract: "Build, train and look at multilayer perceptrons.",
        subcommands: [DiscCommand.self, ClassifyCommand.self, AutoencoderCommand.self, TrainCommand.self, PCACommand.self,
                      TraverseCommand.self, PredictCommand.self, EvaluateCommand.self, ExportCommand.self,
                      ImportCommand.self, PackCommand.self,
                      DownloadCommand.self, BenchCommand.self])

    /// Lets `mlp-train --threads 4 classify …` mean `mlp-train classify --threads 4 …`: options shared by every
    /// subcommand may come before the subcommand's name.
    static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        var leading: [String] = []
        while let first = arguments.first, first == "--threads" || first.hasPrefix("--threads=") {
            leading.append(arguments.removeFirst())
            if first == "--threads", !arguments.isEmpty { leading.append(arguments.removeFirst()) }
        }
        if !leading.isEmpty, !arguments.isEmpty {
            arguments.insert(contentsOf: leading, at: 1)
        } else {
            arguments = leading + arguments
        }
        reportTruncatedMappings()
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch let error as MLPError {
            exit(withError: error.inCommandLineTerms)
        } catch let diverged as TrainingDiverged {
            exit(withError: MLPError(diverged.summary + " Nothing was saved from this step on; try a lower "
                                     + "--learning-rate, such as \(diverged.suggestedLearningRate)."))
        } catch {
            exit(withError: error)
        }
    }
}

/// `--threads`, shared by the commands that use worker threads.
struct ThreadOptions: ParsableArguments {
    @Option(name: .customLong("threads"), help: "Worker threads (default: the number of active processors).")
    var requested: Int?

    /// The thread count to use.
    var threads: Int { requested ?? ProcessInfo.processInfo.activeProcessorCount }

    func validate() throws {
        if let requested { try usage { try TrainingOptions.validate(threads: requested) } }
    }
}

/// Standard error, for progress and diagnostics (standard output stays clean for results).
func printError(_ text: String) {
    if ClusterRun.quiet { return }
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
