// What a network trains on: rows of inputs and the outputs wanted for them.

/// Samples to train or score a network on: one row of `inputSize` inputs per sample, and the targets the
/// network should output for them. Arrays are shared, not copied (an autoencoder's targets are its inputs).
public struct TrainingSet: Sendable {
    /// What the network should output for each sample.
    public enum Targets: Sendable {
        /// A class index per sample; the target row is one-hot (softmax + cross-entropy, or one logistic per class).
        case classes([UInt8])
        /// A row of `size` values per sample, sample after sample.
        case values([Float], size: Int)
        /// The inputs themselves (an autoencoder).
        case inputs
    }

    /// The inputs, one row of `inputSize` values per sample, kept as they were stored (floats, bytes or half floats;
    /// in memory or mapped).
    public let inputRows: InputRows
    /// count × inputSize values, sample after sample, as floats: for rows stored otherwise, a decoded copy made on
    /// each call (use `inputRows` to read rows without one).
    public var inputs: [Float] { inputRows.floats }
    /// Values per sample.
    public var inputSize: Int { inputRows.width }
    /// The wanted outputs.
    public let targets: Targets

    /// Checks that the inputs hold whole rows and that there is one target per sample.
    public init(inputs: [Float], inputSize: Int, targets: Targets) throws {
        try self.init(rows: InputRows(floats: inputs, width: inputSize), targets: targets)
    }

    /// Samples whose inputs are `rows`; checks that there is one target per row.
    public init(rows: InputRows, targets: Targets) throws {
        let count = rows.count
        switch targets {
        case .classes(let labels):
            guard labels.count == count else {
                throw MLPError("a training set needs one class per sample: \(count) samples, \(labels.count) classes")
            }
        case .values(let values, let size):
            guard size > 0, values.count == count * size else {
                throw MLPError("a training set needs \(size) target values per sample: \(count) samples, "
                               + "\(values.count) values")
            }
        case .inputs:
            break
        }
        inputRows = rows
        self.targets = targets
    }

    /// Number of samples.
    public var count: Int { inputRows.count }

    /// "60000 samples of 784 inputs, fingerprint 1f3a…": the shape and a 64-bit hash of every input and target
    /// bit, so that a run is not resumed on other data.
    public var fingerprint: String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ value: Float) { hash = (hash ^ UInt64(value.bitPattern)) &* 0x0000_0100_0000_01B3 }
        inputRows.withReader { reader in
            for i in 0..<count * inputSize { mix(reader.value(i)) }
        }
        switch targets {
        case .classes(let labels): for label in labels { mix(Float(label)) }
        case .values(let values, _): for value in values { mix(value) }
        case .inputs: break
        }
        let hex = String(hash, radix: 16)
        return "\(count) samples of \(inputSize) inputs, fingerprint \(String(repeating: "0", count: 16 - hex.count) + hex)"
    }

    /// Checks that `network` takes these inputs and produces outputs of the targets' shape.
    func check(against network: MLP) throws {
        guard network.inputSize == inputSize else {
            throw MLPError("the network takes \(network.inputSize) inputs per sample; the data have \(inputSize)")
        }
        let outputs = network.outputSize
        switch targets {
        case .classes(let labels):
            if let largest = labels.max(), Int(largest) >= outputs {
                throw MLPError("class \(largest) is out of range: the network has \(outputs) outputs")
            }
        case .values(_, let size):
            guard size == outputs else {
                throw MLPError("the network has \(outputs) outputs; the targets have \(size) values per sample")
            }
        case .inputs:
            guard outputs == inputSize else {
                throw MLPError("an autoencoder's outputs must match its inputs: \(outputs) outputs, \(inputSize) inputs")
            }
        }
    }

    /// Calls `body` with a reader of the targets' rows of `size` values (nil for class targets, which have no rows).
    func withTargetRows<R>(size: Int, _ body: (RowReader?) throws -> R) rethrows -> R {
        switch targets {
        case .classes: return try body(nil)
        case .values(let values, _):
            return try values.withUnsafeBufferPointer { try body(RowReader(floats: $0.baseAddress!, width: size)) }
        case .inputs: return try inputRows.withReader { try body($0) }
        }
    }
}

extension TrainingSet {
    /// The value (0 or 1) that fills at least half of the inputs, as image backgrounds do; nil when none does.
    func dominantBackground() -> Float? {
        guard let dominant = Self.dominantValue(of: inputRows), dominant.fraction >= 0.5 else { return nil }
        return dominant.value
    }

    /// The fraction of `inputs` equal to their most common value, and that value (among 0 and 1, the two
    /// backgrounds of image data), looking at every `step`-th input.
    package static func dominantValue(of inputs: [Float], sampleEvery step: Int = 7) -> (value: Float, fraction: Double)? {
        dominantValue(of: try! InputRows(floats: inputs, width: 1), sampleEvery: step)
    }

    /// `dominantValue(of:sampleEvery:)` over rows as they are stored.
    package static func dominantValue(of rows: InputRows, sampleEvery step: Int = 7) -> (value: Float, fraction: Double)? {
        var zeros = 0, ones = 0, seen = 0
        rows.withReader { reader in
            for i in Swift.stride(from: 0, to: rows.count * rows.width, by: step) {
                seen += 1
                let value = reader.value(i)
                if value == 0 { zeros += 1 } else if value == 1 { ones += 1 }
            }
        }
        guard seen > 0 else { return nil }
        return zeros >= ones ? (0, Double(zeros) / Double(seen)) : (1, Double(ones) / Double(seen))
    }
}
