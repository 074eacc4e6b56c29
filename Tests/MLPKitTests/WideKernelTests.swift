// The 16-lane kernels against the 8-lane ones, bit for bit, on shapes that reach their tiles and every tail: the
// width is chosen by speed on each machine, so it must never change a result.
import Testing
@testable import MLPKit
import TestSupport

@Suite struct WideKernelTests {
    /// Batches around the tiles' 4 and 8 rows, inputs around the strips of 48 and the vectors of 8 and 16, outputs
    /// around the forward tile's 12 and dW's 8; plus the homework's shape, and batches of 32 or more (the forward
    /// pass packs W's tile) with K over 256 (several passes over the inputs), and over 128 (blocks of samples), with
    /// few tiles of 12 outputs (x read in place) and more than 8 (x packed).
    static let shapes: [(m: Int, k: Int, n: Int)] = {
        var shapes: [(m: Int, k: Int, n: Int)] = []
        for m in [2, 4, 8, 13] {
            for k in [7, 8, 17, 47, 48, 57, 100] {
                for n in [1, 11, 12, 13, 25, 50] { shapes.append((m, k, n)) }
            }
        }
        return shapes + [(16, 784, 512), (20, 131, 97), (128, 256, 96), (32, 300, 30), (36, 523, 25),
                         (140, 70, 26), (64, 300, 121), (132, 784, 40), (132, 300, 110)]
    }()

    /// Runs `body` with each width and expects the same bits in `output` (reset from `start` before each).
    func expectSameBits(_ start: [Float], _ what: String,
                        _ body: (_ output: UnsafeMutablePointer<Float>, _ wide: Bool) -> Void) {
        var narrow = start, wide = start
        narrow.withUnsafeMutableBufferPointer { body($0.baseAddress!, false) }
        wide.withUnsafeMutableBufferPointer { body($0.baseAddress!, true) }
        #expect(firstMismatch(wide, narrow) == nil, "\(what)")
    }

    @Test func forwardHasTheBitsOfEightLanes() {
        for (m, k, n) in Self.shapes {
            let x = randomValues(m * k, seed: 1), w = randomValues(n * k, seed: 2), b = randomValues(n, seed: 3)
            let y = [Float](repeating: .nan, count: m * n)
            expectSameBits(y, "forward \(m)×\(k)×\(n)") { y, wide in
                denseForward(y, x, w, b, m: m, k: k, n: n, wide: wide)
            }
            // Blocks of 3 outputs, in reverse, as threads may run them.
            let rows = denseBlockRows(m: m, k: k)
            expectSameBits(y, "forward blocks \(m)×\(k)×\(n)") { y, wide in
                for start in stride(from: 0, to: n, by: 3).reversed() {
                    denseForwardBlock(y, x, w, b, rows: rows, k: k, n: n, outputs: start ..< min(n, start + 3),
                                      wide: wide)
                }
            }
        }
    }

    @Test func inputGradientHasTheBitsOfEightLanes() {
        for (m, k, n) in Self.shapes {
            let dy = randomValues(m * n, seed: 4), w = randomValues(n * k, seed: 5)
            let dx = [Float](repeating: .nan, count: m * k)
            expectSameBits(dx, "dx \(m)×\(k)×\(n)") { dx, wide in
                denseBackwardInput(dx, dy, w, m: m, k: k, n: n, wide: wide)
            }
            // Blocks of 24 inputs, the cut the plan makes.
            expectSameBits(dx, "dx blocks \(m)×\(k)×\(n)") { dx, wide in
                for start in stride(from: 0, to: k, by: 24).reversed() {
                    denseBackwardInputBlock(dx, dy, w, rows: m & ~3, k: k, n: n, inputs: start ..< min(k, start + 24),
                                            wide: wide)
                }
            }
        }
    }

    @Test func weightGradientHasTheBitsOfEightLanes() {
        for (m, k, n) in Self.shapes {
            let dy = randomValues(m * n, seed: 6), x = randomValues(m * k, seed: 7)
            let start = randomValues(n * k + n, seed: 8)
            for write in [GradientWrite.accumulate, .overwrite, .descend(learningRate: 0.25)] {
                expectSameBits(start, "dW \(write) \(m)×\(k)×\(n)") { p, wide in
                    denseBackwardWeights(p, p + n * k, dy, x, m: m, k: k, n: n, write: write, wide: wide)
                }
                // Blocks of 8 rows, in reverse.
                expectSameBits(start, "dW blocks \(write) \(m)×\(k)×\(n)") { p, wide in
                    guard m > 1 else { return }
                    for first in stride(from: 0, to: n, by: 8).reversed() {
                        denseBackwardWeightsBlock(p, p + n * k, dy, x, m: m, k: k, n: n, write: write,
                                                  outputs: first ..< min(n, first + 8), wide: wide)
                    }
                }
            }
        }
    }
}
