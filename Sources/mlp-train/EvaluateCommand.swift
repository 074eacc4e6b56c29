// `mlp-train evaluate`: a trained classifier scored on test digits.
import ArgumentParser
import Foundation
import MLPJobs
import MLPKit

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score a trained classifier on the test digits: accuracy, loss, per-class accuracy, figures.",
        discussion: """
            Writes summary.json, confusion.png and mistakes.png (the most confidently wrong digits, with their \
            true and predicted labels) into --output. The digits are flipped to the model's polarity when they \
            differ from it (the model file records its training data's background).
            """)

    @Option(help: "A classifier written by `mlp-train classify`.")
    var model: String = "Output/classify/network-b.safetensors"

    @Option(help: "How many of the most confident mistakes to draw.")
    var mistakes: Int = 36

    @Option(help: "Folder for summary.json, confusion.png and mistakes.png.")
    var output: String = "Output/evaluate"

    @OptionGroup var threading: ThreadOptions
    @OptionGroup var dataOptions: DataOptions

    func validate() throws {
        guard (0...1000).contains(mistakes) else { throw ValidationError("--mistakes must be 0…1000, got \(mistakes)") }
    }

    func run() throws {
        let (digits, _) = try dataOptions.loadTest()
        let summary = try EvaluateJob.run(model: model, test: digits, threads: threading.threads, mistakes: mistakes,
                                          output: output)
        print(String(format: "%@: test accuracy %.2f%% (%d digits), loss %.4f%@", model, 100 * summary.accuracy,
                     summary.testImages, summary.loss, summary.inverted ? ", digits inverted to the model's polarity" : ""))
        print("per class: " + summary.perClassAccuracy.enumerated()
            .map { String(format: "%d %.1f%%", $0.offset, 100 * $0.element) }.joined(separator: "  "))
        print("wrote \(output)/summary.json, confusion.png, mistakes.png")
    }
}
