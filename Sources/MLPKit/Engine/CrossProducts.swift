// Σ (x − μ)(x − μ)ᵀ over the rows of a matrix, with the dW kernel: a covariance's sum, the same for any threads.

/// The sum over the rows x of `rows` (each `columns` values) of (x − μ)(x − μ)ᵀ, as `columns` × `columns`
/// Doubles: blocks of `blockRows` centred rows go through the dW kernel (dW += dYᵀ·X with dY = X), each block's
/// product is added in Double to its group's sum, and the `groups` contiguous groups of rows, spread over up to
/// `threads` workers, are added in order, so the result does not depend on `threads`.
package func centredCrossProducts(_ rows: [Float], columns d: Int, mean: [Float], threads: Int,
                                  blockRows: Int = 256, groups: Int = 8) -> [Double] {
    precondition(d > 0 && rows.count % d == 0 && mean.count == d && blockRows > 0 && groups > 0)
    let n = rows.count / d
    var partials = [[Double]](repeating: [], count: groups)
    let workers = min(max(threads, 1), groups)
    rows.withUnsafeBufferPointer { images in
        partials.withUnsafeMutableBufferPointer { slots in
            forEachWorker(workers) { worker in
                let block = FloatBuffer(count: blockRows * d)
                let product = FloatBuffer(count: d * d)
                let unusedBias = FloatBuffer(count: d)
                for group in stride(from: worker, to: groups, by: workers) {
                    var sum = [Double](repeating: 0, count: d * d)
                    let lower = group * n / groups, upper = (group + 1) * n / groups
                    for first in stride(from: lower, to: upper, by: blockRows) {
                        let count = min(blockRows, upper - first)
                        for r in 0..<count {
                            for j in 0..<d { block.pointer[r * d + j] = images[(first + r) * d + j] - mean[j] }
                        }
                        product.zero()
                        denseBackwardWeights(product.pointer, unusedBias.pointer, block.pointer, block.pointer,
                                             m: count, k: d, n: d)
                        for i in 0..<(d * d) { sum[i] += Double(product.pointer[i]) }
                    }
                    slots[group] = sum
                }
            }
        }
    }
    var total = [Double](repeating: 0, count: d * d)
    for partial in partials where !partial.isEmpty { for i in 0..<(d * d) { total[i] += partial[i] } }
    return total
}
