// Σ (x − μ)(x − μ)ᵀ over the rows of a matrix, with the dW kernel: a covariance's sum, the same for any threads.

/// The sum over the rows x of `rows` (each `columns` values) of (x − μ)(x − μ)ᵀ, as `columns` × `columns`
/// Doubles: blocks of `blockRows` centred rows go through the dW kernel (dW += dYᵀ·X with dY = X), each block's
/// product is added in Double to its group's sum, and the `groups` contiguous groups of rows, spread over up to
/// `threads` workers, are added in order, so the result does not depend on `threads`.
package func centredCrossProducts(_ rows: [Float], columns d: Int, mean: [Float], threads: Int,
                                  blockRows: Int = 256, groups: Int = 8) -> [Double] {
    precondition(d > 0 && rows.count % d == 0)
    return centredCrossProducts(try! InputRows(floats: rows, width: d), mean: mean, threads: threads,
                                blockRows: blockRows, groups: groups)
}

/// `centredCrossProducts` over rows as they are stored (bytes are decoded a block at a time). The groups run
/// `threads` at a time and are added in order as each round ends, so memory holds one d × d sum per thread.
package func centredCrossProducts(_ rows: InputRows, mean: [Float], threads: Int, blockRows: Int = 256,
                                  groups: Int = 8) -> [Double] {
    let d = rows.width, n = rows.count
    precondition(mean.count == d && blockRows > 0 && groups > 0)
    let workers = min(max(threads, 1), groups)
    var total = [Double](repeating: 0, count: d * d)
    var partials = [[Double]](repeating: [], count: workers)
    rows.withReader { reader in
        for round in stride(from: 0, to: groups, by: workers) {
            let running = min(workers, groups - round)
            partials.withUnsafeMutableBufferPointer { slots in
                forEachWorker(running) { worker in
                    let block = FloatBuffer(count: blockRows * d)
                    let product = FloatBuffer(count: d * d)
                    let unusedBias = FloatBuffer(count: d)
                    let group = round + worker
                    var sum = [Double](repeating: 0, count: d * d)
                    let lower = group * n / groups, upper = (group + 1) * n / groups
                    for first in stride(from: lower, to: upper, by: blockRows) {
                        let count = min(blockRows, upper - first)
                        for r in 0..<count {
                            let row = block.pointer + r * d
                            reader.copyRow(first + r, into: row)
                            for j in 0..<d { row[j] -= mean[j] }
                        }
                        product.zero()
                        denseBackwardWeights(product.pointer, unusedBias.pointer, block.pointer, block.pointer,
                                             m: count, k: d, n: d)
                        for i in 0..<(d * d) { sum[i] += Double(product.pointer[i]) }
                    }
                    slots[worker] = sum
                }
            }
            for worker in 0..<running { for i in 0..<(d * d) { total[i] += partials[worker][i] } }
        }
    }
    return total
}
