// The dense-layer kernels again with 16-lane vectors, for CPUs that run 512-bit FMAs at full rate (AVX-512 on
// Intel Xeons: twice the FLOPs per instruction, and 32 vector registers instead of 16). Each gives exactly the bits
// of its 8-lane twin in DenseForward.swift, DenseBackwardInput.swift or DenseBackwardWeights.swift, so the choice
// between them (`VectorWidth`) is one of speed only: models are the same on every machine, whatever its vectors.
//
// How the bits stay the same:
// - dL/dx and dW run their lanes across K, and each element's sum is a chain over j (or over the samples) in
//   order: as many lanes as there are, each lane's chain is the same. The columns after the last multiple of 8
//   stay scalar (multiply, then add), as in the 8-lane kernels.
// - The forward pass forms each output as 8 partial sums over i ≡ 0…7 (mod 8), then `horizontalSum`, then the
//   scalar tail. Here a 16-lane accumulator holds the 8 partial sums of two samples (rows r and r+1) for one
//   output: x's rows fill its halves, and the 8 weights go to both halves (one broadcast load), so each half's
//   chain is the 8-lane kernel's.
//
// Register tiles fill 24 of the 32 registers with accumulators. From batches of 32, operands are first copied
// into a thread's scratch (`ThreadScratch`) in the order the tiles read them: W's rows of 1024 floats, or x's, map
// to the same few cache sets, so in place a tile's strip does not stay in L1 between uses. Packing moves values,
// never changes them. Every function is `@inline(never)`, for the reason given in DenseForward.swift.

/// Loads 16 floats from a possibly unaligned address.
@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

/// Stores 16 floats to a possibly unaligned address.
@inline(__always)
func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// Broadcasts one float to 16 lanes.
@inline(__always)
func splat16(_ s: Float) -> SIMD16<Float> {
    SIMD16<Float>(repeating: s)
}

/// The 8 floats at p in both halves (one broadcast load).
@inline(__always)
private func twice8(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    let v = load8(p)
    return SIMD16(lowHalf: v, highHalf: v)
}

/// 8 floats from each of two rows, in the two halves.
@inline(__always)
private func pair8(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>) -> SIMD16<Float> {
    SIMD16(lowHalf: load8(p), highHalf: load8(q))
}

// MARK: - Forward

/// Inputs per pass of forward4x12 over its tile (32 vectors of 8): the tile's 12 rows of W, 12 kB, stay in L1
/// while every 4 samples stream past them, and the accumulators go to memory between passes (exactly: each
/// lane's chain of FMAs goes on from where it stopped).
let forwardDepth = 256

/// Samples per block of the forward pass: each block's packed inputs (128 × K floats) stay in L2 while every tile
/// of W passes over them.
let forwardRows = 128

/// `denseForwardBlock` with 16-lane vectors: same arguments, same bits. x is first packed in pairs of samples
/// (8 inputs of sample 2p, then the same 8 of sample 2p + 1), so one load fills both halves of a register, in
/// blocks of `forwardRows` samples. Then outputs go 12 at a time, in passes of `forwardDepth` inputs over every 4
/// samples (the rest of the outputs, fewer than 12, go to the 8-lane kernel: each output is formed the same way
/// whatever its neighbours).
@inline(never)
func denseForwardBlockWide(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                           _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>, rows: Int, k: Int, n: Int,
                           outputs: Range<Int>) {
    guard rows > 0 else { return }
    let vectors = k / 8, wideEnd = outputs.lowerBound &+ outputs.count / 12 &* 12
    if wideEnd > outputs.lowerBound {
        // Scratch: x in pairs (block rows × 8·vectors floats), 24 accumulators of 16 lanes per group of 4 samples,
        // and W's tile.
        let depth = forwardDepth / 8, blockRows = min(rows, forwardRows)
        let packed = ThreadScratch.floats(blockRows &* vectors &* 8 &+ blockRows / 4 &* 384 &+ depth &* 96)
        let partials = packed + blockRows &* vectors &* 8, tile = partials + blockRows / 4 &* 384
        var first = 0
        while first < rows {
            let count = min(forwardRows, rows &- first)
            packPairs(packed, x + first &* k, rows: count, k: k, vectors: vectors)
            forwardBlockRows(y + first &* n, x + first &* k, w, b, packed: packed, partials: partials, tile: tile,
                             groups: count / 4, k: k, n: n, outputs: outputs.lowerBound ..< wideEnd)
            first &+= forwardRows
        }
    }
    let j = wideEnd
    denseForwardBlock(y, x, w, b, rows: rows, k: k, n: n, outputs: j ..< outputs.upperBound, wide: false)
}

/// Outputs `outputs` (a multiple of 12 of them) of `groups` groups of 4 samples whose pairs are packed: 12 outputs
/// at a time, in passes of `forwardDepth` inputs over every group, then each group's sums finished.
@inline(never)
private func forwardBlockRows(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                              _ b: UnsafePointer<Float>, packed: UnsafePointer<Float>,
                              partials: UnsafeMutablePointer<Float>, tile: UnsafeMutablePointer<Float>, groups: Int,
                              k: Int, n: Int, outputs: Range<Int>) {
    let vectors = k / 8, depth = forwardDepth / 8
    // Packing W's tile pays once it serves 8 groups of samples or more (measured: at 4, batch 16, it cost 10%).
    let packs = groups >= 8
    var j = outputs.lowerBound
    while j < outputs.upperBound {
        var start = 0
        while start < vectors {
            let count = min(depth, vectors &- start), resume = start > 0
            let wTile = w + (j &* k &+ start &* 8)
            if packs { packTile(tile, wTile, count: count, k: k) }
            var g = 0
            while g < groups {
                let pairs = packed + (g &* 2 &* vectors &+ start) &* 16
                if packs {
                    forward4x12(partials + g &* 384, pairs, pairs + vectors &* 16, tile, count: count, resume: resume)
                } else {
                    forward4x12(partials + g &* 384, pairs, pairs + vectors &* 16, wTile, count: count,
                                resume: resume, k: k)
                }
                g &+= 1
            }
            start &+= depth
        }
        var g = 0
        while g < groups {
            finishForward4x12(y + (g &* 4 &* n &+ j), x + g &* 4 &* k, w + j &* k, b + j, partials + g &* 384,
                              from: vectors &* 8, k: k, n: n)
            g &+= 1
        }
        j &+= 12
    }
}

/// Packs x's first `vectors`·8 inputs of each pair of samples: for pair p and vector v, 16 floats at
/// (p·vectors + v)·16: x[2p, 8v..<8v+8], then x[2p+1, 8v..<8v+8].
@inline(never)
private func packPairs(_ packed: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, k: Int,
                       vectors: Int) {
    var p = 0
    while p &* 2 < rows {
        let first = x + p &* 2 &* k, second = first + k
        var out = packed + p &* vectors &* 16
        var v = 0
        while v < vectors {
            store16(pair8(first + v &* 8, second + v &* 8), out)
            out += 16
            v &+= 1
        }
        p &+= 1
    }
}

/// Packs `count` vectors of 8 inputs of 12 rows of W (rows K apart from w) so that one pass reads them in order:
/// for vector v and row c, 8 floats at (v·12 + c)·8.
@inline(never)
private func packTile(_ tile: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>, count: Int, k: Int) {
    var out = tile
    var v = 0
    while v < count {
        var row = w + v &* 8
        var c = 0
        while c < 12 {
            store8(load8(row), out)
            out += 8
            row += k
            c &+= 1
        }
        v &+= 1
    }
}

/// One pass of `count` vectors of 8 inputs over a tile of 4 samples × 12 outputs, forward4x3's chains: the
/// accumulators (24 of 16 lanes, at `partials`) start from zero or, with `resume`, from what the last pass
/// stored, and are stored back. pairs01 and pairs23 are the packed pairs of samples (0, 1) and (2, 3) from the
/// pass's first vector; tile is the pass's 12 rows of W as `packTile` lays them out.
@inline(never)
private func forward4x12(_ partials: UnsafeMutablePointer<Float>, _ pairs01: UnsafePointer<Float>,
                         _ pairs23: UnsafePointer<Float>, _ tile: UnsafePointer<Float>, count: Int, resume: Bool) {
    forward4x12Body(partials, pairs01, pairs23, tile, count: count, resume: resume, row: 8, vector: 96)
}

/// forward4x12 reading W in place: w is the first output's row from the pass's first input, rows K apart.
@inline(never)
private func forward4x12(_ partials: UnsafeMutablePointer<Float>, _ pairs01: UnsafePointer<Float>,
                         _ pairs23: UnsafePointer<Float>, _ w: UnsafePointer<Float>, count: Int, resume: Bool,
                         k: Int) {
    forward4x12Body(partials, pairs01, pairs23, w, count: count, resume: resume, row: k, vector: 8)
}

/// The pass itself, W's 8 floats for output c and vector v at w + c·row + v·vector (inlined into each caller, so
/// the packed one's offsets are constants).
@inline(__always)
private func forward4x12Body(_ partials: UnsafeMutablePointer<Float>, _ pairs01: UnsafePointer<Float>,
                             _ pairs23: UnsafePointer<Float>, _ w: UnsafePointer<Float>, count: Int, resume: Bool,
                             row: Int, vector: Int) {
    // p0c: samples 0 and 1, output c; p1c: samples 2 and 3.
    var p00 = SIMD16<Float>(), p01 = SIMD16<Float>(), p02 = SIMD16<Float>(), p03 = SIMD16<Float>()
    var p04 = SIMD16<Float>(), p05 = SIMD16<Float>(), p06 = SIMD16<Float>(), p07 = SIMD16<Float>()
    var p08 = SIMD16<Float>(), p09 = SIMD16<Float>(), p010 = SIMD16<Float>(), p011 = SIMD16<Float>()
    var p10 = SIMD16<Float>(), p11 = SIMD16<Float>(), p12 = SIMD16<Float>(), p13 = SIMD16<Float>()
    var p14 = SIMD16<Float>(), p15 = SIMD16<Float>(), p16 = SIMD16<Float>(), p17 = SIMD16<Float>()
    var p18 = SIMD16<Float>(), p19 = SIMD16<Float>(), p110 = SIMD16<Float>(), p111 = SIMD16<Float>()
    if resume {
        p00 = load16(partials); p01 = load16(partials + 16); p02 = load16(partials + 32)
        p03 = load16(partials + 48); p04 = load16(partials + 64); p05 = load16(partials + 80)
        p06 = load16(partials + 96); p07 = load16(partials + 112); p08 = load16(partials + 128)
        p09 = load16(partials + 144); p010 = load16(partials + 160); p011 = load16(partials + 176)
        p10 = load16(partials + 192); p11 = load16(partials + 208); p12 = load16(partials + 224)
        p13 = load16(partials + 240); p14 = load16(partials + 256); p15 = load16(partials + 272)
        p16 = load16(partials + 288); p17 = load16(partials + 304); p18 = load16(partials + 320)
        p19 = load16(partials + 336); p110 = load16(partials + 352); p111 = load16(partials + 368)
    }
    var u0p = pairs01, u1p = pairs23, wp = w
    var v = 0
    while v < count {
        let u0 = load16(u0p), u1 = load16(u1p)
        var c = twice8(wp)
        p00 = p00.addingProduct(u0, c); p10 = p10.addingProduct(u1, c)
        c = twice8(wp + 1 &* row)
        p01 = p01.addingProduct(u0, c); p11 = p11.addingProduct(u1, c)
        c = twice8(wp + 2 &* row)
        p02 = p02.addingProduct(u0, c); p12 = p12.addingProduct(u1, c)
        c = twice8(wp + 3 &* row)
        p03 = p03.addingProduct(u0, c); p13 = p13.addingProduct(u1, c)
        c = twice8(wp + 4 &* row)
        p04 = p04.addingProduct(u0, c); p14 = p14.addingProduct(u1, c)
        c = twice8(wp + 5 &* row)
        p05 = p05.addingProduct(u0, c); p15 = p15.addingProduct(u1, c)
        c = twice8(wp + 6 &* row)
        p06 = p06.addingProduct(u0, c); p16 = p16.addingProduct(u1, c)
        c = twice8(wp + 7 &* row)
        p07 = p07.addingProduct(u0, c); p17 = p17.addingProduct(u1, c)
        c = twice8(wp + 8 &* row)
        p08 = p08.addingProduct(u0, c); p18 = p18.addingProduct(u1, c)
        c = twice8(wp + 9 &* row)
        p09 = p09.addingProduct(u0, c); p19 = p19.addingProduct(u1, c)
        c = twice8(wp + 10 &* row)
        p010 = p010.addingProduct(u0, c); p110 = p110.addingProduct(u1, c)
        c = twice8(wp + 11 &* row)
        p011 = p011.addingProduct(u0, c); p111 = p111.addingProduct(u1, c)
        u0p += 16; u1p += 16; wp += vector
        v &+= 1
    }
    store16(p00, partials); store16(p01, partials + 16); store16(p02, partials + 32)
    store16(p03, partials + 48); store16(p04, partials + 64); store16(p05, partials + 80)
    store16(p06, partials + 96); store16(p07, partials + 112); store16(p08, partials + 128)
    store16(p09, partials + 144); store16(p010, partials + 160); store16(p011, partials + 176)
    store16(p10, partials + 192); store16(p11, partials + 208); store16(p12, partials + 224)
    store16(p13, partials + 240); store16(p14, partials + 256); store16(p15, partials + 272)
    store16(p16, partials + 288); store16(p17, partials + 304); store16(p18, partials + 320)
    store16(p19, partials + 336); store16(p110, partials + 352); store16(p111, partials + 368)
}

/// The end of a 4 × 12 tile: each output's sums finished from the accumulators at `partials` (output c's pairs at
/// c·16 and 192 + c·16). y, x, w and b point at the tile's first sample and output.
@inline(never)
private func finishForward4x12(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                               _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                               _ partials: UnsafePointer<Float>, from tail: Int, k: Int, n: Int) {
    var c = 0
    while c < 12 {
        finishForward(y + c, x, w + c &* k, b[c], load16(partials + c &* 16), load16(partials + (192 &+ c &* 16)),
                      from: tail, k: k, n: n)
        c &+= 1
    }
}

/// One output column of forward4x12, finished in forward4x3's order: each half's horizontal sum, the scalar
/// tail over i in `start..<k` (wc is the output's row of W), then the bias. y is the column's top element.
@inline(__always)
private func finishForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ wc: UnsafePointer<Float>,
                           _ bias: Float, _ rows01: SIMD16<Float>, _ rows23: SIMD16<Float>, from start: Int,
                           k: Int, n: Int) {
    var s0 = horizontalSum(rows01.lowHalf), s1 = horizontalSum(rows01.highHalf)
    var s2 = horizontalSum(rows23.lowHalf), s3 = horizontalSum(rows23.highHalf)
    var i = start
    while i < k {
        let v = wc[i]
        s0 += x[i] * v; s1 += x[k &+ i] * v; s2 += x[2 &* k &+ i] * v; s3 += x[3 &* k &+ i] * v
        i &+= 1
    }
    y[0] = s0 + bias; y[n] = s1 + bias; y[2 &* n] = s2 + bias; y[3 &* n] = s3 + bias
}

// MARK: - Backward, input gradient

/// `backwardInputTileSum` with 16-lane vectors: same arguments, same bits. Samples go 8 at a time across strips
/// of 48 inputs; the rest go to the 8-lane kernel (each element's chain is the same whatever its tile).
@inline(never)
func backwardInputTileSumWide(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                              _ w: UnsafePointer<Float>, rows fullRows: Int, k: Int, n: Int, inputs: Range<Int>,
                              outputs: Range<Int>, add: Bool) {
    let count = outputs.count
    let dyTile = dy + outputs.lowerBound, wTile = w + outputs.lowerBound &* k
    let rows8 = fullRows & ~7
    // A strip of W's tile (count rows K apart) copied together once it serves 4 groups of samples or more: rows
    // of 1024 floats map to the same few cache sets, and the strip would not stay in L1 between the groups.
    let strip: UnsafeMutablePointer<Float>? = rows8 >= packedInputRows ? ThreadScratch.floats(count &* 48) : nil
    var i = inputs.lowerBound
    while i &+ 48 <= inputs.upperBound {
        if let strip { packColumns(strip, wTile + i, m: count, stride: k, width: 48, count: 1) }
        var r = 0
        while r < rows8 {
            if let strip {
                backwardInput8x48(dx + (r &* k &+ i), dyTile + r &* n, strip, count: count, add: add, k: k, n: n,
                                  wStride: 48)
            } else {
                backwardInput8x48(dx + (r &* k &+ i), dyTile + r &* n, wTile + i, count: count, add: add, k: k, n: n,
                                  wStride: k)
            }
            r &+= 8
        }
        i &+= 48
    }
    let done = i
    // What is left: the last 4 samples of every strip, and the inputs after the last strip of 48.
    if rows8 < fullRows, done > inputs.lowerBound {
        backwardInputTileSum(dx + rows8 &* k, dy + rows8 &* n, w, rows: fullRows &- rows8, k: k, n: n,
                             inputs: inputs.lowerBound ..< done, outputs: outputs, add: add, wide: false)
    }
    if done < inputs.upperBound {
        backwardInputTileSum(dx, dy, w, rows: fullRows, k: k, n: n, inputs: done ..< inputs.upperBound,
                             outputs: outputs, add: add, wide: false)
    }
}

/// dx[0..<8, 0..<48] (+)= dy[0..<8, 0..<count]·w[0..<count, 0..<48]: backwardInput4x24's chains, 8 samples by
/// 48 inputs (24 accumulators; 3 loads of W and 8 broadcasts of dy feed 24 FMAs).
/// W's rows are `wStride` apart (K in place, 48 in a packed strip).
@inline(never)
private func backwardInput8x48(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                               _ w: UnsafePointer<Float>, count: Int, add: Bool, k: Int, n: Int, wStride: Int) {
    var a00 = SIMD16<Float>(), a01 = SIMD16<Float>(), a02 = SIMD16<Float>()
    var a10 = SIMD16<Float>(), a11 = SIMD16<Float>(), a12 = SIMD16<Float>()
    var a20 = SIMD16<Float>(), a21 = SIMD16<Float>(), a22 = SIMD16<Float>()
    var a30 = SIMD16<Float>(), a31 = SIMD16<Float>(), a32 = SIMD16<Float>()
    var a40 = SIMD16<Float>(), a41 = SIMD16<Float>(), a42 = SIMD16<Float>()
    var a50 = SIMD16<Float>(), a51 = SIMD16<Float>(), a52 = SIMD16<Float>()
    var a60 = SIMD16<Float>(), a61 = SIMD16<Float>(), a62 = SIMD16<Float>()
    var a70 = SIMD16<Float>(), a71 = SIMD16<Float>(), a72 = SIMD16<Float>()
    var row = w, d = dy
    var j = 0
    while j < count {
        let v0 = load16(row), v1 = load16(row + 16), v2 = load16(row + 32)
        var s = splat16(d[0])
        a00 = a00.addingProduct(s, v0); a01 = a01.addingProduct(s, v1); a02 = a02.addingProduct(s, v2)
        s = splat16(d[n])
        a10 = a10.addingProduct(s, v0); a11 = a11.addingProduct(s, v1); a12 = a12.addingProduct(s, v2)
        s = splat16(d[2 &* n])
        a20 = a20.addingProduct(s, v0); a21 = a21.addingProduct(s, v1); a22 = a22.addingProduct(s, v2)
        s = splat16(d[3 &* n])
        a30 = a30.addingProduct(s, v0); a31 = a31.addingProduct(s, v1); a32 = a32.addingProduct(s, v2)
        s = splat16(d[4 &* n])
        a40 = a40.addingProduct(s, v0); a41 = a41.addingProduct(s, v1); a42 = a42.addingProduct(s, v2)
        s = splat16(d[5 &* n])
        a50 = a50.addingProduct(s, v0); a51 = a51.addingProduct(s, v1); a52 = a52.addingProduct(s, v2)
        s = splat16(d[6 &* n])
        a60 = a60.addingProduct(s, v0); a61 = a61.addingProduct(s, v1); a62 = a62.addingProduct(s, v2)
        s = splat16(d[7 &* n])
        a70 = a70.addingProduct(s, v0); a71 = a71.addingProduct(s, v1); a72 = a72.addingProduct(s, v2)
        row += wStride
        d += 1
        j &+= 1
    }
    finish3(&a00, &a01, &a02, dx, add: add)
    finish3(&a10, &a11, &a12, dx + k, add: add)
    finish3(&a20, &a21, &a22, dx + 2 &* k, add: add)
    finish3(&a30, &a31, &a32, dx + 3 &* k, add: add)
    finish3(&a40, &a41, &a42, dx + 4 &* k, add: add)
    finish3(&a50, &a51, &a52, dx + 5 &* k, add: add)
    finish3(&a60, &a61, &a62, dx + 6 &* k, add: add)
    finish3(&a70, &a71, &a72, dx + 7 &* k, add: add)
}

/// Stores 48 finished sums at p, first adding p's contents to them when `add`.
@inline(__always)
private func finish3(_ a0: inout SIMD16<Float>, _ a1: inout SIMD16<Float>, _ a2: inout SIMD16<Float>,
                     _ p: UnsafeMutablePointer<Float>, add: Bool) {
    if add {
        a0 += load16(p); a1 += load16(p + 16); a2 += load16(p + 32)
    }
    store16(a0, p); store16(a1, p + 16); store16(a2, p + 32)
}

// MARK: - Backward, weight gradient

/// `denseBackwardWeightsBlock` with 16-lane vectors: same arguments, same bits. Rows of dW go 8 at a time across
/// strips of 48 columns; the rest to the 8-lane kernel.
@inline(never)
func denseBackwardWeightsBlockWide(_ dw: UnsafeMutablePointer<Float>, _ db: UnsafeMutablePointer<Float>,
                                   _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, m: Int, k: Int, n: Int,
                                   write: GradientWrite, outputs: Range<Int>) {
    let strips = k / 48, rows8 = outputs.lowerBound &+ (outputs.count & ~7)
    if strips > 0, rows8 > outputs.lowerBound {
        if m >= packedWeightRows {
            // x by strips of 48 columns and dy by groups of 8 columns, each contiguous: read in order, they no
            // longer collide in the cache's sets (rows of 1024 floats map to the same few) and prefetch well.
            let groups = (rows8 &- outputs.lowerBound) / 8
            let xs = ThreadScratch.floats(m &* 48 &* (strips &+ groups / 6 &+ 1))
            let ds = xs + m &* 48 &* strips
            packColumns(xs, x, m: m, stride: k, width: 48, count: strips)
            packColumns(ds, dy + outputs.lowerBound, m: m, stride: n, width: 8, count: groups)
            var g = 0
            while g < groups {
                let j = outputs.lowerBound &+ g &* 8
                var s = 0
                while s < strips {
                    backwardWeights8x48(dw + (j &* k &+ s &* 48), ds + g &* m &* 8, xs + s &* m &* 48, write: write,
                                        m: m, k: k)
                    s &+= 1
                }
                g &+= 1
            }
        } else {
            var j = outputs.lowerBound
            while j < rows8 {
                var s = 0
                while s < strips {
                    backwardWeights8x48(dw + (j &* k &+ s &* 48), dy + j, x + s &* 48, write: write, m: m, k: k,
                                        n: n)
                    s &+= 1
                }
                j &+= 8
            }
        }
        if strips &* 48 < k {
            // The columns after the strips, through the 8-lane kernel's column tails, rows 4 at a time.
            denseBackwardWeightsColumns(dw, dy, x, m: m, k: k, n: n, write: write, outputs: outputs.lowerBound ..< rows8,
                                        columns: strips &* 48)
        }
    }
    let j = strips > 0 ? rows8 : outputs.lowerBound
    // Rows left (and db for the whole range) through the 8-lane kernel.
    denseBackwardWeightsBlock(dw, db, dy, x, m: m, k: k, n: n, write: write, outputs: j ..< outputs.upperBound,
                              wide: false, bias: false)
    backwardBias(db + outputs.lowerBound, dy + outputs.lowerBound, write: write, m: m,
                 columns: outputs.count, stride: n)
}

/// Batches from which dL/dx packs its strips of W (measured, M=128: 2-5 points of the FMA peak more packed).
let packedInputRows = 32

/// Batches from which dW packs its operands (below, the packing costs more than it saves: measured at 16).
let packedWeightRows = 32

/// Copies `count` blocks of `width` columns of m rows (`stride` apart) so each block's rows lie together:
/// block c, row r at (c·m + r)·width.
@inline(never)
private func packColumns(_ out: UnsafeMutablePointer<Float>, _ from: UnsafePointer<Float>, m: Int, stride: Int,
                         width: Int, count: Int) {
    var c = 0
    while c < count {
        var r = 0
        while r < m {
            let source = from + (r &* stride &+ c &* width), target = out + (c &* m &+ r) &* width
            var i = 0
            while i < width {
                store8(load8(source + i), target + i)
                i &+= 8
            }
            r &+= 1
        }
        c &+= 1
    }
}

/// dw[0..<8, 0..<48] (+)= dy[:, 0..<8]ᵀ·x[:, 0..<48], written as `write` says: backwardWeights4x24's chains, 8
/// rows by 48 columns (24 accumulators; 3 loads of x and 8 broadcasts of dy feed 24 FMAs). dw's rows are K
/// apart; dy and x packed by `packColumns` (rows 8 and 48 floats apart).
@inline(never)
private func backwardWeights8x48(_ dw: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                 _ x: UnsafePointer<Float>, write: GradientWrite, m: Int, k: Int) {
    backwardWeights8x48Body(dw, dy, x, write: write, m: m, k: k, dyStride: 8, xStride: 48)
}

/// backwardWeights8x48 on dy and x in place (rows N and K apart).
@inline(never)
private func backwardWeights8x48(_ dw: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                 _ x: UnsafePointer<Float>, write: GradientWrite, m: Int, k: Int, n: Int) {
    backwardWeights8x48Body(dw, dy, x, write: write, m: m, k: k, dyStride: n, xStride: k)
}

/// The tile itself (inlined into each caller, so the packed one's strides are constants).
@inline(__always)
private func backwardWeights8x48Body(_ dw: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                     _ x: UnsafePointer<Float>, write: GradientWrite, m: Int, k: Int,
                                     dyStride: Int, xStride: Int) {
    var a00 = SIMD16<Float>(), a01 = SIMD16<Float>(), a02 = SIMD16<Float>()
    var a10 = SIMD16<Float>(), a11 = SIMD16<Float>(), a12 = SIMD16<Float>()
    var a20 = SIMD16<Float>(), a21 = SIMD16<Float>(), a22 = SIMD16<Float>()
    var a30 = SIMD16<Float>(), a31 = SIMD16<Float>(), a32 = SIMD16<Float>()
    var a40 = SIMD16<Float>(), a41 = SIMD16<Float>(), a42 = SIMD16<Float>()
    var a50 = SIMD16<Float>(), a51 = SIMD16<Float>(), a52 = SIMD16<Float>()
    var a60 = SIMD16<Float>(), a61 = SIMD16<Float>(), a62 = SIMD16<Float>()
    var a70 = SIMD16<Float>(), a71 = SIMD16<Float>(), a72 = SIMD16<Float>()
    if write.adds {
        start3(&a00, &a01, &a02, dw); start3(&a10, &a11, &a12, dw + k)
        start3(&a20, &a21, &a22, dw + 2 &* k); start3(&a30, &a31, &a32, dw + 3 &* k)
        start3(&a40, &a41, &a42, dw + 4 &* k); start3(&a50, &a51, &a52, dw + 5 &* k)
        start3(&a60, &a61, &a62, dw + 6 &* k); start3(&a70, &a71, &a72, dw + 7 &* k)
    }
    var xr = x, d = dy
    var r = 0
    while r < m {
        let u0 = load16(xr), u1 = load16(xr + 16), u2 = load16(xr + 32)
        var s = splat16(d[0])
        a00 = a00.addingProduct(s, u0); a01 = a01.addingProduct(s, u1); a02 = a02.addingProduct(s, u2)
        s = splat16(d[1])
        a10 = a10.addingProduct(s, u0); a11 = a11.addingProduct(s, u1); a12 = a12.addingProduct(s, u2)
        s = splat16(d[2])
        a20 = a20.addingProduct(s, u0); a21 = a21.addingProduct(s, u1); a22 = a22.addingProduct(s, u2)
        s = splat16(d[3])
        a30 = a30.addingProduct(s, u0); a31 = a31.addingProduct(s, u1); a32 = a32.addingProduct(s, u2)
        s = splat16(d[4])
        a40 = a40.addingProduct(s, u0); a41 = a41.addingProduct(s, u1); a42 = a42.addingProduct(s, u2)
        s = splat16(d[5])
        a50 = a50.addingProduct(s, u0); a51 = a51.addingProduct(s, u1); a52 = a52.addingProduct(s, u2)
        s = splat16(d[6])
        a60 = a60.addingProduct(s, u0); a61 = a61.addingProduct(s, u1); a62 = a62.addingProduct(s, u2)
        s = splat16(d[7])
        a70 = a70.addingProduct(s, u0); a71 = a71.addingProduct(s, u1); a72 = a72.addingProduct(s, u2)
        xr += xStride
        d += dyStride
        r &+= 1
    }
    put3(a00, a01, a02, dw, write); put3(a10, a11, a12, dw + k, write)
    put3(a20, a21, a22, dw + 2 &* k, write); put3(a30, a31, a32, dw + 3 &* k, write)
    put3(a40, a41, a42, dw + 4 &* k, write); put3(a50, a51, a52, dw + 5 &* k, write)
    put3(a60, a61, a62, dw + 6 &* k, write); put3(a70, a71, a72, dw + 7 &* k, write)
}

/// Loads 48 floats at p into three accumulators (the accumulate mode's start).
@inline(__always)
private func start3(_ a0: inout SIMD16<Float>, _ a1: inout SIMD16<Float>, _ a2: inout SIMD16<Float>,
                    _ p: UnsafeMutablePointer<Float>) {
    a0 = load16(p); a1 = load16(p + 16); a2 = load16(p + 32)
}

/// Writes 48 finished sums at p as `write` says (`put8`'s arithmetic, 16 lanes at a time).
@inline(__always)
private func put3(_ a0: SIMD16<Float>, _ a1: SIMD16<Float>, _ a2: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>,
                  _ write: GradientWrite) {
    if case .descend(let rate) = write {
        let step = splat16(rate)
        store16(load16(p) - step * a0, p); store16(load16(p + 16) - step * a1, p + 16)
        store16(load16(p + 32) - step * a2, p + 32)
    } else {
        store16(a0, p); store16(a1, p + 16); store16(a2, p + 32)
    }
}
