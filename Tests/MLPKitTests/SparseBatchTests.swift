// The sparse first layer's batch: both listings of the non-background inputs, however the load is split.
import Testing
@testable import MLPKit
import TestSupport

@Suite struct SparseBatchTests {
    static let rows = 7, inputs = 45, background: Float = 1

    /// rows + 1 rows of inputs where about 70% of the values are the background (the rest in [0, 1)).
    static func images() -> [Float] {
        var generator = SplitMix64(seed: 21)
        return (0..<((rows + 1) * inputs)).map { _ in
            generator.nextUniform() < 0.7 ? background : Float(generator.nextUniform())
        }
    }

    /// A batch of `images()`, loaded whole or by `begin`, `loadInputs` and `loadRows` over the given ranges.
    static func batch(_ data: UnsafePointer<Float>, inputBlocks: [Range<Int>]? = nil,
                      rowBlocks: [Range<Int>]? = nil) -> SparseBatch {
        let batch = SparseBatch(capacity: rows + 1, inputs: inputs, width: 8)
        guard let inputBlocks, let rowBlocks else {
            batch.load(rows: rows, background: background, from: RowReader(floats: data, width: inputs)) { $0 }
            return batch
        }
        for r in 0..<rows { batch.sources[r] = r }
        batch.begin(rows: rows, background: background, reader: RowReader(floats: data, width: inputs))
        for range in inputBlocks { batch.loadInputs(range) }
        for range in rowBlocks { batch.loadRows(range) }
        return batch
    }

    @Test func bothListingsHoldExactlyTheNonBackgroundInputs() {
        let data = Self.images()
        data.withUnsafeBufferPointer { x in
            let batch = Self.batch(x.baseAddress!)
            var byInput = [[(Int32, Float)]](repeating: [], count: Self.inputs)
            for r in 0..<Self.rows {
                let entries = batch.entries(row: r)
                var expected: [(Int32, Float)] = [], sum: Float = 0
                for i in 0..<Self.inputs where data[r * Self.inputs + i] != Self.background {
                    let z = data[r * Self.inputs + i] - Self.background
                    expected.append((Int32(i), z))
                    byInput[i].append((Int32(r), z))
                    sum += z
                }
                #expect(entries.count == expected.count, "row \(r)")
                for (e, (i, z)) in expected.enumerated() where e < entries.count {
                    #expect(entries.indices[e] == i && entries.values[e] == z, "row \(r), entry \(e)")
                }
                #expect(batch.zSums[r] == sum, "row \(r)")
            }
            for i in 0..<Self.inputs {
                #expect(Int(batch.counts[i]) == byInput[i].count, "input \(i)")
                for (e, (r, z)) in byInput[i].enumerated() where e < Int(batch.counts[i]) {
                    let slot = i * batch.capacity + e
                    #expect(batch.sampleRows[slot] == r && batch.values[slot] == z, "input \(i), entry \(e)")
                }
            }
        }
    }

    @Test func aLoadInBlocksInAnyOrderIsTheWholeLoad() {
        let data = Self.images()
        data.withUnsafeBufferPointer { x in
            let whole = Self.batch(x.baseAddress!)
            // Uneven blocks, last first, over a batch that held other rows (1…7) before: its lists are refilled.
            let reused = Self.batch(x.baseAddress! + Self.inputs)
            for r in 0..<Self.rows { reused.sources[r] = r }
            reused.begin(rows: Self.rows, background: Self.background,
                         reader: RowReader(floats: x.baseAddress!, width: Self.inputs))
            for range in [40..<45, 8..<40, 0..<8] { reused.loadInputs(range) }
            for range in [5..<7, 0..<5] { reused.loadRows(range) }
            for i in 0..<Self.inputs {
                #expect(reused.counts[i] == whole.counts[i], "input \(i)")
                for e in 0..<Int(whole.counts[i]) {
                    let slot = i * whole.capacity + e
                    #expect(reused.sampleRows[slot] == whole.sampleRows[slot] && reused.values[slot] == whole.values[slot])
                }
            }
            for r in 0..<Self.rows {
                let a = whole.entries(row: r), b = reused.entries(row: r)
                #expect(a.count == b.count && reused.zSums[r] == whole.zSums[r], "row \(r)")
                for e in 0..<min(a.count, b.count) { #expect(a.indices[e] == b.indices[e] && a.values[e] == b.values[e]) }
            }
        }
    }
}

@Suite struct SparseByteBatchTests {
    /// Byte rows listed in place give the entries their decoded floats give, also when one batch is reused on rows
    /// of another background (the eight-byte skip must follow the new background).
    @Test func byteRowsListAsTheirFloatsOnAnyBackground() throws {
        let inputs = 45, rows = 6
        var generator = SplitMix64(seed: 23)
        let bytes = (0..<(rows * inputs)).map { _ in generator.nextUniform() < 0.9 ? UInt8(0) : UInt8(generator.nextInt(below: 256)) }
        let batch = SparseBatch(capacity: rows, inputs: inputs, width: 8)
        for (background, table) in [(Float(0), InputRows.Encoding.unitBytes), (1, .unitBytes), (0, .plainBytes)] {
            let byteRows = try InputRows(bytes: bytes, width: inputs, encoding: table)
            let floats = byteRows.floats
            byteRows.withReader { reader in
                batch.load(rows: rows, background: background, from: reader) { $0 }
            }
            for r in 0..<rows {
                let entries = batch.entries(row: r)
                let expected = (0..<inputs).filter { floats[r * inputs + $0] != background }
                #expect(entries.count == expected.count, "background \(background), row \(r)")
                for (e, i) in expected.enumerated() where e < entries.count {
                    #expect(entries.indices[e] == Int32(i) && entries.values[e] == floats[r * inputs + i] - background)
                }
            }
        }
    }
}
