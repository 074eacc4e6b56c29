// `mlp-train export`: a model file as ONNX, whole or from one named layer to another.
import ArgumentParser
import MLPJobs

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model (classify, autoencoder, train, or a checkpoint) as an ONNX file.",
        discussion: """
            The graph (opset 13) takes `input` [batch, inputs] and gives `output` [batch, outputs]: a Gemm per \
            layer (the weights as stored, transB = 1) and its activation; a train model's standardization runs \
            first, and its class names are in the metadata. --start and --end export a part, as \
            forward(start:end:) runs it: the autoencoder's encoder is --end latent, its decoder --start the layer \
            after it. Dropout is left out: inference runs without it.
            """)

    @Option(help: "The model file: written by classify, autoencoder or train, or a checkpoint.")
    var model: String = "Output/classify/network-b.safetensors"

    @Option(help: "The ONNX file to write.")
    var onnx: String

    @Option(help: "The name of the first layer to export (default: the first).")
    var start: String?

    @Option(help: "The name of the last layer to export (default: the last).")
    var end: String?

    func run() throws {
        let summary = try ExportJob.run(.init(model: model, onnx: onnx, start: start, end: end))
        print("wrote \(onnx) (\(summary.bytes) bytes): \(summary.layers)"
              + (summary.standardizes ? ", standardizing its input first" : ""))
    }
}
