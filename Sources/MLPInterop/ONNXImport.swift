// An ONNX graph of dense layers read back as weights, biases and activations: Gemm, or MatMul and Add, each
// followed by at most one activation.
import Foundation
import MLPKit
import SwiftProtobuf

/// Reads ONNX models whose graph is a chain of dense layers, as `ONNXExport` writes them and as
/// `torch.onnx.export` writes an `nn.Sequential` of `Linear` layers and activations:
/// - `Gemm` (with `transB` 0 or 1, `alpha` and `beta` 1), or `MatMul` by a weight followed by `Add` of a bias;
/// - then at most one of `Relu`, `Sigmoid`, `Tanh`, `LeakyRelu` (its `alpha` as the slope), `Softmax` over the last
///   axis (last layer only) or `Identity`;
/// - `Flatten` before the first layer. Any other node (a convolution, a normalization, a standardization's `Sub`)
///   is refused, naming it.
package enum ONNXImport {
    /// One dense layer: W [out, in] row-major, as MLPKit stores it, b [out], and its activation.
    package struct DenseLayer: Equatable {
        package var weights: [Float]
        package var biases: [Float]
        package let inputs: Int
        package let outputs: Int
        package var activation: Activation

        package init(weights: [Float], biases: [Float], inputs: Int, outputs: Int, activation: Activation) {
            self.weights = weights
            self.biases = biases
            self.inputs = inputs
            self.outputs = outputs
            self.activation = activation
        }
    }

    /// The dense layers of the model in `bytes`; `path` names the file in errors.
    package static func layers(fromBytes bytes: Data, path: String) throws -> [DenseLayer] {
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: bytes)
        } catch {
            throw MLPError("\(path): not an ONNX model (its protocol buffer does not parse: \(error))")
        }
        return try layers(of: model.graph, path: path)
    }

    /// The dense layers of `graph`, in order.
    static func layers(of graph: Onnx_GraphProto, path: String) throws -> [DenseLayer] {
        var constants: [String: (dims: [Int], values: [Float])] = [:]
        for tensor in graph.initializer { constants[tensor.name] = try floats(tensor, path: path) }
        guard let input = graph.input.first(where: { constants[$0.name] == nil }) else {
            throw MLPError("\(path): the graph has no input that is not a weight")
        }
        var current = input.name
        var layers: [DenseLayer] = []
        var activated = true        // the last layer has its activation (or none was added yet)
        var pendingMatMul = false   // a MatMul waits for its Add
        for node in graph.node {
            func fail(_ problem: String) -> MLPError {
                MLPError("\(path): node \"\(node.name)\" (\(node.opType)): \(problem)")
            }
            func constant(_ index: Int) throws -> (dims: [Int], values: [Float]) {
                guard index < node.input.count, let value = constants[node.input[index]] else {
                    throw fail("input \(index + 1) must be a weight stored in the file")
                }
                return value
            }
            func append(_ layer: DenseLayer) throws {
                if let last = layers.last, last.outputs != layer.inputs {
                    throw fail("takes \(layer.inputs) inputs, but the layer before gives \(last.outputs)")
                }
                if layers.last?.activation == .softmax { throw fail("softmax is allowed on the last layer only") }
                layers.append(layer)
                activated = false
            }
            guard node.input.first == current || (node.opType == "Add" && node.input.contains(current)) else {
                throw fail("it does not read the output of the node before (\(current)): only a chain of layers "
                           + "can be imported")
            }
            if pendingMatMul && node.opType != "Add" { throw fail("a MatMul must be followed by the Add of a bias") }
            switch node.opType {
            case "Gemm":
                let attributes = Dictionary(node.attribute.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
                guard (attributes["transA"]?.i ?? 0) == 0, (attributes["alpha"]?.f ?? 1) == 1,
                      (attributes["beta"]?.f ?? 1) == 1 else {
                    throw fail("only transA = 0, alpha = 1 and beta = 1 are dense layers")
                }
                let weight = try constant(1)
                guard weight.dims.count == 2 else { throw fail("the weight must be a matrix, got \(weight.dims)") }
                let transposed = (attributes["transB"]?.i ?? 0) == 1
                let (outputs, inputs) = transposed ? (weight.dims[0], weight.dims[1]) : (weight.dims[1], weight.dims[0])
                var layer = DenseLayer(weights: transposed ? weight.values : transpose(weight.values, rows: inputs,
                                                                                       columns: outputs),
                                       biases: [Float](repeating: 0, count: outputs), inputs: inputs,
                                       outputs: outputs, activation: .identity)
                if node.input.count > 2 {
                    let bias = try constant(2)
                    guard bias.values.count == outputs else { throw fail("the bias has \(bias.values.count) values "
                                                                         + "for \(outputs) outputs") }
                    layer.biases = bias.values
                }
                try append(layer)
            case "MatMul":
                let weight = try constant(1)
                guard weight.dims.count == 2 else { throw fail("the weight must be a matrix, got \(weight.dims)") }
                try append(DenseLayer(weights: transpose(weight.values, rows: weight.dims[0], columns: weight.dims[1]),
                                      biases: [Float](repeating: 0, count: weight.dims[1]), inputs: weight.dims[0],
                                      outputs: weight.dims[1], activation: .identity))
                pendingMatMul = true
            case "Add":
                guard pendingMatMul, node.input.count == 2 else { throw fail("an Add must add a bias to a MatMul") }
                let other = node.input[0] == current ? 1 : 0
                guard let bias = constants[node.input[other]], bias.values.count == layers[layers.count - 1].outputs
                else { throw fail("the bias must be a stored vector of \(layers[layers.count - 1].outputs) values") }
                layers[layers.count - 1].biases = bias.values
                pendingMatMul = false
            case "Relu", "Sigmoid", "Tanh", "LeakyRelu", "Softmax", "Identity":
                guard !layers.isEmpty, !activated else { throw fail("an activation must follow a dense layer") }
                layers[layers.count - 1].activation = try activation(of: node, fail: fail)
                activated = true
            case "Flatten" where layers.isEmpty:
                break
            default:
                throw fail("cannot be expressed as a dense layer or its activation (Gemm, MatMul + Add, Relu, "
                           + "Sigmoid, Tanh, LeakyRelu, Softmax)")
            }
            current = node.output.first ?? ""

        }
        if pendingMatMul { throw MLPError("\(path): the graph ends in a MatMul without its bias") }
        guard !layers.isEmpty else { throw MLPError("\(path): the graph has no dense layer (Gemm or MatMul)") }
        guard graph.output.first?.name == current else {
            throw MLPError("\(path): the graph's output is \(graph.output.first?.name ?? "none"), not the last "
                           + "layer's (\(current))")
        }
        return layers
    }

    /// The activation a node applies.
    static func activation(of node: Onnx_NodeProto, fail: (String) -> MLPError) throws -> Activation {
        let attributes = Dictionary(node.attribute.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        switch node.opType {
        case "Relu": return .relu
        case "Sigmoid": return .logistic
        case "Tanh": return .tanh
        case "Identity": return .identity
        case "LeakyRelu": return .leakyReLU(slope: attributes["alpha"]?.f ?? 0.01)
        default:
            let axis = attributes["axis"]?.i ?? -1
            guard axis == -1 || axis == 1 else { throw fail("softmax over axis \(axis); only the last axis is a layer") }
            return .softmax
        }
    }

    /// A Float tensor's shape and values, from `raw_data` (little-endian) or `float_data`.
    static func floats(_ tensor: Onnx_TensorProto, path: String) throws -> (dims: [Int], values: [Float]) {
        guard tensor.dataType == Int32(Onnx_TensorProto.DataType.float.rawValue) else {
            throw MLPError("\(path): tensor \"\(tensor.name)\" is of ONNX type \(tensor.dataType), not float (1)")
        }
        let dims = tensor.dims.map { Int($0) }, count = dims.reduce(1, *)
        var values = tensor.floatData
        if tensor.hasRawData {
            guard tensor.rawData.count == count * 4 else {
                throw MLPError("\(path): tensor \"\(tensor.name)\" has \(tensor.rawData.count) bytes for \(dims)")
            }
            values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { _ = tensor.rawData.copyBytes(to: $0) }
        }
        guard values.count == count else {
            throw MLPError("\(path): tensor \"\(tensor.name)\" has \(values.count) values for \(dims)")
        }
        return (dims, values)
    }

    /// A rows × columns matrix's transpose (columns × rows), row-major.
    static func transpose(_ values: [Float], rows: Int, columns: Int) -> [Float] {
        var out = [Float](repeating: 0, count: values.count)
        for r in 0..<rows {
            for c in 0..<columns { out[c * rows + r] = values[r * columns + c] }
        }
        return out
    }
}
