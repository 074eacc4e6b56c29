// `predict`: a trained model applied to image files: the digit and its top three probabilities, or the 2-D code
// and the reconstruction.
import Foundation
import MLPImaging
import MLPKit

/// Applies a trained model to files: `run(model:inputs:output:)` takes any model the project writes; the digit
/// models of `classify` and `autoencoder` are applied to images here, `train`'s by `TabularPredictJob`.
public enum PredictJob {
    /// What `predict` made of its inputs, by the kind of model.
    public enum Outcome: Sendable, Equatable {
        /// A digit classifier's or autoencoder's predictions, one per image.
        case digits([Prediction])
        /// A `train` model's predictions, one per CSV row or image, and their score.
        case table(TabularPredictJob.Report)
    }

    /// Applies the model at `model`, whichever job wrote it, to `inputs`: images for a digit model; CSV files
    /// or images for a `train` model. An autoencoder's reconstructions go into `output`.
    public static func run(model path: String, inputs: [String], output: String = "Output/predict") throws -> Outcome {
        if TabularModel.isTabular(try SafeTensors.read(path)) {
            return .table(try TabularPredictJob.run(model: path, inputs: inputs))
        }
        return .digits(try run(model: path, images: inputs, output: output))
    }

    /// What the model made of one image.
    public struct Prediction: Sendable, Codable, Equatable {
        /// The image file.
        public let image: String
        /// Whether the image was flipped (1 − x) to the model's polarity.
        public let inverted: Bool
        /// For a classifier: the predicted class, and the three most probable classes with their probabilities.
        public let predicted: Int?
        public let top: [Ranked]?
        /// For an autoencoder: the 2-D code, and the PNG of the reconstruction.
        public let code: [Float]?
        public let reconstruction: String?
    }

    /// A class and its probability.
    public struct Ranked: Sendable, Codable, Equatable {
        public let digit: Int
        public let probability: Float
    }

    /// Predicts every image in `images` with the model at `model`; an autoencoder's reconstructions are written
    /// as PNGs (28 × 28, enlarged 8 times) into `output`.
    public static func run(model path: String, images: [String], output: String = "Output/predict") throws
        -> [Prediction] {
        guard !images.isEmpty else { throw MLPError("predict needs at least one image file") }
        let model = try DigitModel(contentsOf: path)
        let net = model.network
        return try images.map { image in
            let digit = try DigitImage(contentsOf: image, background: model.background)
            switch model {
            case .classifier:
                let probabilities = try net.forward(digit.pixels)
                let ranked = probabilities.enumerated().sorted { $0.element > $1.element }
                return Prediction(image: image, inverted: digit.inverted, predicted: ranked[0].offset,
                                  top: ranked.prefix(3).map { Ranked(digit: $0.offset, probability: $0.element) },
                                  code: nil, reconstruction: nil)
            case .autoencoder:
                let code = try net.forward(digit.pixels, end: "latent")
                let rebuilt = try net.forward(digit.pixels)
                try AtomicFile.createFolder(output)
                let name = URL(fileURLWithPath: image).deletingPathExtension().lastPathComponent
                let file = output + "/" + name + "-reconstruction.png"
                try PNGFile.write(enlarged(rebuilt, scale: 8), to: file)
                return Prediction(image: image, inverted: digit.inverted, predicted: nil, top: nil, code: code,
                                  reconstruction: file)
            }
        }
    }

    /// A 28 × 28 image of values in [0, 1] as grey bytes, each pixel a scale × scale block.
    static func enlarged(_ values: [Float], scale: Int) -> GrayImage {
        let side = 28 * scale
        var pixels = [UInt8](repeating: 0, count: side * side)
        for y in 0..<side {
            for x in 0..<side {
                pixels[y * side + x] = UInt8((255 * min(max(values[(y / scale) * 28 + x / scale], 0), 1)).rounded())
            }
        }
        return GrayImage(width: side, height: side, pixels: pixels)
    }
}
