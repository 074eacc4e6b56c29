// Saving and loading networks as safetensors files that other languages can read.

extension MLP {
    /// The network as safetensors: tensors `layers.N.weight` [out, in] and `layers.N.bias` [out]; the metadata
    /// holds the architecture (input size, loss, each layer's activation and name, its initializer unless it is
    /// `.classic`, and the dropout rate of its inputs when it has one) so `init(contentsOf:)` can rebuild it.
    /// Nothing run-dependent is stored: equal weights given the same way give byte-identical files.
    public var safeTensors: SafeTensors {
        var tensors: [SafeTensors.Tensor] = []
        var metadata = ["format": "mlp-train", "version": "1", "input_size": String(inputSize),
                        "loss": loss.rawValue, "layers": String(layers.count)]
        synchronize()
        let p = parameterBuffer.pointer
        for (index, layer) in layers.enumerated() {
            let weights = Array(UnsafeBufferPointer(start: p + layer.weightOffset, count: layer.outputSize * layer.inputSize))
            let biases = Array(UnsafeBufferPointer(start: p + layer.biasOffset, count: layer.outputSize))
            tensors.append(.init(name: "layers.\(index).weight", shape: [layer.outputSize, layer.inputSize], values: weights))
            tensors.append(.init(name: "layers.\(index).bias", shape: [layer.outputSize], values: biases))
            metadata["layers.\(index).activation"] = layer.activation.name
            if let name = layer.name { metadata["layers.\(index).name"] = name }
            if initializers[index] != .classic { metadata["layers.\(index).init"] = initializers[index].description }
            if layer.dropout > 0 { metadata["layers.\(index).dropout"] = "\(layer.dropout)" }
        }
        for (key, value) in notes { metadata["note." + key] = value }
        return SafeTensors(tensors: tensors, metadata: metadata)
    }

    /// The layers in words: "784 → 20 leakyReLU → 10 softmax, softmaxCrossEntropy loss" (names in quotes,
    /// dropouts as "dropout 0.5" where they drop).
    public var architecture: String {
        let layerWords = layers.flatMap { layer in
            (layer.dropout > 0 ? ["dropout \(layer.dropout)"] : [])
                + ["\(layer.outputSize) \(layer.activation.name)" + (layer.name.map { " \"\($0)\"" } ?? "")]
        }
        return ([String(inputSize)] + layerWords).joined(separator: " → ") + ", \(loss.rawValue) loss"
    }

    /// Writes the network to `path` (safetensors), replacing any file there atomically.
    public func write(to path: String) throws {
        try safeTensors.write(to: path)
    }

    /// Loads a network written by `write(to:)`; throws an error naming the file and the problem.
    public convenience init(contentsOf path: String) throws {
        try self.init(safeTensors: SafeTensors.read(path), path: path)
    }

    /// Rebuilds a network from its safetensors form; `path` only names the source in errors.
    public convenience init(safeTensors file: SafeTensors, path: String = "model") throws {
        func fail(_ problem: String) -> MLPError { MLPError("\(path): not an mlp-train model: \(problem)") }
        let metadata = file.metadata
        guard let inputText = metadata["input_size"], let inputSize = Int(inputText), inputSize > 0 else {
            throw fail("metadata \"input_size\" is missing or not a positive integer")
        }
        guard let lossName = metadata["loss"], let loss = Loss(rawValue: lossName) else {
            throw fail("metadata \"loss\" is missing or unknown (\(metadata["loss"] ?? "absent"))")
        }
        guard let countText = metadata["layers"], let count = Int(countText), count > 0 else {
            throw fail("metadata \"layers\" is missing or not a positive integer")
        }
        self.init(inputSize: inputSize, loss: loss)
        var parameters: [Float] = []
        for index in 0..<count {
            guard let activationName = metadata["layers.\(index).activation"],
                  let activation = Activation(name: activationName) else {
                throw fail("layer \(index): activation is missing or unknown (\(metadata["layers.\(index).activation"] ?? "absent"))")
            }
            guard let weight = file["layers.\(index).weight"], let bias = file["layers.\(index).bias"] else {
                throw fail("tensors layers.\(index).weight and layers.\(index).bias are required")
            }
            let expectedInput = layers.last?.outputSize ?? inputSize
            guard weight.shape.count == 2, weight.shape[1] == expectedInput, weight.shape[0] > 0,
                  bias.shape == [weight.shape[0]] else {
                throw fail("layer \(index): weight shape \(weight.shape) and bias shape \(bias.shape) do not fit "
                           + "an input of \(expectedInput) (expected [out, \(expectedInput)] and [out])")
            }
            var start = Initializer.classic
            if let text = metadata["layers.\(index).init"] {
                guard let recorded = Initializer(description: text) else {
                    throw fail("layer \(index): initializer \"\(text)\" is unknown")
                }
                start = recorded
            }
            if let text = metadata["layers.\(index).dropout"] {
                guard let rate = Float(text), rate.isFinite, rate >= 0, rate < 1 else {
                    throw fail("layer \(index): dropout \"\(text)\" is not a rate in [0, 1)")
                }
                addDropout(rate)
            }
            addLayer(weight.shape[0], activation: activation, name: metadata["layers.\(index).name"], initializer: start)
            parameters += weight.values
            parameters += bias.values
        }
        self.parameters = parameters
        for (key, value) in metadata where key.hasPrefix("note.") { notes[String(key.dropFirst(5))] = value }
    }
}
