// A data set's inputs listed once relative to a background value, for per-sample SGD on a sparse first layer.

/// A whole data set's inputs relative to a background value c, in compressed rows: for each sample, the inputs
/// that are not c, their z = x − c, and Σz. Built once, so per-sample SGD loads a sample's few non-background
/// inputs without scanning all of them.
final class SparseRows {
    /// Sample s's entries are starts[s] ..< starts[s + 1] of `indices` and `values`, inputs in increasing order.
    let starts: [Int]
    let indices: UnsafeMutablePointer<Int32>
    let values: UnsafeMutablePointer<Float>
    /// Σz per sample.
    let zSums: [Float]

    /// The rows of `inputs` (count × width) relative to `background`.
    init(inputs: [Float], width: Int, background: Float) {
        let count = inputs.count / width
        var starts = [0], indices: [Int32] = [], values: [Float] = [], zSums: [Float] = []
        starts.reserveCapacity(count + 1)
        zSums.reserveCapacity(count)
        for s in 0..<count {
            var sum: Float = 0
            for i in 0..<width {
                let z = inputs[s * width + i] - background
                if z != 0 { indices.append(Int32(i)); values.append(z); sum += z }
            }
            starts.append(indices.count)
            zSums.append(sum)
        }
        self.starts = starts
        self.indices = .allocate(capacity: max(indices.count, 1))
        self.indices.initialize(from: indices, count: indices.count)
        self.values = .allocate(capacity: max(values.count, 1))
        self.values.initialize(from: values, count: values.count)
        self.zSums = zSums
    }

    deinit {
        indices.deallocate()
        values.deallocate()
    }

    /// Mean number of non-background inputs per sample.
    var meanNonzeros: Double { Double(starts.last ?? 0) / Double(max(zSums.count, 1)) }
}
