// Dense-layer kernels for a batch of M samples: SIMD, register-blocked versions of the naive twins in
// DenseNaive.swift, which define what each one computes. M == 1 goes to the batch-1 kernels in
// VectorKernels.swift.
//
// Conventions: row-major contiguous buffers, outputs first, sizes last. x is (M,K) — M samples of
// K inputs; w is (N,K) — N outputs by K inputs; b is (N); y and dy are (M,N); dx is (M,K).
// Every kernel accepts any M, K and N: the blocked loops are followed by narrower ones and scalar tails.
// Each blocked loop holds 12 SIMD8 accumulators, leaving 4 of AVX2's 16 vector registers for operands.
//
// Every kernel and every register-blocked block function is `@inline(never)`. Their code generation
// is fragile: inlined into a caller with constant sizes, or into a loop next to other code, LLVM
// split the SIMD8 accumulators into 128-bit halves and spilled them to the stack (measured 4–10×
// slower). Compiled on their own, the inner loops are just ymm loads, broadcasts and FMAs, and a
// call per block of several hundred FMAs costs about 1%.

// MARK: - Forward

/// y = x·wᵀ + b.   x is (M,K), w is (N,K), b is (N); y is (M,N). Overwrites y.
///
/// Both x and w are K-contiguous, so each output is a dot product. Blocks of 3 rows of W × 4 rows of x
/// share their loads (7 loads feed 12 FMAs). The outer loop walks W once: a 3-row block stays in L1
/// while all rows of x (small at these batch sizes) stream past it from L2. Rows shorter than one
/// SIMD vector go sample by sample to `matVec`, which has a path for them.
@inline(never)
func denseForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                  _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>, m: Int, k: Int, n: Int,
                  wide: Bool = VectorWidth.isWide) {
    let fullRows = denseBlockRows(m: m, k: k)
    denseForwardBlock(y, x, w, b, rows: fullRows, k: k, n: n, outputs: 0..<n, wide: wide)
    denseForwardTail(y, x, w, b, from: fullRows, m: m, k: k, n: n)
}

/// Rows the blocked kernels take (a multiple of 4; 0 when K is shorter than one SIMD vector); the rest go to
/// the batch-1 kernels one sample at a time (`denseForwardTail`, `denseBackwardInputTail`).
@inline(__always)
func denseBlockRows(m: Int, k: Int) -> Int { k < 8 ? 0 : m & ~3 }

/// y[0..<rows, outputs] = x[0..<rows]·w[outputs]ᵀ + b[outputs], rows a multiple of 4: the blocked part of
/// `denseForward`. Each output is formed the same way whatever `outputs` is, as long as its bounds are
/// multiples of 3 (or N), so disjoint ranges can run on different threads and give the same bits. `wide` runs it
/// with 16-lane vectors (WideKernels.swift), same bits.
@inline(never)
func denseForwardBlock(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                       _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>, rows: Int, k: Int, n: Int,
                       outputs: Range<Int>, wide: Bool = VectorWidth.isWide) {
    guard rows > 0 else { return }
    if wide {
        denseForwardBlockWide(y, x, w, b, rows: rows, k: k, n: n, outputs: outputs)
        return
    }
    var j = outputs.lowerBound
    while j &+ 3 <= outputs.upperBound {
        var r = 0
        while r < rows {
            forward4x3(y + (r &* n &+ j), x + r &* k, w + j &* k, b + j, k: k, n: n)
            r &+= 4
        }
        j &+= 3
    }
    while j < outputs.upperBound {
        var r = 0
        while r < rows {
            forward4x1(y + (r &* n &+ j), x + r &* k, w + j &* k, b + j, k: k, n: n)
            r &+= 4
        }
        j &+= 1
    }
}

/// Rows `from..<m` of `denseForward`, one sample at a time (`matVec`).
func denseForwardTail(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                      _ b: UnsafePointer<Float>, from: Int, m: Int, k: Int, n: Int) {
    var r = from
    while r < m {
        matVec(y + r &* n, w, x + r &* k, b, k: k, n: n)
        r &+= 1
    }
}

/// y[0..<4, 0..<3] = x[0..<4,:]·w[0..<3,:]ᵀ + b[0..<3].   x is 4 rows of stride K, w 3 rows of stride K,
/// y 4 rows of stride N.
@inline(never)
private func forward4x3(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                        _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>, k: Int, n: Int) {
    let x0 = x, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k
    let w0 = w, w1 = w0 + k, w2 = w1 + k
    var a00 = SIMD8<Float>(), a01 = SIMD8<Float>(), a02 = SIMD8<Float>()
    var a10 = SIMD8<Float>(), a11 = SIMD8<Float>(), a12 = SIMD8<Float>()
    var a20 = SIMD8<Float>(), a21 = SIMD8<Float>(), a22 = SIMD8<Float>()
    var a30 = SIMD8<Float>(), a31 = SIMD8<Float>(), a32 = SIMD8<Float>()
    var i = 0
    while i &+ 8 <= k {
        let v0 = load8(w0 + i), v1 = load8(w1 + i), v2 = load8(w2 + i)
        var u = load8(x0 + i)
        a00 = a00.addingProduct(u, v0); a01 = a01.addingProduct(u, v1); a02 = a02.addingProduct(u, v2)
        u = load8(x1 + i)
        a10 = a10.addingProduct(u, v0); a11 = a11.addingProduct(u, v1); a12 = a12.addingProduct(u, v2)
        u = load8(x2 + i)
        a20 = a20.addingProduct(u, v0); a21 = a21.addingProduct(u, v1); a22 = a22.addingProduct(u, v2)
        u = load8(x3 + i)
        a30 = a30.addingProduct(u, v0); a31 = a31.addingProduct(u, v1); a32 = a32.addingProduct(u, v2)
        i &+= 8
    }
    var s00 = horizontalSum(a00), s01 = horizontalSum(a01), s02 = horizontalSum(a02)
    var s10 = horizontalSum(a10), s11 = horizontalSum(a11), s12 = horizontalSum(a12)
    var s20 = horizontalSum(a20), s21 = horizontalSum(a21), s22 = horizontalSum(a22)
    var s30 = horizontalSum(a30), s31 = horizontalSum(a31), s32 = horizontalSum(a32)
    while i < k {
        let v0 = w0[i], v1 = w1[i], v2 = w2[i]
        var u = x0[i]
        s00 += u * v0; s01 += u * v1; s02 += u * v2
        u = x1[i]
        s10 += u * v0; s11 += u * v1; s12 += u * v2
        u = x2[i]
        s20 += u * v0; s21 += u * v1; s22 += u * v2
        u = x3[i]
        s30 += u * v0; s31 += u * v1; s32 += u * v2
        i &+= 1
    }
    let b0 = b[0], b1 = b[1], b2 = b[2]
    let y0 = y, y1 = y0 + n, y2 = y1 + n, y3 = y2 + n
    y0[0] = s00 + b0; y0[1] = s01 + b1; y0[2] = s02 + b2
    y1[0] = s10 + b0; y1[1] = s11 + b1; y1[2] = s12 + b2
    y2[0] = s20 + b0; y2[1] = s21 + b1; y2[2] = s22 + b2
    y3[0] = s30 + b0; y3[1] = s31 + b1; y3[2] = s32 + b2
}

/// y[0..<4, 0] = x[0..<4,:]·w[0,:] + b[0]: the last N % 3 columns of a 4-row block.
@inline(never)
private func forward4x1(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                        _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>, k: Int, n: Int) {
    let x0 = x, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
    var i = 0
    while i &+ 8 <= k {
        let v = load8(w + i)
        a0 = a0.addingProduct(load8(x0 + i), v); a1 = a1.addingProduct(load8(x1 + i), v)
        a2 = a2.addingProduct(load8(x2 + i), v); a3 = a3.addingProduct(load8(x3 + i), v)
        i &+= 8
    }
    var s0 = horizontalSum(a0), s1 = horizontalSum(a1), s2 = horizontalSum(a2), s3 = horizontalSum(a3)
    while i < k {
        let v = w[i]
        s0 += x0[i] * v; s1 += x1[i] * v; s2 += x2[i] * v; s3 += x3[i] * v
        i &+= 1
    }
    let b0 = b[0]
    y[0] = s0 + b0; y[n] = s1 + b0; y[n &* 2] = s2 + b0; y[n &* 3] = s3 + b0
}

// MARK: - Backward, input gradient

/// dx = dy·w.   dy is (M,N), w is (N,K); dx is (M,K). Overwrites dx.
///
/// dx and w are both K-contiguous, so SIMD runs across i: a 4-row × 24-column block of dx stays in
/// registers while rows j of W are added in (3 loads of W and 4 broadcasts of dy feed 12 FMAs).
/// The rows of W are taken in tiles of `backwardInputTile` (the blocks of `StepPlan`), and within a tile
/// the column strips are the outer loop, so the tile×24 strip of W read for the first 4 samples is still in
/// cache for the next ones (a whole N×24 strip is not: its rows are K floats apart, often a power of two, and
/// collide in the cache's sets). Each tile's sum is formed from zero and then added to dx, tile after tile:
/// dx = ((P₀ + P₁) + P₂) + …, where P_t is tile t's part. So threads can form the tiles' parts apart, each from
/// the rows of W it owns (`denseBackwardInputPart`), and add them up in order (`denseSumParts`) with these bits.
@inline(never)
func denseBackwardInput(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                        _ w: UnsafePointer<Float>, m: Int, k: Int, n: Int, wide: Bool = VectorWidth.isWide) {
    // Samples taken in blocks of 4; the rest (all of them when M == 1) go one at a time to vecMat.
    let fullRows = m & ~3
    denseBackwardInputBlock(dx, dy, w, rows: fullRows, k: k, n: n, inputs: 0..<k, wide: wide)
    denseBackwardInputTail(dx, dy, w, from: fullRows, m: m, k: k, n: n)
}

/// dx[0..<rows, inputs] = dy[0..<rows]·w[:, inputs], rows a multiple of 4: the blocked part of
/// `denseBackwardInput`. Each element is formed the same way whatever `inputs` is, as long as its bounds are
/// multiples of 24 (or K), so disjoint ranges can run on different threads and give the same bits.
@inline(never)
func denseBackwardInputBlock(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                             _ w: UnsafePointer<Float>, rows fullRows: Int, k: Int, n: Int, inputs: Range<Int>,
                             wide: Bool = VectorWidth.isWide) {
    guard fullRows > 0 else { return }
    var j = 0
    repeat {
        // The first tile overwrites dx (even when N is 0), later ones add to it.
        backwardInputTileSum(dx, dy, w, rows: fullRows, k: k, n: n, inputs: inputs,
                             outputs: j ..< min(n, j &+ backwardInputTile), add: j > 0, wide: wide)
        j &+= backwardInputTile
    } while j < n
}

/// P_t = dy[0..<rows, outputs]·w[outputs, :], rows a multiple of 4: tile t's part of `denseBackwardInputBlock`
/// (`outputs` is tile t: `t·backwardInputTile ..< min(N, (t + 1)·backwardInputTile)`), written to `part`
/// (rows × K). `denseSumParts` adds the parts of all the tiles into dx with `denseBackwardInputBlock`'s bits.
@inline(never)
func denseBackwardInputPart(_ part: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                            rows: Int, k: Int, n: Int, outputs: Range<Int>) {
    guard rows > 0 else { return }
    backwardInputTileSum(part, dy, w, rows: rows, k: k, n: n, inputs: 0..<k, outputs: outputs, add: false)
}

/// dx[0..<rows, inputs] = ((P₀ + P₁) + P₂) + … over the `count` parts of `denseBackwardInputPart`, which lie
/// `rows × K` floats apart from `parts`: the columns `inputs` of `denseBackwardInputBlock`, same bits.
@inline(never)
func denseSumParts(_ dx: UnsafeMutablePointer<Float>, _ parts: UnsafePointer<Float>, count: Int, rows: Int, k: Int,
                   inputs: Range<Int>) {
    let partSize = rows &* k
    var r = 0
    while r < rows {
        let row = r &* k
        var i = inputs.lowerBound
        while i &+ 8 <= inputs.upperBound {
            var sum = load8(parts + (row &+ i))
            var t = 1
            while t < count {
                sum += load8(parts + (t &* partSize &+ row &+ i))
                t &+= 1
            }
            store8(sum, dx + (row &+ i))
            i &+= 8
        }
        while i < inputs.upperBound {
            var sum = parts[row &+ i]
            var t = 1
            while t < count {
                sum += parts[t &* partSize &+ row &+ i]
                t &+= 1
            }
            dx[row &+ i] = sum
            i &+= 1
        }
        r &+= 1
    }
}

/// dx[0..<rows, inputs] (+)= dy[0..<rows, outputs]·w[outputs, inputs]: one tile's part, formed from zero, then
/// written or (with `add`) added to dx. `wide` runs it with 16-lane vectors (WideKernels.swift), same bits.
@inline(__always)
func backwardInputTileSum(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                          _ w: UnsafePointer<Float>, rows fullRows: Int, k: Int, n: Int, inputs: Range<Int>,
                          outputs: Range<Int>, add: Bool, wide: Bool = VectorWidth.isWide) {
    if wide {
        backwardInputTileSumWide(dx, dy, w, rows: fullRows, k: k, n: n, inputs: inputs, outputs: outputs, add: add)
        return
    }
    let count = outputs.count
    let dyTile = dy + outputs.lowerBound, wTile = w + outputs.lowerBound &* k
    var i = inputs.lowerBound
    while i &+ 24 <= inputs.upperBound {
        var r = 0
        while r < fullRows {
            backwardInput4x24(dx + (r &* k &+ i), dyTile + r &* n, wTile + i, count: count, add: add, k: k, n: n)
            r &+= 4
        }
        i &+= 24
    }
    while i &+ 8 <= inputs.upperBound {
        var r = 0
        while r < fullRows {
            backwardInput4x8(dx + (r &* k &+ i), dyTile + r &* n, wTile + i, count: count, add: add, k: k, n: n)
            r &+= 4
        }
        i &+= 8
    }
    while i < inputs.upperBound {
        var r = 0
        while r < fullRows {
            backwardInput4x1(dx + (r &* k &+ i), dyTile + r &* n, wTile + i, count: count, add: add, k: k, n: n)
            r &+= 4
        }
        i &+= 1
    }
}

/// Rows `from..<m` of `denseBackwardInput`, one sample at a time (`vecMat`).
func denseBackwardInputTail(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                            _ w: UnsafePointer<Float>, from: Int, m: Int, k: Int, n: Int) {
    var r = from
    while r < m {
        vecMat(dx + r &* k, dy + r &* n, w, k: k, n: n)
        r &+= 1
    }
}

/// Rows of W per tile in denseBackwardInput: the blocks threads own (`StepPlan.blockSize`), so a thread can form
/// the parts of the rows it owns. A tile's 24-column strip (48 × 96 bytes) stays in L1/L2 even when K is a power
/// of two (tiles of 64 measured the same; 32 and 128 slower).
let backwardInputTile = StepPlan.blockSize

/// dx[0..<4, 0..<24] (+)= dy[0..<4, 0..<count]·w[0..<count, 0..<24]: the sum is formed from zero, then added
/// to dx (`add`) or written over it. dx rows have stride K, dy rows stride N, w rows stride K.
@inline(never)
private func backwardInput4x24(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                               _ w: UnsafePointer<Float>, count: Int, add: Bool, k: Int, n: Int) {
    let d0 = dy, d1 = d0 + n, d2 = d1 + n, d3 = d2 + n
    let dx0 = dx, dx1 = dx0 + k, dx2 = dx1 + k, dx3 = dx2 + k
    var a00 = SIMD8<Float>(), a01 = SIMD8<Float>(), a02 = SIMD8<Float>()
    var a10 = SIMD8<Float>(), a11 = SIMD8<Float>(), a12 = SIMD8<Float>()
    var a20 = SIMD8<Float>(), a21 = SIMD8<Float>(), a22 = SIMD8<Float>()
    var a30 = SIMD8<Float>(), a31 = SIMD8<Float>(), a32 = SIMD8<Float>()
    var row = w
    var j = 0
    while j < count {
        let v0 = load8(row), v1 = load8(row + 8), v2 = load8(row + 16)
        var d = splat(d0[j])
        a00 = a00.addingProduct(d, v0); a01 = a01.addingProduct(d, v1); a02 = a02.addingProduct(d, v2)
        d = splat(d1[j])
        a10 = a10.addingProduct(d, v0); a11 = a11.addingProduct(d, v1); a12 = a12.addingProduct(d, v2)
        d = splat(d2[j])
        a20 = a20.addingProduct(d, v0); a21 = a21.addingProduct(d, v1); a22 = a22.addingProduct(d, v2)
        d = splat(d3[j])
        a30 = a30.addingProduct(d, v0); a31 = a31.addingProduct(d, v1); a32 = a32.addingProduct(d, v2)
        row += k
        j &+= 1
    }
    if add {
        a00 += load8(dx0); a01 += load8(dx0 + 8); a02 += load8(dx0 + 16)
        a10 += load8(dx1); a11 += load8(dx1 + 8); a12 += load8(dx1 + 16)
        a20 += load8(dx2); a21 += load8(dx2 + 8); a22 += load8(dx2 + 16)
        a30 += load8(dx3); a31 += load8(dx3 + 8); a32 += load8(dx3 + 16)
    }
    store8(a00, dx0); store8(a01, dx0 + 8); store8(a02, dx0 + 16)
    store8(a10, dx1); store8(a11, dx1 + 8); store8(a12, dx1 + 16)
    store8(a20, dx2); store8(a21, dx2 + 8); store8(a22, dx2 + 16)
    store8(a30, dx3); store8(a31, dx3 + 8); store8(a32, dx3 + 16)
}

/// dx[0..<4, 0..<8] (+)= dy[0..<4, 0..<count]·w[0..<count, 0..<8]: the 8-wide strips left after the
/// 24-wide ones.
@inline(never)
private func backwardInput4x8(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                              _ w: UnsafePointer<Float>, count: Int, add: Bool, k: Int, n: Int) {
    let d0 = dy, d1 = d0 + n, d2 = d1 + n, d3 = d2 + n
    let dx0 = dx, dx1 = dx0 + k, dx2 = dx1 + k, dx3 = dx2 + k
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
    var row = w
    var j = 0
    while j < count {
        let v = load8(row)
        a0 = a0.addingProduct(splat(d0[j]), v); a1 = a1.addingProduct(splat(d1[j]), v)
        a2 = a2.addingProduct(splat(d2[j]), v); a3 = a3.addingProduct(splat(d3[j]), v)
        row += k
        j &+= 1
    }
    if add {
        a0 += load8(dx0); a1 += load8(dx1); a2 += load8(dx2); a3 += load8(dx3)
    }
    store8(a0, dx0); store8(a1, dx1); store8(a2, dx2); store8(a3, dx3)
}

/// dx[0..<4, 0] (+)= dy[0..<4, 0..<count]·w[0..<count, 0]: the last K % 8 columns.
@inline(never)
private func backwardInput4x1(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                              _ w: UnsafePointer<Float>, count: Int, add: Bool, k: Int, n: Int) {
    let d0 = dy, d1 = d0 + n, d2 = d1 + n, d3 = d2 + n
    let dx0 = dx, dx1 = dx0 + k, dx2 = dx1 + k, dx3 = dx2 + k
    var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
    var j = 0
    while j < count {
        let v = w[j &* k]
        s0 += d0[j] * v; s1 += d1[j] * v; s2 += d2[j] * v; s3 += d3[j] * v
        j &+= 1
    }
    if add {
        s0 += dx0[0]; s1 += dx1[0]; s2 += dx2[0]; s3 += dx3[0]
    }
    dx0[0] = s0; dx1[0] = s1; dx2[0] = s2; dx3[0] = s3
}

// MARK: - Backward, weight gradient


/// How a weight-gradient kernel writes its result g into dw and db.
package enum GradientWrite: Sendable {
    /// dw += g (the gradient is accumulated).
    case accumulate
    /// dw = g: same bits as accumulating into zeros, but dw is never read.
    case overwrite
    /// dw −= learningRate·g: a gradient-descent step straight into the parameters (dw and db are then W and
    /// b). Same bits as `overwrite` into a buffer followed by the SGD rule over it (`applyUpdate`); for one sample,
    /// the rank-1 update of per-sample SGD (`rank1Step`).
    case descend(learningRate: Float)

    /// Whether the existing contents of dw start the sums.
    var adds: Bool {
        if case .accumulate = self { return true }
        return false
    }
}

/// Writes the finished sums `a` for 8 floats at p as `write` says (the accumulate case already started
/// from p's contents).
@inline(__always)
private func put8(_ a: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ write: GradientWrite) {
    if case .descend(let rate) = write {
        store8(load8(p) - splat(rate) * a, p)
    } else {
        store8(a, p)
    }
}

/// put8 for one float.
@inline(__always)
private func put1(_ a: Float, _ p: UnsafeMutablePointer<Float>, _ write: GradientWrite) {
    if case .descend(let rate) = write {
        p[0] -= rate * a
    } else {
        p[0] = a
    }
}

/// dw += dyᵀ·x and db += Σ_rows dy.   dy is (M,N), x is (M,K); dw is (N,K), db is (N). Accumulates by
/// default; `write` can make it overwrite dw and db instead, or subtract learningRate × the gradient from
/// them (then they are a layer's W and b) — see `GradientWrite`. Each element's sum is formed the same
/// way (from zero, sample by sample in order) in every mode.
///
/// dw and x are both K-contiguous, so SIMD runs across i: a 4-row × 24-column block of dw is loaded
/// into registers once (or started at zero), every sample r is added in (3 loads of x and 4 broadcasts
/// of dy feed 12 FMAs), and it is written once. The outer loop walks dw once, in order; x (small at these
/// batch sizes) is re-read from cache for each block.
@inline(never)
package func denseBackwardWeights(_ dw: UnsafeMutablePointer<Float>, _ db: UnsafeMutablePointer<Float>,
                          _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, m: Int, k: Int, n: Int,
                          write: GradientWrite = .accumulate, wide: Bool = VectorWidth.isWide) {
    if m == 1 {
        // One sample: a rank-1 update, with the step folded into its scale when descending.
        switch write {
        case .accumulate:
            rank1Update(dw, db, dy, x, k: k, n: n)
            return
        case .descend(let rate):
            rank1Step(dw, db, dy, x, scale: -rate, k: k, n: n)
            return
        case .overwrite:
            break
        }
    }
    if m == 0 {
        // No samples: the gradient is zero.
        if case .overwrite = write {
            UnsafeMutableRawPointer(dw).initializeMemory(as: UInt8.self, repeating: 0, count: n &* k &* 4)
            UnsafeMutableRawPointer(db).initializeMemory(as: UInt8.self, repeating: 0, count: n &* 4)
        }
        return
    }
    denseBackwardWeightsBlock(dw, db, dy, x, m: m, k: k, n: n, write: write, outputs: 0..<n, wide: wide)
}

/// Rows `outputs` of `denseBackwardWeights` for M ≥ 2 (dW's rows and db's entries). Each element is formed the
/// same way whatever `outputs` is, as long as its bounds are multiples of 8 (or N), so disjoint ranges can run
/// on different threads and give the same bits.
///
/// `wide` runs it with 16-lane vectors (WideKernels.swift), same bits; without `bias`, db is left alone.
@inline(never)
func denseBackwardWeightsBlock(_ dw: UnsafeMutablePointer<Float>, _ db: UnsafeMutablePointer<Float>,
                               _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, m: Int, k: Int, n: Int,
                               write: GradientWrite, outputs: Range<Int>, wide: Bool = VectorWidth.isWide,
                               bias: Bool = true) {
    if wide {
        denseBackwardWeightsBlockWide(dw, db, dy, x, m: m, k: k, n: n, write: write, outputs: outputs)
        return
    }
    let rows4 = outputs.lowerBound &+ (outputs.count & ~3)
    denseBackwardWeightsColumns(dw, dy, x, m: m, k: k, n: n, write: write, outputs: outputs.lowerBound ..< rows4,
                                columns: 0)
    var j = rows4
    while j < outputs.upperBound {
        backwardWeightsRow(dw + j &* k, dy + j, x, write: write, m: m, k: k, n: n)
        j &+= 1
    }
    if bias {
        backwardBias(db + outputs.lowerBound, dy + outputs.lowerBound, write: write, m: m,
                     columns: outputs.count, stride: n)
    }
}

/// dW's rows `outputs` (a multiple of 4 of them), columns `columns..<k` (`columns` a multiple of 8), 4 rows at a
/// time: strips of 24, then of 8, then the last K % 8 columns one at a time.
func denseBackwardWeightsColumns(_ dw: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                 _ x: UnsafePointer<Float>, m: Int, k: Int, n: Int, write: GradientWrite,
                                 outputs: Range<Int>, columns start: Int) {
    var j = outputs.lowerBound
    while j &+ 4 <= outputs.upperBound {
        let dwRows = dw + j &* k
        var i = start
        while i &+ 24 <= k {
            backwardWeights4x24(dwRows + i, dy + j, x + i, write: write, m: m, k: k, n: n)
            i &+= 24
        }
        while i < k {
            backwardWeights4xTail(dwRows + i, dy + j, x + i, width: k &- i, write: write, m: m, k: k, n: n)
            i &+= 8
        }
        j &+= 4
    }
}

/// db (+)= Σ_rows dy, as `write` says: a column sum of dy, added row by row (rows in order) so the reads
/// are contiguous, 8 columns at a time.
@inline(never)
func backwardBias(_ db: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, write: GradientWrite,
                          m: Int, columns: Int, stride n: Int) {
    var c = 0
    while c &+ 8 <= columns {
        var a = write.adds ? load8(db + c) : SIMD8<Float>()
        var r = 0
        while r < m {
            a += load8(dy + (r &* n &+ c))
            r &+= 1
        }
        put8(a, db + c, write)
        c &+= 8
    }
    while c < columns {
        var a: Float = write.adds ? db[c] : 0
        var r = 0
        while r < m {
            a += dy[r &* n &+ c]
            r &+= 1
        }
        put1(a, db + c, write)
        c &+= 1
    }
}

/// dw[0..<4, 0..<24] (+)= dy[:, 0..<4]ᵀ·x[:, 0..<24], written as `write` says.   dw and x rows have
/// stride K, dy rows stride N.
@inline(never)
private func backwardWeights4x24(_ dw: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                 _ x: UnsafePointer<Float>, write: GradientWrite, m: Int, k: Int, n: Int) {
    let dw0 = dw, dw1 = dw0 + k, dw2 = dw1 + k, dw3 = dw2 + k
    var a00 = SIMD8<Float>(), a01 = SIMD8<Float>(), a02 = SIMD8<Float>()
    var a10 = SIMD8<Float>(), a11 = SIMD8<Float>(), a12 = SIMD8<Float>()
    var a20 = SIMD8<Float>(), a21 = SIMD8<Float>(), a22 = SIMD8<Float>()
    var a30 = SIMD8<Float>(), a31 = SIMD8<Float>(), a32 = SIMD8<Float>()
    if write.adds {
        a00 = load8(dw0); a01 = load8(dw0 + 8); a02 = load8(dw0 + 16)
        a10 = load8(dw1); a11 = load8(dw1 + 8); a12 = load8(dw1 + 16)
        a20 = load8(dw2); a21 = load8(dw2 + 8); a22 = load8(dw2 + 16)
        a30 = load8(dw3); a31 = load8(dw3 + 8); a32 = load8(dw3 + 16)
    }
    var xr = x
    var d = dy
    var r = 0
    while r < m {
        let u0 = load8(xr), u1 = load8(xr + 8), u2 = load8(xr + 16)
        var s = splat(d[0])
        a00 = a00.addingProduct(s, u0); a01 = a01.addingProduct(s, u1); a02 = a02.addingProduct(s, u2)
        s = splat(d[1])
        a10 = a10.addingProduct(s, u0); a11 = a11.addingProduct(s, u1); a12 = a12.addingProduct(s, u2)
        s = splat(d[2])
        a20 = a20.addingProduct(s, u0); a21 = a21.addingProduct(s, u1); a22 = a22.addingProduct(s, u2)
        s = splat(d[3])
        a30 = a30.addingProduct(s, u0); a31 = a31.addingProduct(s, u1); a32 = a32.addingProduct(s, u2)
        xr += k
        d += n
        r &+= 1
    }
    put8(a00, dw0, write); put8(a01, dw0 + 8, write); put8(a02, dw0 + 16, write)
    put8(a10, dw1, write); put8(a11, dw1 + 8, write); put8(a12, dw1 + 16, write)
    put8(a20, dw2, write); put8(a21, dw2 + 8, write); put8(a22, dw2 + 16, write)
    put8(a30, dw3, write); put8(a31, dw3 + 8, write); put8(a32, dw3 + 16, write)
}

/// dw[0..<4, 0..<min(width, 8)] (+)= dy[:, 0..<4]ᵀ·x[:, 0..<min(width, 8)]: the columns left after the
/// 24-wide blocks, 8 at a time, then one at a time when fewer than 8 remain.
@inline(never)
private func backwardWeights4xTail(_ dw: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                   _ x: UnsafePointer<Float>, width: Int, write: GradientWrite,
                                   m: Int, k: Int, n: Int) {
    let dw0 = dw, dw1 = dw0 + k, dw2 = dw1 + k, dw3 = dw2 + k
    if width >= 8 {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        if write.adds {
            a0 = load8(dw0); a1 = load8(dw1); a2 = load8(dw2); a3 = load8(dw3)
        }
        var r = 0
        while r < m {
            let u = load8(x + r &* k), d = dy + r &* n
            a0 = a0.addingProduct(splat(d[0]), u); a1 = a1.addingProduct(splat(d[1]), u)
            a2 = a2.addingProduct(splat(d[2]), u); a3 = a3.addingProduct(splat(d[3]), u)
            r &+= 1
        }
        put8(a0, dw0, write); put8(a1, dw1, write); put8(a2, dw2, write); put8(a3, dw3, write)
        return
    }
    var i = 0
    while i < width {
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        if write.adds {
            s0 = dw0[i]; s1 = dw1[i]; s2 = dw2[i]; s3 = dw3[i]
        }
        var r = 0
        while r < m {
            let u = x[r &* k &+ i], d = dy + r &* n
            s0 += d[0] * u; s1 += d[1] * u; s2 += d[2] * u; s3 += d[3] * u
            r &+= 1
        }
        put1(s0, dw0 + i, write); put1(s1, dw1 + i, write); put1(s2, dw2 + i, write); put1(s3, dw3 + i, write)
        i &+= 1
    }
}

/// dw[0, :] (+)= dy[:, 0]ᵀ·x: the last N % 4 rows of dw, one at a time.
@inline(never)
private func backwardWeightsRow(_ dw: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                _ x: UnsafePointer<Float>, write: GradientWrite, m: Int, k: Int, n: Int) {
    var i = 0
    while i &+ 24 <= k {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>()
        if write.adds {
            a0 = load8(dw + i); a1 = load8(dw + (i &+ 8)); a2 = load8(dw + (i &+ 16))
        }
        var xr = x + i
        var r = 0
        while r < m {
            let s = splat(dy[r &* n])
            a0 = a0.addingProduct(s, load8(xr)); a1 = a1.addingProduct(s, load8(xr + 8))
            a2 = a2.addingProduct(s, load8(xr + 16))
            xr += k
            r &+= 1
        }
        put8(a0, dw + i, write); put8(a1, dw + (i &+ 8), write); put8(a2, dw + (i &+ 16), write)
        i &+= 24
    }
    while i &+ 8 <= k {
        var a0 = write.adds ? load8(dw + i) : SIMD8<Float>()
        var r = 0
        while r < m {
            a0 = a0.addingProduct(splat(dy[r &* n]), load8(x + (r &* k &+ i)))
            r &+= 1
        }
        put8(a0, dw + i, write)
        i &+= 8
    }
    while i < k {
        var s: Float = write.adds ? dw[i] : 0
        var r = 0
        while r < m {
            s += dy[r &* n] * x[r &* k &+ i]
            r &+= 1
        }
        put1(s, dw + i, write)
        i &+= 1
    }
}
