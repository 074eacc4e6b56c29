// `mlp-train import`: a network trained elsewhere (PyTorch's state dict, or ONNX) as a model file of ours.
import ArgumentParser
import MLPJobs
import MLPKit

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn a PyTorch nn.Sequential of Linear layers (state dict as safetensors) or an ONNX graph into "
            + "a model file.",
        discussion: """
            A state dict (torch: safetensors.torch.save_file(model.state_dict(), "net.safetensors")) holds the \
            weights as 0.weight, 0.bias, 2.weight, …; --layers names each Linear layer's width and activation \
            (128:relu,10:softmax). An ONNX graph of Gemm (or MatMul and Add) and activation nodes carries its \
            activations; --layers, when given, must agree. A convolution, a normalization or any other layer is \
            refused, naming it. The model works with predict, evaluate and export.
            """)

    @Argument(help: "The .safetensors state dict or .onnx file.")
    var file: String

    @Option(help: ArgumentHelp("units:activation per Linear layer, comma-separated (required for a state dict).",
                               valueName: "spec"))
    var layers: String?

    @Option(help: "cross-entropy, logistic, squared or absolute (default: from the last activation).")
    var loss: TrainCommand.LossChoice?

    @Option(help: "The model file to write.")
    var output: String

    func run() throws {
        let net = try ImportJob.run(.init(file: file, layers: try layers.map(LayerSpec.init(parsing:)),
                                          loss: loss?.loss, output: output))
        print("wrote \(output): \(net.architecture), \(net.parameterCount) parameters")
    }
}
