// `mlp-train pca`: the two-component PCA baseline the autoencoder is compared with.
import ArgumentParser
import MLPData
import MLPImaging
import MLPJobs
import MLPKit

struct PCACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pca",
        abstract: "PCA of the training digits: variance explained and test reconstruction loss (the autoencoder's baseline).",
        discussion: "Writes summary.json (variance_explained, test_loss) and figure.png into --output.")

    @Option(help: "Number of principal components.")
    var components: Int = 2

    @Option(help: "Seed for the digits shown in the figure.")
    var seed: UInt64 = 0

    @OptionGroup var threading: ThreadOptions
    @OptionGroup var dataOptions: DataOptions

    @Option(help: "Folder for summary.json and figure.png.")
    var output: String = "Output/pca"

    func validate() throws {
        guard (1...784).contains(components) else {
            throw ValidationError("--components must be between 1 and 784, got \(components)")
        }
    }

    func run() throws {
        let digits = try dataOptions.load()
        var options = PCADemo.Options()
        options.components = components
        options.threads = threading.threads
        options.seed = seed
        options.output = output
        let summary = try PCADemo.run(options, data: digits)
        print(String(format: "%d components explain %.2f%% of the training variance; test loss %.2f per image "
                     + "(train %.2f); %.1f s; wrote %@", components, 100 * summary.varianceExplained,
                     summary.testLoss, summary.trainLoss, summary.seconds, output))
    }
}
