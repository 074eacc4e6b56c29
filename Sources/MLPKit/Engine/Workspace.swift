// Scratch memory for passes through a network: one per thread, allocated once, reused every step.

/// Per-layer activation and dL/dz buffers for up to `capacity` samples at a time. Each layer has its own dL/dz,
/// so one layer's weight gradient can be formed while the dL/dx below it is (`StepPlan` runs them side by side).
package final class Workspace: @unchecked Sendable {
    /// Largest batch (rows) this workspace can hold.
    let capacity: Int
    /// The layer sizes it was laid out for (input size first), to detect a network that has since grown.
    let widths: [Int]
    /// activations[l] holds layer l's outputs, capacity × outputSize.
    package let activations: [FloatBuffer]
    /// deltas[l] holds dL/dz of layer l (its pre-activation), capacity × outputSize; empty in a workspace made
    /// for forward passes only.
    package let deltas: [FloatBuffer]
    /// capacity × (output size): targets built from class labels.
    let targets: FloatBuffer

    /// Lays out buffers for `layers` (after an input of `inputSize`) and batches of up to `capacity` rows; without
    /// dL/dz buffers when `forwardOnly` (half the memory, for scoring and inference).
    init(inputSize: Int, layers: [Layer], capacity: Int, forwardOnly: Bool = false) {
        self.capacity = capacity
        widths = [inputSize] + layers.map(\.outputSize)
        activations = layers.map { FloatBuffer(count: capacity * $0.outputSize) }
        deltas = forwardOnly ? [] : layers.map { FloatBuffer(count: capacity * $0.outputSize) }
        targets = FloatBuffer(count: capacity * (layers.last?.outputSize ?? 1))
    }

    /// True when this workspace fits `rows` samples of a network with these layers.
    func fits(inputSize: Int, layers: [Layer], rows: Int) -> Bool {
        rows <= capacity && widths.count == layers.count + 1 && widths[0] == inputSize
            && zip(widths.dropFirst(), layers).allSatisfy { $0 == $1.outputSize }
    }
}
