// ONNX export: the graph's nodes, attributes and weights' bytes, parts of a network, and ONNX Runtime running the
// exported models against our own outputs (with onnx.checker's full check).
import Foundation
import Testing
import MLPData
@testable import MLPInterop
@testable import MLPJobs
import MLPKit
import TestSupport

@Suite struct ONNXExportTests {
    /// Every activation, a named middle layer and a dropout (which inference leaves out).
    func network() -> MLP {
        let net = MLP(inputSize: 6, loss: .softmaxCrossEntropy, seed: 4)
        net.addLayer(7, activation: .logistic, name: "first")
        net.addDropout(0.5)
        net.addLayer(6, activation: .leakyReLU(slope: 0.2))
        net.addLayer(5, activation: .relu)
        net.addLayer(4, activation: .tanh, name: "middle")
        net.addLayer(4, activation: .identity)
        net.addLayer(3, activation: .softmax)
        return net
    }

    /// A float's bytes, little-endian, as raw_data holds them.
    func bytes(_ values: ArraySlice<Float>) -> Data { Array(values).withUnsafeBytes { Data($0) } }

    @Test func theGraphIsGemmsAndActivationsOverTheWeightsAsStored() throws {
        let net = network(), parameters = net.parameters
        let standardization = ONNXExport.Standardization(mean: randomValues(6, seed: 1), scale: [1, 2, 3, 4, 5, 6])
        let model = ONNXExport.model(of: net, layers: 0..<6, standardization: standardization,
                                     metadata: ["classes": "[\"a\",\"b\",\"c\"]"])
        let read = try Onnx_ModelProto(serializedBytes: try ONNXExport.bytes(of: model))
        #expect(read == model, "the bytes parse back to the same model")
        #expect(read.irVersion == 7 && read.opsetImport.map(\.version) == [13] && read.producerName == "mlp-train")
        #expect(read.metadataProps.map(\.key) == ["classes"])
        let graph = read.graph
        #expect(graph.node.map(\.opType) == ["Sub", "Div", "Gemm", "Sigmoid", "Gemm", "LeakyRelu", "Gemm", "Relu",
                                            "Gemm", "Tanh", "Gemm", "Gemm", "Softmax"])
        #expect(graph.node.first?.input == ["input", "standardize.mean"])
        #expect(graph.node.last?.output == ["output"])
        // Each node reads what the one before wrote.
        for (before, node) in zip(graph.node.dropLast(), graph.node.dropFirst()) {
            #expect(node.input.first == before.output.first, "\(node.opType) after \(before.opType)")
        }
        for gemm in graph.node where gemm.opType == "Gemm" {
            #expect(gemm.attribute.map(\.name) == ["transB"] && gemm.attribute[0].i == 1)
        }
        let leaky = try #require(graph.node.first { $0.opType == "LeakyRelu" })
        #expect(leaky.attribute.first?.name == "alpha" && leaky.attribute.first?.f == 0.2)
        #expect(graph.node.last?.attribute.first?.name == "axis" && graph.node.last?.attribute.first?.i == -1)
        // Inputs and outputs: Float, [batch, n] with a dynamic batch.
        for (info, name, width) in [(graph.input[0], "input", 6), (graph.output[0], "output", 3)] {
            let dims = info.type.tensorType.shape.dim
            #expect(info.name == name && info.type.tensorType.elemType == 1)
            #expect(dims.count == 2 && dims[0].dimParam == "batch" && dims[1].dimValue == Int64(width))
        }
        // The weights' bytes are the model file's, [out, in].
        for (l, layer) in net.layers.enumerated() {
            let weight = try #require(graph.initializer.first { $0.name == "layers.\(l).weight" })
            let bias = try #require(graph.initializer.first { $0.name == "layers.\(l).bias" })
            #expect(weight.dims == [Int64(layer.outputSize), Int64(layer.inputSize)] && weight.dataType == 1)
            #expect(weight.rawData == bytes(parameters[layer.weightOffset ..< layer.biasOffset]))
            #expect(bias.rawData == bytes(parameters[layer.biasOffset ..< layer.biasOffset + layer.outputSize]))
        }
        let scale = try #require(graph.initializer.first { $0.name == "standardize.scale" })
        #expect(scale.rawData == bytes([1, 2, 3, 4, 5, 6][...]))
    }

    @Test func aPartRunsFromOneNamedLayerToAnotherWithoutTheStandardization() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/net.safetensors"
        try network().write(to: path)
        let encoder = try ExportJob.run(.init(model: path, onnx: folder.path + "/a.onnx", end: "middle"))
        #expect(encoder.layers == "6 → 7 logistic \"first\" → 6 leaky_relu:0.2 → 5 relu → 4 tanh \"middle\"")
        let read = try Onnx_ModelProto(serializedBytes: Data(contentsOf: URL(fileURLWithPath: folder.path + "/a.onnx")))
        #expect(read.graph.output[0].type.tensorType.shape.dim[1].dimValue == 4)
        #expect(read.graph.node.last?.opType == "Tanh" && read.graph.node.last?.output == ["output"])
        let tail = try ExportJob.run(.init(model: path, onnx: folder.path + "/b.onnx", start: "middle"))
        #expect(tail.layers.hasPrefix("5 → 4 tanh \"middle\""))
        #expect { try ExportJob.run(.init(model: path, onnx: folder.path + "/c.onnx", start: "middle", end: "first")) }
            throws: { "\($0)".contains("comes after") }
        #expect { try ExportJob.run(.init(model: path, onnx: folder.path + "/c.onnx", end: "latent")) }
            throws: { "\($0)".contains("no layer named \"latent\"") && "\($0)".contains("\"middle\"") }
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/c.onnx"))
    }

    /// Writes `values` as raw float32.
    func writeFloats(_ values: [Float], to path: String) throws {
        try values.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: path)) }
    }

    @Test(requires(pythonTools != nil, "needs onnx and onnxruntime ($MLP_PYTHON or .build-venv)"))
    func onnxRuntimeGivesOurOutputsForEveryKindOfModel() throws {
        let python = try #require(pythonTools, "no Python with onnx, onnxruntime and numpy")
        let folder = try TemporaryFolder()
        // The test digits when they are here (all 10,000), else 2,000 rows in [0, 1].
        let digits = try? sharedMNIST.get().test
        let rows = digits?.count ?? 2000
        let x = digits?.images ?? randomValues(rows * 784, seed: 5).map { abs($0) / (1 + abs($0)) }
        try writeFloats(x, to: folder.path + "/x.f32")

        let a = MLP(inputSize: 784, loss: .softmaxCrossEntropy, seed: 1)
        a.addLayer(20, activation: .leakyReLU)
        a.addLayer(10, activation: .softmax)
        let b = MLP(inputSize: 784, loss: .softmaxCrossEntropy, seed: 2)
        b.addLayer(40, activation: .relu)
        b.addLayer(20, activation: .leakyReLU)
        b.addLayer(10, activation: .softmax)
        let autoencoder = AutoencoderDemo.makeNetwork(seed: 3)
        let standardizer = Standardizer(fitting: x, width: 784)
        let small = MLP(inputSize: 784, loss: .softmaxCrossEntropy, seed: 6)
        small.addLayer(32, activation: .tanh)
        small.addLayer(10, activation: .softmax)
        let tabular = try TabularModel(network: small, encoding: .classes((0...9).map(String.init)),
                                       featureNames: (0..<784).map { "p\($0)" }, targetNames: ["class"],
                                       standardizer: standardizer, imageShape: [28, 28])
        try a.write(to: folder.path + "/a.safetensors")
        try b.write(to: folder.path + "/b.safetensors")
        try autoencoder.write(to: folder.path + "/autoencoder.safetensors")
        try tabular.write(to: folder.path + "/train.safetensors")
        let input = Matrix(rows: rows, columns: 784, values: x)
        // Classifiers must also pick the same class for every row.
        let cases: [(name: String, file: String, end: String?, expected: Matrix, classes: Bool)] = [
            ("classify A", "a", nil, try a.forward(input), true),
            ("classify B", "b", nil, try b.forward(input), true),
            ("autoencoder", "autoencoder", nil, try autoencoder.forward(input), false),
            ("encoder", "autoencoder", "latent", try autoencoder.forward(input, end: "latent"), false),
            ("train, standardized", "train", nil,
             try tabular.network.forward(Matrix(rows: rows, columns: 784, values: standardizer.apply(x))), true),
        ]
        for (name, file, end, expected, classes) in cases {
            let onnx = folder.path + "/\(name).onnx"
            _ = try ExportJob.run(.init(model: folder.path + "/\(file).safetensors", onnx: onnx, end: end))
            try writeFloats(expected.values, to: folder.path + "/y.f32")
            let result = try runPython(python, [checkoutRoot + "/scripts/check-onnx.py", onnx, folder.path + "/x.f32",
                                                folder.path + "/y.f32", String(rows)] + (classes ? ["classes"] : []))
            #expect(result.status == 0, "\(name): \(result.err.suffix(2000))")
            let report = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any]
            print("ONNX Runtime against ours, \(name), \(rows) rows: max |difference| "
                  + "\(report?["max_abs_difference"] ?? "?"), same class \(report?["same_class"] ?? "?")")
            #expect((report?["max_abs_difference"] as? Double ?? 1) <= 5e-5, "\(name)")
            if classes { #expect(report?["same_class"] as? Int == rows, "\(name)") }
            if name.hasPrefix("train") {
                let metadata = report?["metadata"] as? [String: String]
                #expect(metadata?["classes"] == "[\"0\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]")
            }
        }
    }
}
