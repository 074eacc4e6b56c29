// `mlp-train predict`: a trained model applied to image files.
import ArgumentParser
import Foundation
import MLPJobs
import MLPKit

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Apply a trained model to PNG images of digits, or a `train` model to CSV rows or images.",
        discussion: """
            Each image is read as grey (libpng converts any PNG, compositing transparency on white), resized to \
            28×28 by area averaging (every output pixel is the mean of the part of the image it covers), and \
            flipped when its background (the mean of its outer ring) differs from the one the model was trained \
            on, which the model file records. A classifier prints the predicted digit and the three most \
            probable ones; an autoencoder prints the 2-D code and writes NAME-reconstruction.png into --output.
            A model written by `mlp-train train` reads CSV files (its feature columns are found by name; when the \
            target column is there too, the predictions are scored against it) or, if it was trained on images, \
            PNGs (grey, resized to the training size); it prints the class name and its probability, or the \
            predicted numbers.
            """)

    @Option(help: "A model written by `mlp-train classify`, `autoencoder` or `train`.")
    var model: String = "Output/classify/network-b.safetensors"

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(help: "Folder for an autoencoder's reconstructions.")
    var output: String = "Output/predict"

    @Argument(help: "PNG images of digits, or CSV files for a `train` model.")
    var images: [String]

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one PNG image or CSV file") }
    }

    func run() throws {
        switch try PredictJob.run(model: model, inputs: images, output: output) {
        case .digits(let predictions): try show(predictions)
        case .table(let report): try show(report)
        }
    }

    /// A digit model's predictions: the digit and its top three, or the code and the reconstruction's file.
    func show(_ predictions: [PredictJob.Prediction]) throws {
        if json {
            print(try JSONFile.text(predictions))
            return
        }
        for p in predictions {
            let note = p.inverted ? "  (inverted to the model's polarity)" : ""
            if let top = p.top, let predicted = p.predicted {
                let ranked = top.map { String(format: "%d %5.1f%%", $0.digit, 100 * $0.probability) }
                print("\(p.image): \(predicted)    " + ranked.joined(separator: "   ") + note)
            } else if let code = p.code, let file = p.reconstruction {
                print(String(format: "%@: code (%.4f, %.4f), reconstruction %@%@", p.image, code[0], code[1], file, note))
            }
        }
    }

    /// A `train` model's predictions: one line per row, then the score when the truth was given.
    func show(_ report: TabularPredictJob.Report) throws {
        if json {
            print(try JSONFile.text(report))
            return
        }
        for p in report.predictions {
            var line = "\(p.source): "
            if let name = p.predicted, let top = p.top {
                line += top.count == 1 ? "\(name)  (p = \(String(format: "%.3f", top[0].probability)))"
                    : "\(name)    " + top.map { String(format: "%@ %5.1f%%", $0.name, 100 * $0.probability) }
                        .joined(separator: "   ")
            } else if let values = p.values {
                line += values.map { String(format: "%.5g", $0) }.joined(separator: ", ")
            }
            if let truth = p.truth { line += "    (true: \(truth))" }
            print(line)
        }
        if let accuracy = report.accuracy {
            print(String(format: "accuracy %.2f%% over the rows with a true class", 100 * accuracy))
        }
        if let r2 = report.r2 { print(String(format: "R² %.4f over the rows with true values", r2)) }
    }
}
