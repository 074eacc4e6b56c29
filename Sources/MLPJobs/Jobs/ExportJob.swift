// `export`: any model the project writes, or a part of it, as an ONNX file.
import Foundation
import MLPData
import MLPInterop
import MLPKit

/// Turns a model file (classify's networks, the autoencoder, a `train` model, a checkpoint) into an ONNX model
/// (`ONNXExport`). A `train` model's standardization is part of the graph and its notes (class names, feature
/// names, the images' shape and background) become the ONNX metadata; `start` and `end` export the layers from
/// one named layer to another, as `forward(start:end:)` runs them.
public enum ExportJob {
    /// What to export and where.
    public struct Options: Sendable {
        /// The model file (safetensors): a network, a `train` model or a checkpoint.
        public var model: String
        /// The ONNX file to write.
        public var onnx: String
        /// The first and last layers to export (names; nil: the network's first and last).
        public var start: String?
        public var end: String?

        public init(model: String, onnx: String, start: String? = nil, end: String? = nil) {
            self.model = model
            self.onnx = onnx
            self.start = start
            self.end = end
        }
    }

    /// What was written.
    public struct Summary: Sendable {
        /// The exported layers, in words ("784 → 512 relu → … → 2 logistic").
        public let layers: String
        /// Whether the graph standardizes its input first.
        public let standardizes: Bool
        /// The file's size in bytes.
        public let bytes: Int
    }

    /// Reads the model, builds the graph and writes it atomically; errors name the file or the layer.
    public static func run(_ options: Options) throws -> Summary {
        let file = try SafeTensors.read(options.model)
        var standardization: ONNXExport.Standardization?
        let network: MLP
        var metadata: [String: String] = ["source": (options.model as NSString).lastPathComponent]
        if TabularModel.isTabular(file) {
            let model = try TabularModel(contentsOf: options.model)
            network = model.network
            standardization = model.standardizer.map { .init(mean: $0.mean, scale: $0.scale) }
            if let classes = model.encoding.classNames {
                metadata["classes"] = try JobCheckpoints.encode(classes)
            }
        } else if file.metadata["checkpoint.format"] != nil {
            network = try TrainingCheckpoint.read(options.model).makeNetwork(path: options.model)
        } else {
            network = try MLP(safeTensors: file, path: options.model)
        }
        for (key, value) in network.notes { metadata["note." + key] = value }
        let first = try options.start.map(network.layerIndex(named:)) ?? 0
        let last = try options.end.map(network.layerIndex(named:)) ?? network.layers.count - 1
        guard first <= last else {
            throw MLPError("--start \(options.start ?? "") comes after --end \(options.end ?? ""): a part of a network "
                           + "runs forwards")
        }
        if first > 0 { standardization = nil }   // it applies to the first layer's inputs only
        let model = ONNXExport.model(of: network, layers: first ..< last + 1, standardization: standardization,
                                     metadata: metadata)
        let bytes = try ONNXExport.bytes(of: model)
        try AtomicFile.write(bytes, to: options.onnx)
        let words = [String(network.layers[first].inputSize)] + network.layers[first...last].map { layer in
            "\(layer.outputSize) \(layer.activation.name)" + (layer.name.map { " \"\($0)\"" } ?? "")
        }
        return Summary(layers: words.joined(separator: " → "), standardizes: standardization != nil,
                       bytes: bytes.count)
    }
}
