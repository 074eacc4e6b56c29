// Scoring a network over a whole data set, in batches spread across worker threads.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loss, accuracy and predictions of a classifier over a labelled data set.
public struct Evaluation: Sendable {
    /// Mean cross-entropy per sample against the labels.
    public let loss: Double
    /// Fraction of samples whose largest output is the label.
    public let accuracy: Double
    /// The predicted class (index of the largest output) of every sample, in order.
    public let predictions: [UInt8]
}

/// Evaluates a network on data sets with per-worker workspaces allocated once.
/// Samples are cut into chunks of `chunkSize` rows whatever the thread count, and per-chunk sums are added
/// in chunk order, so the figures do not depend on the number of threads.
public final class Evaluator {
    let network: MLP
    let threads: Int
    let chunkSize: Int
    private let workspaces: [Workspace]
    /// Per worker, a chunk of inputs decoded from rows not stored as floats.
    private let decoded: [FloatBuffer]

    /// An evaluator of `network` using up to `threads` worker threads.
    public init(network: MLP, threads: Int, chunkSize: Int = 256) {
        self.network = network
        self.threads = max(1, threads)
        self.chunkSize = chunkSize
        workspaces = (0..<max(1, threads)).map { _ in network.makeWorkspace(capacity: chunkSize, forwardOnly: true) }
        decoded = (0..<max(1, threads)).map { _ in FloatBuffer(count: chunkSize * network.inputSize) }
    }

    /// Classifier figures over `data` (class targets): mean cross-entropy against the labels, accuracy,
    /// predictions. Throws when the data do not fit the network or have no class targets.
    public func evaluate(_ data: TrainingSet) throws -> Evaluation {
        guard case .classes(let classes) = data.targets else {
            throw MLPError("accuracy needs class targets; these data have value targets (score them by their loss)")
        }
        try data.check(against: network)
        let outputs = network.outputSize
        var predictions = [UInt8](repeating: 0, count: data.count)
        let loss = predictions.withUnsafeMutableBufferPointer { predicted in
            classes.withUnsafeBufferPointer { labels in
                sumOverChunks(data) { first, rows, _, y in
                    var loss = 0.0
                    for r in 0..<rows {
                        let row = y + r * outputs
                        var best = 0
                        for j in 1..<outputs where row[j] > row[best] { best = j }
                        predicted[first + r] = UInt8(best)
                        loss -= Double(logf(max(row[Int(labels[first + r])], Loss.floor)))
                    }
                    return loss
                }
            }
        }
        var correct = 0
        for i in 0..<data.count where predictions[i] == classes[i] { correct += 1 }
        let count = Double(max(data.count, 1))
        return Evaluation(loss: loss / count, accuracy: Double(correct) / count, predictions: predictions)
    }

    /// Mean loss per sample of the network's own loss against value targets (for an autoencoder, whose
    /// targets are its inputs: Σ (ŷ − x)² with the squared loss). Throws when the data do not fit the network or
    /// have class targets (score those with `evaluate(_:)`).
    public func meanLoss(_ data: TrainingSet) throws -> Double {
        if case .classes = data.targets {
            throw MLPError("the mean loss here needs value targets; these data have classes (score them with evaluate)")
        }
        try data.check(against: network)
        let size = network.outputSize
        let total = data.withTargetRows(size: size) { targets -> Double in
            guard let targets else { return 0 }
            return sumOverChunks(data) { first, rows, x, y in
                Double(network.loss.value(y, targetRows(targets, first: first, inputs: x), count: rows * size))
            }
        }
        return total / Double(max(data.count, 1))
    }

    /// Every sample's outputs (count × outputSize, sample after sample) and the mean per-sample value of the
    /// network's own loss, class targets counting as one-hot rows. Throws when the data do not fit the network.
    public func outputsAndLoss(_ data: TrainingSet) throws -> (outputs: [Float], meanLoss: Double) {
        try data.check(against: network)
        let size = network.outputSize
        var outputs = [Float](repeating: 0, count: data.count * size)
        let total = outputs.withUnsafeMutableBufferPointer { out in
            let destination = UncheckedSendable(value: out.baseAddress!)
            return data.withTargetRows(size: size) { targets -> Double in
                sumOverChunks(data) { first, rows, x, y in
                    (destination.value + first * size).update(from: y, count: rows * size)
                    if let targets {
                        return Double(network.loss.value(y, targetRows(targets, first: first, inputs: x),
                                                         count: rows * size))
                    }
                    guard case .classes(let classes) = data.targets else { return 0 }
                    var oneHot = [Float](repeating: 0, count: rows * size)
                    for r in 0..<rows { oneHot[r * size + Int(classes[first + r])] = 1 }
                    return Double(network.loss.value(y, oneHot, count: rows * size))
                }
            }
        }
        return (outputs, total / Double(max(data.count, 1)))
    }

    /// Runs the network over `data` in chunks on the workers; `score(first, rows, inputs, outputs)` turns each
    /// chunk's outputs into a number (it may also write per-sample results at first..<first+rows). Returns the sum
    /// of the chunk scores, added in chunk order.
    private func sumOverChunks(_ data: TrainingSet,
                               _ score: (_ first: Int, _ rows: Int, _ inputs: UnsafePointer<Float>,
                                         _ outputs: UnsafePointer<Float>) -> Double) -> Double {
        let count = data.count
        let chunks = (count + chunkSize - 1) / chunkSize
        guard chunks > 0 else { return 0 }
        network.synchronize()
        var chunkSums = [Double](repeating: 0, count: chunks)
        data.inputRows.withReader { reader in
            chunkSums.withUnsafeMutableBufferPointer { slots in
                let sums = UncheckedSendable(value: slots)
                network.forwardInChunks(reader, rows: count, layers: 0..<network.layers.count,
                                        workspaces: workspaces, decoded: decoded) { chunk, first, rows, x, y in
                    sums.value[chunk] = score(first, rows, x, y)
                }
            }
        }
        return chunkSums.reduce(0, +)
    }

    /// A chunk's target rows from `first`: the chunk's inputs (already floats) when the targets are the inputs,
    /// else the float rows in place.
    private func targetRows(_ targets: RowReader, first: Int, inputs: UnsafePointer<Float>) -> UnsafePointer<Float> {
        targets.floatRow(first) ?? inputs
    }
}
