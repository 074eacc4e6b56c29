// The decoder half of an autoencoder, checked to fit `traverse`: latent points in, 28 × 28 images out.
import MLPKit
import Foundation

extension TraverseDemo {
    /// The decoder half of an autoencoder: the layers after its 2-D layer named "latent". Creating one checks
    /// the network's shape and says what is wrong, naming the model file, when it does not fit.
    public struct Decoder {
        /// The whole autoencoder (the encoder half places the test digits in the latent square).
        public let network: MLP
        /// The model file (or a description), as errors name it.
        public let source: String
        /// Index of the first decoder layer: the layer right after "latent", whatever its name.
        public let firstLayer: Int

        /// Index of the 2-D layer named "latent".
        public var latentLayer: Int { firstLayer - 1 }

        /// Checks that `network` has a 2-D layer named "latent" followed by at least one more layer, and that
        /// it maps 28 × 28 images (784 values) to themselves. `source` names the model in the errors.
        public init(network: MLP, source: String = "model") throws {
            guard let latent = network.layers.firstIndex(where: { $0.name == "latent" }) else {
                let names = network.layers.compactMap(\.name)
                let known = names.isEmpty ? "it has no named layers"
                                          : "its named layers are " + names.map { "\"\($0)\"" }.joined(separator: ", ")
                throw MLPError("\(source): no layer named \"latent\" (\(known)); traverse needs an autoencoder "
                               + "whose 2-D bottleneck layer is named \"latent\", like the one `mlp-train "
                               + "autoencoder` writes")
            }
            let width = network.layers[latent].outputSize
            guard width == 2 else {
                throw MLPError("\(source): layer \"latent\" has \(width) units; traverse needs a 2-D \"latent\" "
                               + "layer (a point of the latent square is two numbers)")
            }
            guard latent + 1 < network.layers.count else {
                throw MLPError("\(source): layer \"latent\" is the last layer, so there is no decoder after it "
                               + "to turn latent points into images")
            }
            guard network.outputSize == 784, network.inputSize == 784 else {
                throw MLPError("\(source): the network maps \(network.inputSize) inputs to \(network.outputSize) "
                               + "outputs; traverse draws 28×28 images, so both must be 784")
            }
            self.network = network
            self.source = source
            firstLayer = latent + 1
        }

        /// Loads the model at `path` and checks it as ``init(network:source:)`` does; a missing file says how
        /// to make one.
        public init(contentsOf path: String) throws {
            guard FileManager.default.fileExists(atPath: path) else {
                throw MLPError("no model at \(path): run `mlp-train autoencoder` first (it writes "
                               + "Output/autoencoder/model.safetensors), or pass --model FILE")
            }
            try self.init(network: MLP(contentsOf: path), source: path)
        }

        /// The decoded images of `points` (latent 1, latent 2): 784 values per point, point after point,
        /// in the polarity of the data the network was trained on. Batched, 2,048 points per forward pass.
        public func decode(_ points: [(x: Double, y: Double)]) -> [Float] {
            var codes = [Float](repeating: 0, count: 2 * points.count)
            for (i, p) in points.enumerated() { codes[2 * i] = Float(p.x); codes[2 * i + 1] = Float(p.y) }
            return pass(codes, rows: points.count, layers: firstLayer..<network.layers.count)
        }

        /// The latent codes of `count` images of 784 values each (image after image in `images`).
        public func encode(_ images: [Float], count: Int) -> [(x: Double, y: Double)] {
            precondition(images.count == 784 * count, "encode: \(count) images need \(784 * count) values")
            let codes = pass(images, rows: count, layers: 0..<firstLayer)
            return (0..<count).map { (Double(codes[2 * $0]), Double(codes[2 * $0 + 1])) }
        }

        /// Runs `rows` rows of `input` through `layers` (in chunks), returning the last layer's outputs.
        private func pass(_ input: [Float], rows: Int, layers: Range<Int>) -> [Float] {
            let width = network.layers[layers.lowerBound].inputSize
            return network.forward(Matrix(rows: rows, columns: width, values: input), layers: layers).values
        }
    }
}
