// A batch of samples as one contiguous row-major block: the form the batched forward and backward take.

/// A row-major matrix of Floats; as a batch, each row is one sample.
public struct Matrix: Equatable, Sendable {
    /// Number of rows (samples).
    public let rows: Int
    /// Number of columns (features per sample).
    public let columns: Int
    /// `rows × columns` values, row after row.
    public var values: [Float]

    /// A matrix over `values`, which must hold exactly `rows × columns` Floats.
    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(rows >= 0 && columns >= 0 && values.count == rows * columns,
                     "Matrix(rows: \(rows), columns: \(columns)) needs \(rows * columns) values, got \(values.count)")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// A matrix of zeros.
    public init(rows: Int, columns: Int) {
        self.init(rows: rows, columns: columns, values: [Float](repeating: 0, count: rows * columns))
    }

    /// A matrix whose rows are `rows` (all the same length).
    public init(stacking rows: [[Float]]) {
        let columns = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == columns }, "Matrix(stacking:) needs rows of equal length")
        self.init(rows: rows.count, columns: columns, values: rows.flatMap { $0 })
    }

    /// Row `index` as an array.
    public func row(_ index: Int) -> [Float] {
        Array(values[index * columns ..< (index + 1) * columns])
    }
}
