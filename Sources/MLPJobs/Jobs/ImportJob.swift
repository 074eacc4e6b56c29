// `import`: a network trained elsewhere (a PyTorch state dict as safetensors, or an ONNX graph) as a model file.
import Foundation
import MLPInterop
import MLPKit

/// Turns a PyTorch `nn.Sequential` of `Linear` layers (its state dict saved as safetensors: `0.weight`,
/// `0.bias`, `2.weight`, …) or an ONNX graph of dense layers (`ONNXImport`) into a network and writes it as a
/// model file that `predict`, `evaluate` and `export` read.
///
/// A state dict holds no activations: `layers` names them (`64:relu,10:softmax`, one entry per `Linear`, in the
/// order of their keys' numbers). An ONNX graph carries them; `layers`, when given, must agree with it. What a
/// dense network cannot express (a convolution, a normalization) is refused, naming the tensor or node.
public enum ImportJob {
    /// What to import and where.
    public struct Options: Sendable {
        /// The file: `.safetensors` (a state dict) or `.onnx`.
        public var file: String
        /// The layers' widths and activations (required for a state dict).
        public var layers: LayerSpec?
        /// The loss the model file records (nil: from the last activation).
        public var loss: Loss?
        /// The model file to write.
        public var output: String

        public init(file: String, layers: LayerSpec? = nil, loss: Loss? = nil, output: String) {
            self.file = file
            self.layers = layers
            self.loss = loss
            self.output = output
        }
    }

    /// Reads the file, builds the network and writes it; returns the network.
    @discardableResult
    public static func run(_ options: Options) throws -> MLP {
        let dense: [ONNXImport.DenseLayer]
        if options.file.lowercased().hasSuffix(".onnx") {
            dense = try ONNXImport.layers(fromBytes: Data(WholeFile.read(options.file)), path: options.file)
        } else {
            guard let spec = options.layers else {
                throw MLPError(field: "layers", "is required for a state dict: it holds no activations (write e.g. "
                               + "128:relu,10:softmax, one entry per Linear layer)")
            }
            dense = try stateDictLayers(SafeTensors.read(options.file), spec: spec, path: options.file)
        }
        let spec = try options.layers.map { try check($0, against: dense, path: options.file) }
            ?? LayerSpec(dense.map { LayerSpec.Entry(units: $0.outputs, activation: $0.activation) })
        let last = spec.entries.last!.activation
        let loss = options.loss ?? (last == .softmax ? .softmaxCrossEntropy : last == .logistic ? .logistic : .squared)
        let network = spec.network(inputSize: dense[0].inputs, loss: loss, seed: 0)
        network.parameters = dense.flatMap { $0.weights + $0.biases }
        network.notes["imported_from"] = (options.file as NSString).lastPathComponent
        try network.write(to: options.output)
        return network
    }

    /// A state dict's `Linear` layers, in the order of their keys (`0`, `2`, `10`: numerically), with the spec's
    /// activations.
    static func stateDictLayers(_ file: SafeTensors, spec: LayerSpec, path: String) throws -> [ONNXImport.DenseLayer] {
        var prefixes: [String] = []
        for tensor in file.tensors {
            guard let dot = tensor.name.lastIndex(of: "."),
                  ["weight", "bias"].contains(tensor.name[tensor.name.index(after: dot)...]) else {
                throw MLPError("\(path): tensor \"\(tensor.name)\" is not a Linear layer's weight or bias (a "
                               + "normalization's statistics or another module cannot be imported)")
            }
            let prefix = String(tensor.name[..<dot])
            if tensor.name.hasSuffix(".weight") {
                guard tensor.shape.count == 2 else {
                    throw MLPError("\(path): \"\(tensor.name)\" has shape \(tensor.shape): a Linear weight is "
                                   + "[out, in] (a convolution's or a normalization's cannot be imported)")
                }
                prefixes.append(prefix)
            }
        }
        prefixes.sort { a, b in
            let x = a.split(separator: ".").map { Int($0) ?? Int.max }, y = b.split(separator: ".").map { Int($0) ?? Int.max }
            return x.lexicographicallyPrecedes(y) || (x == y && a < b)
        }
        guard prefixes.count == spec.entries.count else {
            throw MLPError(field: "layers", "has \(spec.entries.count) layers, but \(path) holds \(prefixes.count) "
                           + "Linear weights (\(prefixes.map { $0 + ".weight" }.joined(separator: ", ")))")
        }
        return try zip(prefixes, spec.entries).map { prefix, entry in
            let weight = file[prefix + ".weight"]!
            let (outputs, inputs) = (weight.shape[0], weight.shape[1])
            var biases = [Float](repeating: 0, count: outputs)
            if let bias = file[prefix + ".bias"] {
                guard bias.shape == [outputs] else {
                    throw MLPError("\(path): \"\(prefix).bias\" has shape \(bias.shape), expected [\(outputs)]")
                }
                biases = bias.values
            }
            return ONNXImport.DenseLayer(weights: weight.values, biases: biases, inputs: inputs, outputs: outputs,
                                         activation: entry.activation)
        }
    }

    /// The spec, checked against the file's layers: the same count, widths and (for ONNX) activations.
    static func check(_ spec: LayerSpec, against dense: [ONNXImport.DenseLayer], path: String) throws -> LayerSpec {
        guard spec.entries.count == dense.count else {
            throw MLPError(field: "layers", "has \(spec.entries.count) layers, but \(path) holds \(dense.count)")
        }
        for (index, (entry, layer)) in zip(spec.entries, dense).enumerated() {
            guard entry.units == layer.outputs else {
                throw MLPError(field: "layers", "entry \(index + 1) has \(entry.units) units, but layer \(index + 1) "
                               + "of \(path) has \(layer.outputs) outputs")
            }
            guard entry.activation == layer.activation || !path.lowercased().hasSuffix(".onnx") else {
                throw MLPError(field: "layers", "entry \(index + 1) is \(entry.activation.name), but \(path) applies "
                               + "\(layer.activation.name) there")
            }
        }
        if let last = spec.entries.dropLast().firstIndex(where: { $0.activation == .softmax }) {
            throw MLPError(field: "layers", "entry \(last + 1): softmax is allowed on the last layer only")
        }
        return spec
    }
}
