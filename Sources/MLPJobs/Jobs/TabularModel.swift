// A model trained by `mlp-train train`: the network with what it needs to read new data the way it was trained.
import Foundation
import MLPData
import MLPKit

/// A network trained by `train`, with its target encoding (class names, or the columns it predicts), the feature
/// names it reads, the standardization fitted on its training data, and the image shape for image data. One
/// safetensors file holds it all: the network's tensors, `standardize.mean` and `standardize.scale`, and
/// `note.*` metadata, so `MLP(contentsOf:)` still reads it as a plain network.
public struct TabularModel {
    /// The trained network (its first layer takes the standardized features).
    public let network: MLP
    /// What the outputs mean.
    public let encoding: TargetEncoding
    /// The features, in the order the network reads them.
    public let featureNames: [String]
    /// The target columns' names (where a CSV holds the truth).
    public let targetNames: [String]
    /// z-scores applied to the features before the network, when trained with `--standardize`.
    public let standardizer: Standardizer?
    /// [height, width] when the features are a grey image's pixels.
    public let imageShape: [Int]?

    /// Puts the pieces together and records them in the network's notes.
    public init(network: MLP, encoding: TargetEncoding, featureNames: [String], targetNames: [String],
                standardizer: Standardizer?, imageShape: [Int]?) throws {
        self.network = network
        self.encoding = encoding
        self.featureNames = featureNames
        self.targetNames = targetNames
        self.standardizer = standardizer
        self.imageShape = imageShape
        network.notes["trained_by"] = "train"
        network.notes["target_encoding"] = try JobCheckpoints.encode(encoding)
        network.notes["features"] = try JobCheckpoints.encode(featureNames)
        network.notes["targets"] = try JobCheckpoints.encode(targetNames)
        if let imageShape { network.notes["image_shape"] = imageShape.map(String.init).joined(separator: "x") }
    }

    /// The model as safetensors (network, standardization, notes).
    public var safeTensors: SafeTensors {
        var file = network.safeTensors
        file.tensors += standardizationTensors
        return file
    }

    /// `standardize.mean` and `standardize.scale` when the model standardizes its features; none otherwise.
    public var standardizationTensors: [SafeTensors.Tensor] {
        guard let standardizer else { return [] }
        let count = standardizer.mean.count
        return [.init(name: "standardize.mean", shape: [count], values: standardizer.mean),
                .init(name: "standardize.scale", shape: [count], values: standardizer.scale)]
    }

    /// Writes the model to `path`, replacing any file there atomically.
    public func write(to path: String) throws { try safeTensors.write(to: path) }

    /// The value of a blank pixel in the images it was trained on (0 or 1, its `input_background` note), so a
    /// picture of the other polarity can be flipped to match; nil for tables and images without one.
    public var imageBackground: Float? {
        switch network.notes["input_background"] {
        case "0": 0
        case "1": 1
        default: nil
        }
    }

    /// Records the background of image features (rows of the model's inputs): the value, 0 or 1, that fills at
    /// least half of them.
    func noteImageBackground(of features: InputRows) {
        guard imageShape != nil, let dominant = TrainingSet.dominantValue(of: features), dominant.fraction >= 0.5
        else { return }
        network.notes["input_background"] = dominant.value == 1 ? "1" : "0"
    }

    /// Whether the file at `path` was written by `train` (and not by the homework's jobs).
    public static func isTabular(_ file: SafeTensors) -> Bool { file.metadata["note.trained_by"] == "train" }

    /// Reads a model written by `write(to:)`; errors name the file.
    public init(contentsOf path: String) throws {
        let file = try SafeTensors.read(path)
        guard Self.isTabular(file) else {
            throw MLPError("\(path): not a model written by `mlp-train train` (no note.trained_by = train)")
        }
        let network = try MLP(safeTensors: file, path: path)
        func decode<T: Decodable>(_ key: String, as type: T.Type) throws -> T {
            guard let text = network.notes[key], let value = try? JSONDecoder().decode(T.self, from: Data(text.utf8)) else {
                throw MLPError("\(path): the model's note \"\(key)\" is missing or unreadable")
            }
            return value
        }
        let encoding = try decode("target_encoding", as: TargetEncoding.self)
        let features = try decode("features", as: [String].self)
        let targets = try decode("targets", as: [String].self)
        guard features.count == network.inputSize, encoding.outputs == network.outputSize else {
            throw MLPError("\(path): its notes describe \(features.count) features and \(encoding.outputs) outputs, "
                           + "but the network has \(network.inputSize) inputs and \(network.outputSize) outputs")
        }
        var standardizer: Standardizer?
        if let mean = file["standardize.mean"], let scale = file["standardize.scale"] {
            guard mean.values.count == features.count else {
                throw MLPError("\(path): standardize.mean has \(mean.values.count) values for \(features.count) features")
            }
            standardizer = try Standardizer(mean: mean.values, scale: scale.values)
        }
        let shape = network.notes["image_shape"].map { $0.split(separator: "x").compactMap { Int($0) } }
        try self.init(network: network, encoding: encoding, featureNames: features, targetNames: targets,
                      standardizer: standardizer,
                      imageShape: shape)
    }

    /// `features` (rows of featureNames.count) standardized as in training.
    public func prepare(_ features: [Float]) -> [Float] { standardizer?.apply(features) ?? features }
}
