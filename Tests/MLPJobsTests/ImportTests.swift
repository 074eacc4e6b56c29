// Import: PyTorch's state dict and torch.onnx.export's graph give PyTorch's outputs; our own export comes back
// with the same weights; what a dense network cannot express is refused, naming it.
import Foundation
import Testing
@testable import MLPInterop
@testable import MLPJobs
import MLPKit
import TestSupport

@Suite struct ImportTests {
    @Test func anExportedModelComesBackWithTheSameWeightsBytes() throws {
        let folder = try TemporaryFolder()
        let net = ONNXExportTests().network()
        try net.write(to: folder.path + "/net.safetensors")
        _ = try ExportJob.run(.init(model: folder.path + "/net.safetensors", onnx: folder.path + "/net.onnx"))
        let back = try ImportJob.run(.init(file: folder.path + "/net.onnx", output: folder.path + "/back.safetensors"))
        #expect(back.parameters == net.parameters)
        #expect(back.layers.map(\.activation) == net.layers.map(\.activation))
        #expect(back.loss == .softmaxCrossEntropy)
        let read = try MLP(contentsOf: folder.path + "/back.safetensors")
        #expect(read.parameters == net.parameters)
        // train --init-from starts from the imported weights (the same widths), and refuses other widths.
        let rows = (0..<30).map { i in (0..<6).map { String(Float(i * 6 + $0).truncatingRemainder(dividingBy: 7)) }
            .joined(separator: ",") + ",c\(i % 3)" }
        let csv = try folder.write(Array(("x0,x1,x2,x3,x4,x5,class\n" + rows.joined(separator: "\n") + "\n").utf8),
                                   to: "data.csv")
        var options = TrainJob.Options(data: csv)
        options.layers = try LayerSpec(parsing: "7:logistic,6:leaky-relu:0.2,5:relu,4:tanh,4:identity,3:softmax")
        options.initFrom = folder.path + "/back.safetensors"
        #expect(try TrainJob.prepare(options).model.network.parameters == net.parameters)
        options.layers = try LayerSpec(parsing: "7:logistic,6:relu,3:softmax")
        #expect { try TrainJob.prepare(options) } throws: { "\($0)".contains("--init-from needs the same widths") }
        // --layers must agree with the graph's activations and widths.
        #expect { try ImportJob.run(.init(file: folder.path + "/net.onnx", layers: try LayerSpec(parsing:
            "7:logistic,6:leaky-relu:0.2,5:relu,4:relu,4:identity,3:softmax"), output: folder.path + "/x.safetensors")) }
            throws: { "\($0)".contains("entry 4 is relu, but") }
    }

    @Test func gemmWithWeightsInByOutAndMatMulPlusAddAreReadAsDenseLayers() throws {
        // The first layer's weights stored [in, out]: a Gemm with transB = 0, then a MatMul and an Add.
        let net = MLP(inputSize: 3, loss: .squared, seed: 2)
        net.addLayer(4, activation: .tanh)
        net.addLayer(2, activation: .identity)
        let w = Array(net.parameters[0..<12])
        let transposed = (0..<12).map { i in w[(i % 4) * 3 + i / 4] }   // [3, 4]: w[o][i] at [i][o]
        var model = ONNXExport.model(of: net, layers: 0..<2)
        let weight = try #require(model.graph.initializer.firstIndex { $0.name == "layers.0.weight" })
        model.graph.initializer[weight].dims = [3, 4]
        model.graph.initializer[weight].rawData = transposed.withUnsafeBytes { Data($0) }
        model.graph.node[0].attribute = [ONNXExport.attribute("transB", int: 0)]
        let gemm = try ONNXImport.layers(fromBytes: ONNXExport.bytes(of: model), path: "gemm.onnx")
        #expect(gemm[0].weights == w && gemm.map(\.activation) == [.tanh, .identity])
        // The same layer as MatMul by [in, out] and Add of the bias.
        var matMul = ONNXExport.node("MatMul", ["input", "layers.0.weight"], "layers.0.product")
        matMul.name = "mm"
        model.graph.node[0] = ONNXExport.node("Add", ["layers.0.product", "layers.0.bias"], "layers.0.linear")
        model.graph.node.insert(matMul, at: 0)
        let added = try ONNXImport.layers(fromBytes: ONNXExport.bytes(of: model), path: "matmul.onnx")
        #expect(added == gemm)
        #expect(added[0].biases == Array(net.parameters[12..<16]))
    }

    /// An ONNX file of one Gemm and then `op`.
    func graph(then op: String, name: String = "conv1") throws -> Data {
        var model = ONNXExport.model(of: {
            let net = MLP(inputSize: 3, loss: .squared)
            net.addLayer(2, activation: .identity)
            return net
        }(), layers: 0..<1)
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = name
        node.input = ["output"]
        node.output = ["next"]
        model.graph.node.append(node)
        model.graph.output[0].name = "next"
        return try ONNXExport.bytes(of: model)
    }

    @Test func whatADenseNetworkCannotExpressIsRefusedNamingIt() throws {
        let folder = try TemporaryFolder()
        try graph(then: "Conv").write(to: URL(fileURLWithPath: folder.path + "/conv.onnx"))
        #expect { try ImportJob.run(.init(file: folder.path + "/conv.onnx", output: folder.path + "/m.safetensors")) }
            throws: { "\($0)".contains("node \"conv1\" (Conv): cannot be expressed") }
        try graph(then: "BatchNormalization", name: "bn").write(to: URL(fileURLWithPath: folder.path + "/bn.onnx"))
        #expect { try ImportJob.run(.init(file: folder.path + "/bn.onnx", output: folder.path + "/m.safetensors")) }
            throws: { "\($0)".contains("node \"bn\" (BatchNormalization)") }
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: folder.path + "/junk.onnx"))
        #expect { try ImportJob.run(.init(file: folder.path + "/junk.onnx", output: folder.path + "/m.safetensors")) }
            throws: { "\($0)".contains("junk.onnx") }
        // State dicts: a normalization's statistics, a convolution's 4-D weight, a count or a width that differs.
        let spec = try LayerSpec(parsing: "2:relu,1:logistic")
        func stateDict(_ tensors: [SafeTensors.Tensor]) throws -> String {
            let path = folder.path + "/state.safetensors"
            try SafeTensors(tensors: tensors).write(to: path)
            return path
        }
        let linear0 = SafeTensors.Tensor(name: "0.weight", shape: [2, 3], values: randomValues(6, seed: 1))
        let linear2 = SafeTensors.Tensor(name: "2.weight", shape: [1, 2], values: randomValues(2, seed: 2))
        for (tensors, problem) in [
            ([linear0, linear2, .init(name: "1.running_mean", shape: [2], values: [0, 0])], "\"1.running_mean\" is not"),
            ([.init(name: "0.weight", shape: [2, 3, 1, 1], values: randomValues(6, seed: 1)), linear2], "shape [2, 3, 1, 1]"),
            ([linear0], "has 2 layers, but"),
            ([linear0, SafeTensors.Tensor(name: "2.weight", shape: [2, 2], values: randomValues(4, seed: 2))],
             "entry 2 has 1 units"),
        ] as [([SafeTensors.Tensor], String)] {
            let path = try stateDict(tensors)
            #expect { try ImportJob.run(.init(file: path, layers: spec, output: folder.path + "/m.safetensors")) }
                throws: { "\($0)".contains(problem) }
        }
        #expect { try ImportJob.run(.init(file: try stateDict([linear0, linear2]), output: folder.path + "/m.safetensors")) }
            throws: { ($0 as? MLPError)?.field == "layers" }
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/m.safetensors"))
    }

    @Test(requires(pythonWithTorch != nil, "needs PyTorch (python3-torch)"))
    func pyTorchsStateDictAndONNXGiveItsOutputs() throws {
        let python = try #require(pythonWithTorch, "no Python with torch")
        let folder = try TemporaryFolder()
        let made = try runPython(python, [checkoutRoot + "/scripts/torch-reference.py", folder.path])
        try #require(made.status == 0, "\(made.err)")
        let spec = try LayerSpec(parsing: "8:relu,8:tanh,8:logistic,8:relu,8:leaky-relu:0.2,3:softmax")
        func floats(_ name: String) throws -> [Float] {
            let data = try Data(contentsOf: URL(fileURLWithPath: folder.path + "/" + name))
            return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        let x = try floats("x.f32"), y = try floats("y.f32")
        let fromState = try ImportJob.run(.init(file: folder.path + "/state.safetensors", layers: spec,
                                                output: folder.path + "/state-model.safetensors"))
        let fromONNX = try ImportJob.run(.init(file: folder.path + "/model.onnx",
                                               output: folder.path + "/onnx-model.safetensors"))
        #expect(fromONNX.parameters == fromState.parameters, "both files hold the same weights")
        #expect(fromONNX.layers.map(\.activation) == fromState.layers.map(\.activation))
        for net in [fromState, try MLP(contentsOf: folder.path + "/onnx-model.safetensors")] {
            let out = try net.forward(Matrix(rows: 64, columns: 6, values: x))
            #expect(maxDifference(out.values, y) <= 1e-5, "max difference \(maxDifference(out.values, y))")
        }
    }
}
