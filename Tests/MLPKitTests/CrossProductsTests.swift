// Σ (x − μ)(x − μ)ᵀ through the dW kernel against a naive sum in Double, on awkward shapes and thread counts.
import Testing
@testable import MLPKit
import TestSupport

@Suite struct CrossProductsTests {
    @Test(arguments: [(37, 13, 5, 3), (8, 1, 256, 8), (100, 31, 7, 4)])
    func centredCrossProductsAreTheNaiveSumForAnyThreads(n: Int, d: Int, blockRows: Int, groups: Int) {
        var generator = SplitMix64(seed: UInt64(n * d))
        let rows = (0..<(n * d)).map { _ in generator.nextGaussian() }
        let mean = (0..<d).map { j in (0..<n).reduce(Float(0)) { $0 + rows[$1 * d + j] } / Float(n) }
        let one = centredCrossProducts(rows, columns: d, mean: mean, threads: 1, blockRows: blockRows, groups: groups)
        #expect(one.count == d * d)
        for i in 0..<d {
            for j in 0..<d {
                var naive = 0.0
                for r in 0..<n { naive += Double(rows[r * d + i] - mean[i]) * Double(rows[r * d + j] - mean[j]) }
                #expect(abs(one[i * d + j] - naive) <= 1e-4 * max(1, abs(naive)), "(\(i), \(j))")
            }
        }
        for threads in [2, 3, 16] {
            #expect(centredCrossProducts(rows, columns: d, mean: mean, threads: threads, blockRows: blockRows,
                                         groups: groups) == one, "threads \(threads)")
        }
    }
}
