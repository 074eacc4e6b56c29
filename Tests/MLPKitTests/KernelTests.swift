// Every SIMD dense-layer kernel against its naive twin, on awkward small shapes (to reach every tail
// and edge block) and on the shapes the networks really use.
import Testing
@testable import MLPKit
import TestSupport

/// Sizes around the SIMD widths (8, 16, 24) and block heights (3, 4), so every tail path runs.
private let smallSizes = [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33]

/// Layer shapes (inputs K → outputs N) that occur in the networks.
private let layerShapes: [(k: Int, n: Int)] = [
    (784, 20), (20, 10), (784, 40), (40, 20), (784, 512), (512, 256), (256, 128), (128, 2), (2, 128),
    (512, 784), (2, 100), (100, 2), (2, 1),
]

/// Shapes with N past the 64-row tiles of denseBackwardInput, ending in a partial tile, with tails.
private let oddLargeShapes: [(m: Int, k: Int, n: Int)] = [(5, 37, 300), (17, 100, 257), (4, 9, 129)]

/// Every (M, K, N) the batched kernels are checked on.
private let denseShapes: [(m: Int, k: Int, n: Int)] = {
    var shapes: [(m: Int, k: Int, n: Int)] = []
    for m in smallSizes { for k in smallSizes { for n in smallSizes { shapes.append((m, k, n)) } } }
    for m in [1, 16] { for s in layerShapes { shapes.append((m, s.k, s.n)) } }
    return shapes + oddLargeShapes
}()

/// Every (K, N) the batch-1 kernels are checked on.
private let vectorShapes: [(k: Int, n: Int)] = {
    var shapes: [(k: Int, n: Int)] = []
    for k in smallSizes { for n in smallSizes { shapes.append((k, n)) } }
    return shapes + layerShapes + oddLargeShapes.map { ($0.k, $0.n) }
}()

/// SplitMix64: a seeded generator, so a failure reproduces exactly.
private struct SplitMix {
    var state: UInt64

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A float in [-1, 1).
    mutating func float() -> Float {
        Float(Int64(bitPattern: next()) >> 40) / Float(1 << 23)
    }
}

/// A float buffer inside an `Arena`, with guard zones of sentinels on both sides to catch a kernel
/// writing outside its output.
private struct Buffer {
    /// Floats in each guard zone: more than one SIMD store.
    static let guardCount = 16
    /// A NaN with a payload no kernel would produce; compared by bit pattern.
    static let sentinel = Float(bitPattern: 0x7FC0_BEEF)

    /// The buffer's first float.
    let p: UnsafeMutablePointer<Float>
    let count: Int

    /// Whether both guard zones still hold only sentinels.
    var guardsIntact: Bool {
        let before = p - Buffer.guardCount, after = p + count
        for i in 0..<Buffer.guardCount {
            if before[i].bitPattern != Buffer.sentinel.bitPattern { return false }
            if after[i].bitPattern != Buffer.sentinel.bitPattern { return false }
        }
        return true
    }
}

/// Owns the test buffers and the random generator. Buffers are plain pointers, freed together by
/// `reset`: a class per buffer could be freed by the optimiser right after its pointer is read, while
/// a kernel still uses it.
private final class Arena {
    private var blocks: [UnsafeMutablePointer<Float>] = []
    private var rng: SplitMix

    init(seed: UInt64) { rng = SplitMix(state: seed) }

    /// `count` random floats in [-1, 1).
    func random(_ count: Int) -> Buffer {
        let b = empty(count)
        for i in 0..<count { b.p[i] = rng.float() }
        return b
    }

    /// A copy of `other`, with its own guard zones.
    func copy(_ other: Buffer) -> Buffer {
        let b = empty(other.count)
        b.p.update(from: other.p, count: other.count)
        return b
    }

    /// A copy holding absolute values: running the naive twin on these gives Σ|terms| per output.
    func magnitudes(_ other: Buffer) -> Buffer {
        let b = copy(other)
        for i in 0..<b.count { b.p[i] = abs(b.p[i]) }
        return b
    }

    /// Frees every buffer handed out so far.
    func reset() {
        for base in blocks { base.deallocate() }
        blocks.removeAll()
    }

    /// `count` sentinels between the guard zones.
    private func empty(_ count: Int) -> Buffer {
        let base = UnsafeMutablePointer<Float>.allocate(capacity: count + 2 * Buffer.guardCount)
        base.initialize(repeating: Buffer.sentinel, count: count + 2 * Buffer.guardCount)
        blocks.append(base)
        return Buffer(p: base + Buffer.guardCount, count: count)
    }

    deinit { reset() }
}

/// Checks a kernel's output against its naive twin's, and that the kernel stayed inside its buffer.
///
/// The SIMD kernels add in a different order (several partial sums, FMA), so results are not bitwise
/// equal. Any order of summing `terms` products satisfies |computed − exact| ≤ terms·u·Σ|terms| to
/// first order (u = 2⁻²⁴, half of `ulpOfOne`), so two orders differ by at most terms·ulpOfOne·Σ|terms|;
/// `bound` holds Σ|terms| per output (the naive twin run on absolute values). A wrong index or a
/// dropped term is off by about one whole term, far outside this on every shape tested.
private func expectClose(_ got: Buffer, _ want: Buffer, bound: Buffer, terms: Int, _ what: String,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    // The factor has two spare terms: one for the bias or starting value, one for rounding in `bound`.
    let factor = Float(terms + 2) * Float.ulpOfOne
    var worst: Float = 0, allowed: Float = 0, worstIndex = -1, failures = 0
    for i in 0..<got.count {
        let diff = abs(got.p[i] - want.p[i]), tolerance = factor * bound.p[i]
        if !(diff <= tolerance) {
            failures += 1
            if !(diff <= worst) { worst = diff; allowed = tolerance; worstIndex = i }
        }
    }
    let worstText = "worst at \(worstIndex): difference \(worst), allowed \(allowed)"
    #expect(failures == 0, "\(what): \(failures) of \(got.count) outputs off; \(worstText)",
            sourceLocation: sourceLocation)
    #expect(got.guardsIntact, "\(what): wrote outside its output", sourceLocation: sourceLocation)
}

/// Each test runs one kernel over every shape; a failure names the shape and the worst difference.
@Suite struct KernelTests {
    /// Splits 0..<count at multiples of `step` into the pieces a layer's blocks and some uneven others.
    func partitions(_ count: Int, step: Int) -> [[Range<Int>]] {
        var cuts = Array(stride(from: 0, through: count, by: step))
        if cuts.last != count { cuts.append(count) }
        let even = zip(cuts, cuts.dropFirst()).map { $0..<$1 }
        let half = min(count, (count / 2 + step - 1) / step * step)
        return [even, [0..<half, half..<count].filter { !$0.isEmpty }]
    }

    @Test func blocksOfALayerGiveTheWholeKernelsBits() {
        // Every element is formed the same way whatever the block, so the blocks of any split, run in any order,
        // give the bits of the whole call: what lets threads share a layer without changing the training.
        for (m, k, n) in [(16, 300, 110), (8, 33, 17), (20, 49, 97), (4, 784, 50), (12, 24, 9)] {
            let x = randomValues(m * k, seed: 1), w = randomValues(n * k, seed: 2), b = randomValues(n, seed: 3)
            let dy = randomValues(m * n, seed: 4)
            x.withUnsafeBufferPointer { x in w.withUnsafeBufferPointer { w in b.withUnsafeBufferPointer { b in
            dy.withUnsafeBufferPointer { dy in
                let rows = denseBlockRows(m: m, k: k)
                var whole = [Float](repeating: 0, count: m * n), parts = whole
                denseForward(&whole, x.baseAddress!, w.baseAddress!, b.baseAddress!, m: m, k: k, n: n)
                for split in partitions(n, step: 3) {
                    for range in split.reversed() {
                        denseForwardBlock(&parts, x.baseAddress!, w.baseAddress!, b.baseAddress!, rows: rows, k: k,
                                          n: n, outputs: range)
                    }
                    denseForwardTail(&parts, x.baseAddress!, w.baseAddress!, b.baseAddress!, from: rows, m: m, k: k,
                                     n: n)
                    #expect(firstMismatch(parts, whole) == nil, "forward \(m)×\(k)×\(n) split \(split)")
                }
                var dxWhole = [Float](repeating: 0, count: m * k), dxParts = dxWhole
                denseBackwardInput(&dxWhole, dy.baseAddress!, w.baseAddress!, m: m, k: k, n: n)
                for split in partitions(k, step: 24) {
                    for range in split.reversed() {
                        denseBackwardInputBlock(&dxParts, dy.baseAddress!, w.baseAddress!, rows: m & ~3, k: k, n: n,
                                                inputs: range)
                    }
                    denseBackwardInputTail(&dxParts, dy.baseAddress!, w.baseAddress!, from: m & ~3, m: m, k: k, n: n)
                    #expect(firstMismatch(dxParts, dxWhole) == nil, "dx \(m)×\(k)×\(n) split \(split)")
                }
                // dx as the parts of W's row tiles (formed in reverse order, as threads owning them might), then
                // summed by blocks of columns: the same bits again.
                let tiles = (n + backwardInputTile - 1) / backwardInputTile, rows4 = m & ~3
                var tileParts = [Float](repeating: .nan, count: max(tiles * rows4 * k, 1))
                var dxSummed = [Float](repeating: .nan, count: m * k)
                tileParts.withUnsafeMutableBufferPointer { parts in
                    for t in (0..<tiles).reversed() {
                        denseBackwardInputPart(parts.baseAddress! + t * rows4 * k, dy.baseAddress!, w.baseAddress!,
                                               rows: rows4, k: k, n: n,
                                               outputs: t * backwardInputTile ..< min(n, (t + 1) * backwardInputTile))
                    }
                }
                for range in partitions(k, step: 24)[0] {
                    denseSumParts(&dxSummed, tileParts, count: tiles, rows: rows4, k: k, inputs: range)
                }
                denseBackwardInputTail(&dxSummed, dy.baseAddress!, w.baseAddress!, from: rows4, m: m, k: k, n: n)
                #expect(firstMismatch(dxSummed, dxWhole) == nil, "dx from parts \(m)×\(k)×\(n)")
                for write in [GradientWrite.overwrite, .descend(learningRate: 0.1)] {
                    var dwWhole = w.map { $0 }, dbWhole = b.map { $0 }
                    denseBackwardWeights(&dwWhole, &dbWhole, dy.baseAddress!, x.baseAddress!, m: m, k: k, n: n,
                                         write: write)
                    for split in partitions(n, step: 8) {
                        var dwParts = w.map { $0 }, dbParts = b.map { $0 }
                        for range in split.reversed() {
                            denseBackwardWeightsBlock(&dwParts, &dbParts, dy.baseAddress!, x.baseAddress!, m: m, k: k,
                                                      n: n, write: write, outputs: range)
                        }
                        #expect(firstMismatch(dwParts, dwWhole) == nil && firstMismatch(dbParts, dbWhole) == nil,
                                "dW \(m)×\(k)×\(n) \(write) split \(split)")
                    }
                }
            }}}}
        }
    }

    @Test func denseForwardMatchesNaive() {
        let a = Arena(seed: 1)
        for (m, k, n) in denseShapes {
            defer { a.reset() }  // frees this shape's buffers
            let x = a.random(m * k), w = a.random(n * k), b = a.random(n)
            // Start y off random, to prove the kernel overwrites it.
            let y = a.random(m * n), want = a.random(m * n), bound = a.random(m * n)
            denseForward(y.p, x.p, w.p, b.p, m: m, k: k, n: n)
            denseForwardNaive(want.p, x.p, w.p, b.p, m: m, k: k, n: n)
            denseForwardNaive(bound.p, a.magnitudes(x).p, a.magnitudes(w).p, a.magnitudes(b).p, m: m, k: k, n: n)
            expectClose(y, want, bound: bound, terms: k + 1, "denseForward M=\(m) K=\(k) N=\(n)")
        }
    }

    @Test func denseBackwardInputMatchesNaive() {
        let a = Arena(seed: 2)
        for (m, k, n) in denseShapes {
            defer { a.reset() }  // frees this shape's buffers
            let dy = a.random(m * n), w = a.random(n * k)
            let dx = a.random(m * k), want = a.random(m * k), bound = a.random(m * k)
            denseBackwardInput(dx.p, dy.p, w.p, m: m, k: k, n: n)
            denseBackwardInputNaive(want.p, dy.p, w.p, m: m, k: k, n: n)
            denseBackwardInputNaive(bound.p, a.magnitudes(dy).p, a.magnitudes(w).p, m: m, k: k, n: n)
            expectClose(dx, want, bound: bound, terms: n, "denseBackwardInput M=\(m) K=\(k) N=\(n)")
        }
    }

    @Test func denseBackwardWeightsMatchesNaive() {
        let a = Arena(seed: 3)
        for (m, k, n) in denseShapes {
            defer { a.reset() }  // frees this shape's buffers
            let dy = a.random(m * n), x = a.random(m * k)
            // Non-zero starting gradients: the kernel must add to them, not overwrite them.
            let dw = a.random(n * k), db = a.random(n)
            let wantW = a.copy(dw), wantB = a.copy(db)
            let boundW = a.magnitudes(dw), boundB = a.magnitudes(db)
            denseBackwardWeights(dw.p, db.p, dy.p, x.p, m: m, k: k, n: n)
            denseBackwardWeightsNaive(wantW.p, wantB.p, dy.p, x.p, m: m, k: k, n: n)
            denseBackwardWeightsNaive(boundW.p, boundB.p, a.magnitudes(dy).p, a.magnitudes(x).p, m: m, k: k, n: n)
            expectClose(dw, wantW, bound: boundW, terms: m + 1, "denseBackwardWeights dw M=\(m) K=\(k) N=\(n)")
            expectClose(db, wantB, bound: boundB, terms: m + 1, "denseBackwardWeights db M=\(m) K=\(k) N=\(n)")
        }
    }

    @Test func denseBackwardWeightsOverwriteAndDescendMatchNaive() {
        let a = Arena(seed: 13)
        let rate: Float = 0.375
        for (m, k, n) in denseShapes {
            defer { a.reset() }
            let dy = a.random(m * n), x = a.random(m * k)
            // Overwrite: whatever dw held before must not matter.
            let dw = a.random(n * k), db = a.random(n)
            let wantW = a.copy(dw), wantB = a.copy(db)
            denseBackwardWeights(dw.p, db.p, dy.p, x.p, m: m, k: k, n: n, write: .overwrite)
            denseBackwardWeightsNaive(wantW.p, wantB.p, dy.p, x.p, m: m, k: k, n: n, write: .overwrite)
            let boundW = a.copy(wantW), boundB = a.copy(wantB)
            denseBackwardWeightsNaive(boundW.p, boundB.p, a.magnitudes(dy).p, a.magnitudes(x).p, m: m, k: k, n: n,
                                      write: .overwrite)
            expectClose(dw, wantW, bound: boundW, terms: m + 1, "overwrite dw M=\(m) K=\(k) N=\(n)")
            expectClose(db, wantB, bound: boundB, terms: m + 1, "overwrite db M=\(m) K=\(k) N=\(n)")

            // Descend: w −= rate·g, and bit for bit what overwrite + the SGD rule over that buffer gives (the step of
            // several shards, or across processes; for one sample, what rank1Step gives: per-sample SGD's update).
            let w = a.random(n * k), b = a.random(n)
            let viaBuffer = a.copy(w), viaBufferB = a.copy(b), naiveW = a.copy(w), naiveB = a.copy(b)
            let boundDW = a.magnitudes(w), boundDB = a.magnitudes(b)
            denseBackwardWeights(w.p, b.p, dy.p, x.p, m: m, k: k, n: n, write: .descend(learningRate: rate))
            denseBackwardWeightsNaive(naiveW.p, naiveB.p, dy.p, x.p, m: m, k: k, n: n,
                                      write: .descend(learningRate: rate))
            denseBackwardWeightsNaive(boundDW.p, boundDB.p, a.magnitudes(dy).p, a.magnitudes(x).p, m: m, k: k, n: n,
                                      write: .descend(learningRate: -rate))
            expectClose(w, naiveW, bound: boundDW, terms: m + 2, "descend w M=\(m) K=\(k) N=\(n)")
            expectClose(b, naiveB, bound: boundDB, terms: m + 2, "descend b M=\(m) K=\(k) N=\(n)")
            if m == 1 {
                rank1Step(viaBuffer.p, viaBufferB.p, dy.p, x.p, scale: -rate, k: k, n: n)
                let same = (0..<(n * k)).allSatisfy { viaBuffer.p[$0].bitPattern == w.p[$0].bitPattern }
                    && (0..<n).allSatisfy { viaBufferB.p[$0].bitPattern == b.p[$0].bitPattern }
                #expect(same, "descend differs from rank1Step, K=\(k) N=\(n)")
            } else {
                applyUpdate(.sgd(rate), viaBuffer.p, range: 0..<(n * k), gradient: dw.p)
                applyUpdate(.sgd(rate), viaBufferB.p, range: 0..<n, gradient: db.p)
                let same = (0..<(n * k)).allSatisfy { viaBuffer.p[$0].bitPattern == w.p[$0].bitPattern }
                    && (0..<n).allSatisfy { viaBufferB.p[$0].bitPattern == b.p[$0].bitPattern }
                #expect(same, "descend differs from overwrite + the SGD rule, M=\(m) K=\(k) N=\(n)")
            }
        }
    }

    @Test func matVecMatchesNaive() {
        let a = Arena(seed: 4)
        for (k, n) in vectorShapes {
            defer { a.reset() }  // frees this shape's buffers
            let w = a.random(n * k), x = a.random(k), b = a.random(n)
            let y = a.random(n), want = a.random(n), bound = a.random(n)
            matVec(y.p, w.p, x.p, b.p, k: k, n: n)
            matVecNaive(want.p, w.p, x.p, b.p, k: k, n: n)
            matVecNaive(bound.p, a.magnitudes(w).p, a.magnitudes(x).p, a.magnitudes(b).p, k: k, n: n)
            expectClose(y, want, bound: bound, terms: k + 1, "matVec K=\(k) N=\(n)")
        }
    }

    @Test func matVecDescendingHasMatVecsBits() {
        // Row counts around the blocks of 64 and the groups of 4; every output written, guards intact.
        let a = Arena(seed: 9)
        for (k, n) in [(784, 1), (784, 3), (50, 63), (50, 64), (7, 65), (130, 130), (33, 200)] {
            defer { a.reset() }
            let w = a.random(n * k), x = a.random(k), b = a.random(n)
            let y = a.random(n), want = a.random(n)
            matVecDescending(y.p, w.p, x.p, b.p, k: k, n: n)
            matVec(want.p, w.p, x.p, b.p, k: k, n: n)
            let same = (0..<n).allSatisfy { y.p[$0].bitPattern == want.p[$0].bitPattern }
            #expect(same && y.guardsIntact, "matVecDescending K=\(k) N=\(n)")
        }
    }

    @Test func vecMatMatchesNaive() {
        let a = Arena(seed: 5)
        for (k, n) in vectorShapes {
            defer { a.reset() }  // frees this shape's buffers
            let dy = a.random(n), w = a.random(n * k)
            let dx = a.random(k), want = a.random(k), bound = a.random(k)
            vecMat(dx.p, dy.p, w.p, k: k, n: n)
            vecMatNaive(want.p, dy.p, w.p, k: k, n: n)
            vecMatNaive(bound.p, a.magnitudes(dy).p, a.magnitudes(w).p, k: k, n: n)
            expectClose(dx, want, bound: bound, terms: n, "vecMat K=\(k) N=\(n)")
        }
    }

    @Test func rank1UpdateMatchesNaive() {
        let a = Arena(seed: 6)
        for (k, n) in vectorShapes {
            defer { a.reset() }  // frees this shape's buffers
            let dy = a.random(n), x = a.random(k)
            let dw = a.random(n * k), db = a.random(n)
            let wantW = a.copy(dw), wantB = a.copy(db)
            let boundW = a.magnitudes(dw), boundB = a.magnitudes(db)
            rank1Update(dw.p, db.p, dy.p, x.p, k: k, n: n)
            rank1UpdateNaive(wantW.p, wantB.p, dy.p, x.p, k: k, n: n)
            rank1UpdateNaive(boundW.p, boundB.p, a.magnitudes(dy).p, a.magnitudes(x).p, k: k, n: n)
            expectClose(dw, wantW, bound: boundW, terms: 2, "rank1Update dw K=\(k) N=\(n)")
            expectClose(db, wantB, bound: boundB, terms: 2, "rank1Update db K=\(k) N=\(n)")
        }
    }

    @Test func rank1StepMatchesNaive() {
        let a = Arena(seed: 7)
        let scale: Float = -0.37
        for (k, n) in vectorShapes {
            defer { a.reset() }  // frees this shape's buffers
            let dy = a.random(n), x = a.random(k)
            let w = a.random(n * k), b = a.random(n)
            let wantW = a.copy(w), wantB = a.copy(b)
            let boundW = a.magnitudes(w), boundB = a.magnitudes(b)
            rank1Step(w.p, b.p, dy.p, x.p, scale: scale, k: k, n: n)
            rank1StepNaive(wantW.p, wantB.p, dy.p, x.p, scale: scale, k: k, n: n)
            rank1StepNaive(boundW.p, boundB.p, a.magnitudes(dy).p, a.magnitudes(x).p, scale: -scale, k: k, n: n)
            expectClose(w, wantW, bound: boundW, terms: 3, "rank1Step w K=\(k) N=\(n)")
            expectClose(b, wantB, bound: boundB, terms: 3, "rank1Step b K=\(k) N=\(n)")
        }
    }

    /// The batched kernels at M == 1 must agree with the batch-1 kernels they hand over to.
    @Test func batchOfOneMatchesVectorKernels() {
        let a = Arena(seed: 8)
        for (k, n) in layerShapes {
            defer { a.reset() }  // frees this shape's buffers
            let x = a.random(k), w = a.random(n * k), b = a.random(n), dy = a.random(n)
            let y1 = a.random(n), y2 = a.random(n)
            denseForward(y1.p, x.p, w.p, b.p, m: 1, k: k, n: n)
            matVec(y2.p, w.p, x.p, b.p, k: k, n: n)
            let dx1 = a.random(k), dx2 = a.random(k)
            denseBackwardInput(dx1.p, dy.p, w.p, m: 1, k: k, n: n)
            vecMat(dx2.p, dy.p, w.p, k: k, n: n)
            let dw1 = a.random(n * k), db1 = a.random(n)
            let dw2 = a.copy(dw1), db2 = a.copy(db1)
            denseBackwardWeights(dw1.p, db1.p, dy.p, x.p, m: 1, k: k, n: n)
            rank1Update(dw2.p, db2.p, dy.p, x.p, k: k, n: n)
            for (lhs, rhs, what) in [(y1, y2, "forward"), (dx1, dx2, "backward input"), (dw1, dw2, "dw"),
                                     (db1, db2, "db")] {
                let same = (0..<lhs.count).allSatisfy { lhs.p[$0].bitPattern == rhs.p[$0].bitPattern }
                #expect(same, "\(what) at M=1 differs from the batch-1 kernel, K=\(k) N=\(n)")
            }
        }
    }

    /// With no outputs or no inputs the kernels must still leave a well-defined result: y = b, dx = 0,
    /// and gradients unchanged.
    @Test func emptyDimensions() {
        let a = Arena(seed: 9)
        for (m, k, n) in [(4, 0, 5), (1, 0, 5), (4, 5, 0), (1, 5, 0), (0, 5, 5)] {
            defer { a.reset() }  // frees this shape's buffers
            let x = a.random(m * k), w = a.random(n * k), b = a.random(n), dy = a.random(m * n)
            let y = a.random(m * n), want = a.random(m * n)
            denseForward(y.p, x.p, w.p, b.p, m: m, k: k, n: n)
            denseForwardNaive(want.p, x.p, w.p, b.p, m: m, k: k, n: n)
            let dx = a.random(m * k), wantDx = a.random(m * k)
            denseBackwardInput(dx.p, dy.p, w.p, m: m, k: k, n: n)
            denseBackwardInputNaive(wantDx.p, dy.p, w.p, m: m, k: k, n: n)
            let dw = a.random(n * k), db = a.random(n)
            let wantW = a.copy(dw), wantB = a.copy(db)
            denseBackwardWeights(dw.p, db.p, dy.p, x.p, m: m, k: k, n: n)
            denseBackwardWeightsNaive(wantW.p, wantB.p, dy.p, x.p, m: m, k: k, n: n)
            for (got, expected) in [(y, want), (dx, wantDx), (dw, wantW), (db, wantB)] {
                #expect((0..<got.count).allSatisfy { got.p[$0] == expected.p[$0] }, "M=\(m) K=\(k) N=\(n)")
                #expect(got.guardsIntact, "M=\(m) K=\(k) N=\(n): wrote outside its output")
            }
        }
    }
}
