// The forward kernel with samples across the lanes against the dot-product kernels, bit for bit: which one runs
// depends on the layer's shape and the batch, so it must never change an output.
import Testing
@testable import MLPKit
import TestSupport

@Suite struct SampleLanesKernelTests {
    /// Runs `outputs` of a batch of `m` samples through `denseForwardBlock` at once (blocks of 16 samples take the
    /// sample lanes where they are preferred) and 4 samples at a time (always the dot products), with both vector
    /// widths, and expects the same bits everywhere.
    func expectSameBits(m: Int, k: Int, n: Int, outputs: Range<Int>) {
        let x = randomValues(m * k, seed: 1), w = randomValues(n * k, seed: 2), b = randomValues(n, seed: 3)
        for wide in [false, true] {
            var whole = [Float](repeating: .nan, count: m * n), slices = whole
            whole.withUnsafeMutableBufferPointer { y in
                denseForwardBlock(y.baseAddress!, x, w, b, rows: m, k: k, n: n, outputs: outputs, wide: wide)
            }
            x.withUnsafeBufferPointer { x in
                slices.withUnsafeMutableBufferPointer { y in
                    for first in stride(from: 0, to: m, by: 4) {
                        denseForwardBlock(y.baseAddress! + first * n, x.baseAddress! + first * k, w, b, rows: 4, k: k,
                                          n: n, outputs: outputs, wide: wide)
                    }
                }
            }
            #expect(firstMismatch(whole, slices) == nil, "\(m)×\(k)×\(n), outputs \(outputs), wide: \(wide)")
        }
    }

    @Test func eachOutputHasTheBitsOfTheDotProducts() {
        // Batches of one and several blocks of 16 and a rest of 4; inputs around the vectors of 8 and the
        // 8 × 8 transposes, and on both sides of 256; outputs around 8 (the first taken), 12 and the groups of 3.
        for m in [16, 36, 64] {
            for k in [8, 9, 20, 40, 63, 64, 100, 255, 256, 300] {
                for n in [7, 8, 10, 11, 12, 13, 20, 25] {
                    expectSameBits(m: m, k: k, n: n, outputs: 0 ..< n)
                }
            }
        }
        #expect(prefersSampleLanes(k: 40, outputs: 20) && prefersSampleLanes(k: 784, outputs: 10))
        #expect(!prefersSampleLanes(k: 784, outputs: 20) && !prefersSampleLanes(k: 20, outputs: 4))
    }

    @Test func aRangeOfOutputsHasTheBitsOfTheWhole() {
        // A thread's share of the outputs, away from the first: the transposes back into y start at its offset.
        for (m, k, n, outputs) in [(32, 40, 30, 9 ..< 27), (48, 20, 17, 3 ..< 17), (16, 100, 40, 12 ..< 24)] {
            expectSameBits(m: m, k: k, n: n, outputs: outputs)
        }
    }
}
