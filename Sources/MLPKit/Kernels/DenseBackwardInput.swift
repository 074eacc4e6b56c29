// The dense layer's input-gradient kernels for a batch of M samples: dx = dy·w.
//
// SIMD, register-blocked versions of the naive twin in DenseNaive.swift, whole or by tiles of W's rows whose parts
// threads form apart and add up in order. M == 1 goes to the batch-1 kernels in VectorKernels.swift.
//
// Conventions: row-major contiguous buffers, outputs first, sizes last. x is (M,K) — M samples of
// K inputs; w is (N,K) — N outputs by K inputs; b is (N); y and dy are (M,N); dx is (M,K).
// Every kernel accepts any M, K and N: the blocked loops are followed by narrower ones and scalar tails.
// Each blocked loop holds 12 SIMD8 accumulators, leaving 4 of AVX2's 16 vector registers for operands.
//
// Every kernel and every register-blocked block function is `@inline(never)`, for the reason given in
// DenseForward.swift.

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
/// written or (with `add`) added to dx. `wide` runs it with 16-lane vectors (WideBackwardInput.swift), same bits.
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
