// Networks saved as safetensors and loaded back: same architecture, same numbers, same bytes.
import Foundation
import Testing
@testable import MLPKit
import TestSupport

@Suite struct ModelFileTests {
    @Test func roundTripRebuildsTheNetwork() throws {
        let temporary = try TemporaryFolder()
        let dir = temporary.path
        let net = autoencoderNetwork(seed: 3)
        let path = dir + "/model.safetensors"
        try net.write(to: path)
        let loaded = try MLP(contentsOf: path)
        #expect(loaded.layers == net.layers)
        #expect(loaded.loss == net.loss && loaded.inputSize == net.inputSize)
        #expect(loaded.parameters == net.parameters)
        let x = randomValues(784, seed: 1).map { 1 / (1 + expf(-$0)) }
        #expect(try loaded.forward(x, end: "latent") == net.forward(x, end: "latent"))
        // Equal weights give byte-identical files.
        try loaded.write(to: dir + "/again.safetensors")
        #expect(FileManager.default.contentsEqual(atPath: path, andPath: dir + "/again.safetensors"))
    }

    @Test func fileLayoutIsPlainSafetensors() throws {
        let net = MLP(inputSize: 3, loss: .logistic, seed: 1)
        net.addLayer(2, activation: .leakyReLU(slope: 0.2), name: "hidden")
        net.addLayer(1, activation: .logistic)
        let bytes = try net.safeTensors.encoded()
        let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect((8 + headerLength) % 8 == 0)
        #expect(bytes.count == 8 + headerLength + 4 * net.parameterCount)
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8 ..< 8 + headerLength])) as! [String: Any]
        let weight = header["layers.0.weight"] as! [String: Any]
        #expect(weight["dtype"] as? String == "F32")
        #expect(weight["shape"] as? [Int] == [2, 3])
        let metadata = header["__metadata__"] as! [String: String]
        #expect(metadata["layers.0.activation"] == "leaky_relu:0.2")
        #expect(metadata["layers.0.name"] == "hidden")
        #expect(metadata["loss"] == "logistic")
        #expect(metadata.keys.allSatisfy { !$0.contains("time") && !$0.contains("thread") })
    }

    @Test func malformedModelsAreClearErrors() throws {
        let net = MLP(inputSize: 4, loss: .squared)
        net.addLayer(3, activation: .tanh)
        var file = net.safeTensors
        file.metadata["layers.0.activation"] = "swish"
        #expect(throws: MLPError("m.safetensors: not an mlp-train model: layer 0: activation is missing or unknown (swish)")) {
            try MLP(safeTensors: file, path: "m.safetensors")
        }
        file = net.safeTensors
        file.metadata["input_size"] = nil
        #expect(throws: MLPError.self) { try MLP(safeTensors: file, path: "m.safetensors") }
        file = net.safeTensors
        file.tensors[0] = .init(name: "layers.0.weight", shape: [3, 5], values: [Float](repeating: 0, count: 15))
        #expect(throws: MLPError.self) { try MLP(safeTensors: file, path: "m.safetensors") }
        #expect(throws: MLPError.self) { try MLP(contentsOf: "/nonexistent/model.safetensors") }
    }
}
