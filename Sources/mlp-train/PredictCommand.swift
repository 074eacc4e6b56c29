// `mlp-train predict`: a trained model applied to image files.
import ArgumentParser
import Foundation
import MLPJobs
import MLPKit

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Apply a trained classifier or autoencoder to PNG images of digits.",
        discussion: """
            Each image is read as grey (libpng converts any PNG, compositing transparency on white), resized to \
            28×28 by area averaging (every output pixel is the mean of the part of the image it covers), and \
            flipped when its background (the mean of its outer ring) differs from the one the model was trained \
            on, which the model file records. A classifier prints the predicted digit and the three most \
            probable ones; an autoencoder prints the 2-D code and writes NAME-reconstruction.png into --output.
            """)

    @Option(help: "A model written by `mlp-train classify` or `mlp-train autoencoder`.")
    var model: String = "Output/classify/network-b.safetensors"

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(help: "Folder for an autoencoder's reconstructions.")
    var output: String = "Output/predict"

    @Argument(help: "PNG images of digits.")
    var images: [String]

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one PNG image") }
    }

    func run() throws {
        let predictions = try PredictJob.run(model: model, images: images, output: output)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(predictions), as: UTF8.self))
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
}
