// libFuzzer target: the safetensors reader, then the model and checkpoint readers on what it accepts, then a
// resume from the checkpoint's state on a few samples (the state's checks must refuse what does not fit).
import MLPKit

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // Errors are the expected outcome for most inputs; a crash, a trap or a hang is a bug.
    guard let file = try? SafeTensors(bytes: bytes, path: "input") else { return 0 }
    if let encoded = try? file.encoded() {
        // What the reader accepts, the writer writes back to the same contents.
        let again = try? SafeTensors(bytes: encoded, path: "re-encoded")
        precondition(again?.metadata == file.metadata, "metadata changed in a round trip")
    }
    _ = try? MLP(safeTensors: file, path: "input")
    guard let checkpoint = try? TrainingCheckpoint(safeTensors: file, path: "input"),
          let network = try? checkpoint.makeNetwork(),
          network.parameterCount <= 100_000, network.inputSize <= 1_000 else { return 0 }
    // Resume it for at most a few steps on 16 samples, as the saved options would.
    let samples = 16
    var generator = SplitMix64(seed: 1)
    let inputs = (0..<(samples * network.inputSize)).map { _ in Float(generator.nextUniform()) }
    let targets = (0..<(samples * network.outputSize)).map { _ in Float(generator.nextUniform()) }
    guard let set = try? TrainingSet(inputs: inputs, inputSize: network.inputSize,
                                     targets: .values(targets, size: network.outputSize)) else { return 0 }
    var options = TrainingOptions(epochs: min(max(checkpoint.state.epoch, 1), 3), learningRate: 0.01)
    options.batchSize = min(max(Int(checkpoint.run["--batch-size"] ?? "1") ?? 1, 1), samples)
    if checkpoint.run["--optimizer"]?.hasPrefix("adam") == true { options.optimizer = .defaultAdam }
    if checkpoint.run["--optimizer"]?.hasPrefix("momentum") == true { options.optimizer = .defaultMomentum }
    options.checkpointEvery = 1
    guard let trainer = try? Trainer(network: network, options: options) else { return 0 }
    var steps = 0
    _ = try? trainer.fit(set, resumingFrom: checkpoint.state) { event in
        if case .checkpoint = event {
            steps += 1
            if steps >= 3 { throw MLPError("enough") }
        }
    }
    return 0
}
