// Inputs kept as bytes or half floats: each value reads as its float, and training, scoring and resuming on them
// give the bits that the same values stored as floats give.
import Foundation
import Testing
@testable import MLPKit
import TestSupport

@Suite struct InputRowsTests {
    static let width = 30, count = 120

    /// Pixel bytes of `count` images, about 80% of them `background` (0 or 255).
    static func bytes(background: UInt8) -> [UInt8] {
        var generator = SplitMix64(seed: 41)
        return (0..<(count * width)).map { _ in
            generator.nextUniform() < 0.8 ? background : UInt8(generator.nextInt(below: 256))
        }
    }

    static let labels: [UInt8] = (0..<count).map { UInt8(($0 * 7) % 4) }

    @Test func everyStoredValueReadsAsItsFloat() throws {
        let bytes = Self.bytes(background: 0)
        let rows = try InputRows(bytes: bytes, width: Self.width)
        #expect(rows.count == Self.count && rows.storedBytes == bytes.count)
        #expect(rows.floats == bytes.map { Float($0) / 255 })
        #expect(rows.floats(rows: 5..<7) == bytes[5 * Self.width ..< 7 * Self.width].map { Float($0) / 255 })
        // The table is what a byte reads as: inverting changes the table, not the bytes, with 1 − x's bits.
        #expect(rows.mapValues { 1 - $0 }.floats == bytes.map { 1 - Float($0) / 255 })
        #expect(try InputRows(bytes: bytes, width: Self.width, encoding: .plainBytes).floats == bytes.map(Float.init))
        #expect(rows.prefix(3).floats == Array(rows.floats[0 ..< 3 * Self.width]))
        // A gathered subset (a validation split) keeps the stored type and the table.
        let inverted = rows.mapValues { 1 - $0 }, picked = [5, 2, 2, 119]
        var expected: [Float] = []
        for r in picked {
            for byte in bytes[r * Self.width ..< (r + 1) * Self.width] { expected.append(1 - Float(byte) / 255) }
        }
        #expect(inverted.gathering(picked).floats == expected)
        #expect(inverted.gathering(picked).storedBytes == picked.count * Self.width)
        let halves: [UInt16] = [0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x3555]
        #expect(try InputRows(halves: halves, width: 3).floats == halves.map { Float(Float16(bitPattern: $0)) })
        #expect(throws: MLPError.self) { try InputRows(bytes: bytes, width: 7) }
        #expect(throws: MLPError.self) { try InputRows(bytes: bytes, width: 30, encoding: .byte(table: [0, 1])) }
    }

    /// A network of the shape the sparse tests use: width → 24 → 12 → outputs.
    func network(outputs: Int, loss: Loss) -> MLP {
        let net = MLP(inputSize: Self.width, loss: loss, seed: 42)
        net.addLayer(24, activation: .leakyReLU)
        net.addLayer(12, activation: .tanh)
        net.addLayer(outputs, activation: loss == .squared ? .logistic : .softmax)
        return net
    }

    /// Trains on `rows` with `options` and returns the parameters, and every sample's outputs and the mean loss.
    func train(_ rows: InputRows, autoencoder: Bool, options: TrainingOptions) throws -> ([Float], [Float], Double) {
        let net = autoencoder ? network(outputs: Self.width, loss: .squared)
                              : network(outputs: 4, loss: .softmaxCrossEntropy)
        let data = try TrainingSet(rows: rows, targets: autoencoder ? .inputs : .classes(Self.labels))
        _ = try Trainer(network: net, options: options).fit(data)
        let (outputs, loss) = try Evaluator(network: net, threads: options.threads, chunkSize: 16).outputsAndLoss(data)
        return (net.parameters, outputs, loss)
    }

    @Test(arguments: [(UInt8(0), false), (255, false), (0, true)], [
        (batch: 1, adam: false, sparse: true), (batch: 1, adam: false, sparse: false),
        (batch: 16, adam: false, sparse: true), (batch: 24, adam: true, sparse: false), (batch: 32, adam: true, sparse: true),
    ])
    func bytesTrainToTheBitsOfTheirFloats(data: (background: UInt8, autoencoder: Bool),
                                          route: (batch: Int, adam: Bool, sparse: Bool)) throws {
        var options = TrainingOptions()
        options.epochs = 2
        options.batchSize = route.batch
        options.learningRate = route.adam ? 0.003 : 0.05
        if route.adam { options.optimizer = .defaultAdam }
        options.sparseFirstLayer = route.sparse
        options.threads = 2
        options.seed = 43
        let bytes = try InputRows(bytes: Self.bytes(background: data.background), width: Self.width)
        let floats = try InputRows(floats: bytes.floats, width: Self.width)
        let fromBytes = try train(bytes, autoencoder: data.autoencoder, options: options)
        let fromFloats = try train(floats, autoencoder: data.autoencoder, options: options)
        #expect(firstMismatch(fromBytes.0, fromFloats.0) == nil, "parameters")
        #expect(firstMismatch(fromBytes.1, fromFloats.1) == nil, "outputs")
        #expect(fromBytes.2.bitPattern == fromFloats.2.bitPattern, "loss")
        #expect(maxDifference(fromBytes.0, network(outputs: data.autoencoder ? Self.width : 4,
                                                     loss: data.autoencoder ? .squared : .softmaxCrossEntropy)
                                                .parameters) > 1e-3, "the epochs must move the weights")
        // The fingerprint that guards a resume reads the values, not their storage.
        let labels: TrainingSet.Targets = .classes(Self.labels)
        #expect(try TrainingSet(rows: bytes, targets: labels).fingerprint
                == TrainingSet(rows: floats, targets: labels).fingerprint)
    }

    @Test func mappedRowsReadTheFileInPlace() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/rows.bin"
        let bytes = Self.bytes(background: 255)
        try Data([7, 7, 7, 7] + bytes).write(to: URL(fileURLWithPath: path))
        let file = try MappedFile(path: path)
        let rows = try InputRows(mapped: file, offset: 4, count: Self.count, width: Self.width, encoding: .unitBytes)
        #expect(rows.floats == bytes.map { Float($0) / 255 })
        #expect(throws: MLPError.self) {
            try InputRows(mapped: file, offset: 5, count: Self.count, width: Self.width, encoding: .unitBytes)
        }
        try file.checkUnchanged()
        try Data(bytes.prefix(10)).write(to: URL(fileURLWithPath: path))
        #expect(throws: MLPError.self) { try file.checkUnchanged() }
    }
}
