// A batch's inputs relative to a background value, listed by input and by row, for the sparse first layer.

/// A batch of inputs relative to a background value c, listed both ways: for every input i, the rows (samples)
/// whose input i is not c (for the step, which walks the inputs), and for every row, its inputs that are not c (for
/// the forward pass, which walks the rows), each with z = x − c. Preallocated for up to `capacity` rows; `load`
/// refills it, or `begin` and then `loadInputs` and `loadRows` in blocks that can run on different threads.
final class SparseBatch {
    /// Largest number of rows.
    let capacity: Int
    /// Inputs per row (K).
    let inputs: Int
    /// Rows loaded.
    private(set) var rows = 0
    /// The value the inputs are taken relative to.
    private(set) var background: Float = 0
    /// counts[i]: how many rows have input i ≠ c; their row numbers and z values are in
    /// sampleRows/values[i·capacity ..< i·capacity + counts[i]], rows in increasing order.
    let counts: UnsafeMutablePointer<Int32>
    let sampleRows: UnsafeMutablePointer<Int32>
    let values: UnsafeMutablePointer<Float>
    /// rowCounts[r]: how many inputs of row r are not c; their indices and z values are in
    /// rowInputs/rowValues[r·inputs ..< r·inputs + rowCounts[r]], inputs in increasing order.
    let rowCounts: UnsafeMutablePointer<Int32>
    let rowInputs: UnsafeMutablePointer<Int32>
    let rowValues: UnsafeMutablePointer<Float>
    /// zSums[r] = Σᵢ z[r, i].
    let zSums: UnsafeMutablePointer<Float>
    /// Which row of `reader` row r is (set by `begin`'s caller).
    let sources: UnsafeMutablePointer<Int>
    /// The rows the batch's rows are read from (set by `begin`).
    private(set) var reader = RowReader(floats: UnsafePointer(bitPattern: 16)!, width: 0)
    /// For byte rows, eight copies of a byte that reads as the background, so that eight background bytes are
    /// skipped at once; nil when no byte does.
    private var backgroundBytes: UInt64?

    /// capacity × width floats for the layer's work on this batch: its padded outputs, then its scaled deltas.
    private let scratchBuffer: FloatBuffer
    /// The padded width of a scratch row.
    let width: Int

    /// The scratch rows, `stride` (the layer's padded width, at most `width`) apart.
    func scratch(stride: Int) -> UnsafeMutablePointer<Float> {
        precondition(stride <= width, "the batch was made for a narrower layer")
        return scratchBuffer.pointer
    }

    /// Room for `capacity` rows of `inputs` inputs, for a sparse layer of padded width `width`.
    init(capacity: Int, inputs: Int, width: Int) {
        self.capacity = capacity
        self.inputs = inputs
        self.width = width
        scratchBuffer = FloatBuffer(count: capacity * width)
        counts = .allocate(capacity: inputs)
        counts.initialize(repeating: 0, count: inputs)
        sampleRows = .allocate(capacity: inputs * capacity)
        values = .allocate(capacity: inputs * capacity)
        rowCounts = .allocate(capacity: capacity)
        rowCounts.initialize(repeating: 0, count: capacity)
        rowInputs = .allocate(capacity: inputs * capacity)
        rowValues = .allocate(capacity: inputs * capacity)
        zSums = .allocate(capacity: capacity)
        sources = .allocate(capacity: capacity)
    }

    deinit {
        counts.deallocate(); sampleRows.deallocate(); values.deallocate(); zSums.deallocate()
        rowCounts.deallocate(); rowInputs.deallocate(); rowValues.deallocate(); sources.deallocate()
    }

    /// The only row's non-background inputs and their z, listed by `load(row:from:background:)` (cleared by
    /// `begin`), inputs in increasing order.
    private(set) var single: (indices: UnsafePointer<Int32>, values: UnsafePointer<Float>, count: Int)?

    /// Row r's non-background inputs and their z, inputs in increasing order.
    func entries(row r: Int) -> (indices: UnsafePointer<Int32>, values: UnsafePointer<Float>, count: Int) {
        if let single { return single }
        return (UnsafePointer(rowInputs + r * inputs), UnsafePointer(rowValues + r * inputs), Int(rowCounts[r]))
    }

    /// Loads `rows` rows, row r being row `source(r)` of `reader`, relative to `background`.
    func load(rows: Int, background: Float, from reader: RowReader, source: (Int) -> Int) {
        for r in 0..<rows { sources[r] = source(r) }
        begin(rows: rows, background: background, reader: reader)
        loadAll()
    }

    /// Makes row `row` of `reader` the batch's only row, listing its non-background inputs as it is read (for rows
    /// not listed ahead). The per-input lists are not filled: the step reads `single`.
    func load(row: Int, from reader: RowReader, background: Float) {
        sources[0] = row
        begin(rows: 1, background: background, reader: reader)
        list(row: 0, byInput: false)
        single = (UnsafePointer(rowInputs), UnsafePointer(rowValues), Int(rowCounts[0]))
    }

    /// `loadInputs(0..<inputs)` and `loadRows(0..<rows)` in one scan of every row (after `begin`).
    func loadAll() {
        counts.update(repeating: 0, count: inputs)
        for r in 0..<rows { list(row: r, byInput: true) }
    }

    /// Starts a batch of `rows` rows, rows `sources[0..<rows]` of `reader`, read by `loadInputs` and `loadRows`,
    /// which must then cover every input and every row before the batch is used.
    func begin(rows: Int, background: Float, reader: RowReader) {
        precondition(rows <= capacity && reader.width == inputs)
        self.rows = rows
        if let table = reader.table {
            // The last step's byte still reading as the background is all the skip needs.
            if backgroundBytes.map({ table[Int($0 & 0xFF)] != background }) ?? true {
                backgroundBytes = (0..<256).first { table[$0] == background }.map { UInt64($0) &* 0x0101_0101_0101_0101 }
            }
        }
        self.background = background
        self.reader = reader
        single = nil
    }

    /// The per-input lists of inputs `range`: every row is scanned over those inputs, rows in order.
    func loadInputs(_ range: Range<Int>) {
        counts.advanced(by: range.lowerBound).update(repeating: 0, count: range.count)
        for r in 0..<rows {
            scan(row: r, inputs: range) { i, z in add(row: r, input: i, z) }
        }
    }

    /// The per-row lists and Σz of rows `range`.
    func loadRows(_ range: Range<Int>) {
        for r in range { list(row: r, byInput: false) }
    }

    /// Lists row r's non-background inputs and their Σz, and also adds them to the per-input lists when
    /// `byInput` (rows taken in order).
    @inline(__always)
    private func list(row r: Int, byInput: Bool) {
        let base = r * inputs
        var count = 0
        var sum: Float = 0
        scan(row: r, inputs: 0..<inputs) { i, z in
            if byInput { add(row: r, input: i, z) }
            rowInputs[base + count] = Int32(i)
            rowValues[base + count] = z
            count += 1
            sum += z
        }
        rowCounts[r] = Int32(count)
        zSums[r] = sum
    }

    /// Appends row r, with z, to input i's list.
    @inline(__always)
    private func add(row r: Int, input i: Int, _ z: Float) {
        let slot = i * capacity + Int(counts[i])
        sampleRows[slot] = Int32(r)
        values[slot] = z
        counts[i] += 1
    }

    /// Calls `body(i, z)` for each input i in `range` of row r that is not the background, in increasing order,
    /// skipping 8 background inputs at a time (most of an image's border). Byte rows are scanned as bytes; z is the
    /// decoded value less the background, as for float rows.
    @inline(__always)
    private func scan(row r: Int, inputs range: Range<Int>, _ body: (Int, Float) -> Void) {
        let source = sources[r]
        if let x = reader.floatRow(source) {
            let c = splat(background)
            var i = range.lowerBound
            while i < range.upperBound {
                if i + 8 <= range.upperBound, all(load8(x + i) .== c) {
                    i += 8
                    continue
                }
                let end = min(i + 8, range.upperBound)
                while i < end {
                    let z = x[i] - background
                    if z != 0 { body(i, z) }
                    i += 1
                }
            }
        } else if let bytes = reader.byteRow(source), let table = reader.table {
            var i = range.lowerBound
            while i < range.upperBound {
                if let pattern = backgroundBytes, i + 8 <= range.upperBound,
                   UnsafeRawPointer(bytes + i).loadUnaligned(as: UInt64.self) == pattern {
                    i += 8
                    continue
                }
                let end = min(i + 8, range.upperBound)
                while i < end {
                    let z = table[Int(bytes[i])] - background
                    if z != 0 { body(i, z) }
                    i += 1
                }
            }
        } else {
            let first = source * inputs
            for i in range {
                let z = reader.value(first + i) - background
                if z != 0 { body(i, z) }
            }
        }
    }
}
