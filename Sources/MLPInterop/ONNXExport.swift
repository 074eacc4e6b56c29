// A network, or a part of it, as an ONNX graph: Gemm and activation nodes over the weights as stored.
import Foundation
import MLPKit
import SwiftProtobuf

/// Writes an `MLP` as an ONNX model (opset 13) that ONNX Runtime, PyTorch's importer or any ONNX tool can run.
///
/// The graph takes `input` [batch, inputs] (the batch dimension is dynamic) and gives `output` [batch, outputs].
/// Each layer is a `Gemm` (y = x·Wᵀ + b: W as stored, [out, in], with `transB = 1`) followed by its activation:
/// `Sigmoid`, `Relu`, `LeakyRelu` (with its slope as `alpha`), `Tanh`, `Softmax` over the last axis, or nothing
/// for the identity. A standardization, when given, runs first as `Sub` and `Div`, as `Standardizer` applies it.
/// Dropout is a training-time layer and is left out, as inference runs without it.
package enum ONNXExport {
    /// The operator set the graph is written against (Softmax's semantics over one axis date from 13).
    package static let opset: Int64 = 13
    /// The IR version opset 13 needs.
    package static let irVersion: Int64 = 7

    /// The z-scores applied to the features before the first layer: (x − mean) / scale.
    package struct Standardization {
        package let mean: [Float]
        package let scale: [Float]

        package init(mean: [Float], scale: [Float]) {
            self.mean = mean
            self.scale = scale
        }
    }

    /// The model of layers `layers` of `network` (after `standardization`, if any), with `metadata` as the
    /// model's metadata properties (in key order).
    package static func model(of network: MLP, layers: Range<Int>, standardization: Standardization? = nil,
                              metadata: [String: String] = [:]) -> Onnx_ModelProto {
        let parameters = network.parameters
        var graph = Onnx_GraphProto()
        graph.name = "mlp-train"
        let first = network.layers[layers.lowerBound], last = network.layers[layers.upperBound - 1]
        graph.input = [tensorInfo("input", columns: first.inputSize)]
        graph.output = [tensorInfo("output", columns: last.outputSize)]

        var current = "input"
        if let standardization {
            graph.initializer.append(tensor("standardize.mean", shape: [first.inputSize], standardization.mean))
            graph.initializer.append(tensor("standardize.scale", shape: [first.inputSize], standardization.scale))
            graph.node.append(node("Sub", [current, "standardize.mean"], "standardize.centred"))
            graph.node.append(node("Div", ["standardize.centred", "standardize.scale"], "standardize.output"))
            current = "standardize.output"
        }
        for l in layers {
            let layer = network.layers[l], isLast = l == layers.upperBound - 1, prefix = "layers.\(l)"
            let weights = Array(parameters[layer.weightOffset ..< layer.biasOffset])
            let biases = Array(parameters[layer.biasOffset ..< layer.biasOffset + layer.outputSize])
            graph.initializer.append(tensor(prefix + ".weight", shape: [layer.outputSize, layer.inputSize], weights))
            graph.initializer.append(tensor(prefix + ".bias", shape: [layer.outputSize], biases))
            let activated = isLast ? "output" : prefix + ".output"
            let linear = layer.activation == .identity ? activated : prefix + ".linear"
            var gemm = node("Gemm", [current, prefix + ".weight", prefix + ".bias"], linear)
            gemm.attribute = [attribute("transB", int: 1)]
            graph.node.append(gemm)
            if let activation = activationNode(layer.activation, input: linear, output: activated) {
                graph.node.append(activation)
            }
            current = activated
        }

        var model = Onnx_ModelProto()
        model.irVersion = irVersion
        var opsetImport = Onnx_OperatorSetIdProto()
        opsetImport.domain = ""
        opsetImport.version = opset
        model.opsetImport = [opsetImport]
        model.producerName = "mlp-train"
        model.graph = graph
        model.metadataProps = metadata.keys.sorted().map { key in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = metadata[key]!
            return entry
        }
        return model
    }

    /// The model's bytes, as a `.onnx` file holds them.
    package static func bytes(of model: Onnx_ModelProto) throws -> Data {
        try model.serializedData()
    }

    /// The node that applies `activation`, or nil for the identity.
    static func activationNode(_ activation: Activation, input: String, output: String) -> Onnx_NodeProto? {
        switch activation {
        case .identity: return nil
        case .logistic: return node("Sigmoid", [input], output)
        case .relu: return node("Relu", [input], output)
        case .tanh: return node("Tanh", [input], output)
        case .leakyReLU(let slope):
            var leaky = node("LeakyRelu", [input], output)
            leaky.attribute = [attribute("alpha", float: slope)]
            return leaky
        case .softmax:
            var softmax = node("Softmax", [input], output)
            softmax.attribute = [attribute("axis", int: -1)]
            return softmax
        }
    }

    static func node(_ type: String, _ inputs: [String], _ output: String) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = type
        node.input = inputs
        node.output = [output]
        node.name = output
        return node
    }

    static func attribute(_ name: String, int: Int64) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .int
        attribute.i = int
        return attribute
    }

    static func attribute(_ name: String, float: Float) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .float
        attribute.f = float
        return attribute
    }

    /// A Float tensor as an initializer: its values as little-endian bytes (`raw_data`).
    static func tensor(_ name: String, shape: [Int], _ values: [Float]) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = shape.map(Int64.init)
        tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.rawData = values.withUnsafeBytes { Data($0) }   // little-endian, as every supported CPU is
        return tensor
    }

    /// A graph input or output: Float, [batch, columns] with a dynamic batch.
    static func tensorInfo(_ name: String, columns: Int) -> Onnx_ValueInfoProto {
        var batch = Onnx_TensorShapeProto.Dimension()
        batch.dimParam = "batch"
        var width = Onnx_TensorShapeProto.Dimension()
        width.dimValue = Int64(columns)
        var shape = Onnx_TensorShapeProto()
        shape.dim = [batch, width]
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensorType.shape = shape
        var type = Onnx_TypeProto()
        type.tensorType = tensorType
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type = type
        return info
    }
}
