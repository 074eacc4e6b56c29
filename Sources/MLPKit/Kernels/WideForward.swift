// The dense layer's forward kernel again with 16-lane vectors: y = x·wᵀ + b.
//
// For CPUs that run 512-bit FMAs at full rate (AVX-512 on Intel Xeons: twice the FLOPs per instruction, and 32
// vector registers instead of 16). It gives exactly the bits of its 8-lane twin in DenseForward.swift, as
// WideBackwardInput.swift and WideBackwardWeights.swift do for dL/dx and dW, so the choice between them
// (`VectorWidth`) is one of speed only: models are the same on every machine, whatever its vectors.
//
// How the bits stay the same: the 8-lane forward pass forms each output as 8 partial sums over i ≡ 0…7 (mod 8),
// then `horizontalSum`, then the scalar tail. Here a 16-lane accumulator holds the 8 partial sums of two samples
// (rows r and r+1) for one output: x's rows fill its halves, and the 8 weights go to both halves (one broadcast
// load), so each half's chain is the 8-lane kernel's.
//
// Register tiles fill 24 of the 32 registers with accumulators. Operands are first copied into a thread's scratch
// (`ThreadScratch`) in the order the tiles read them, x always and W's tile from batches of 32: W's rows of 1024
// floats, or x's, map to the same few cache sets, so in place a tile's strip does not stay in L1 between uses.
// Packing moves values, never changes them. Every function is `@inline(never)`, for the reason given in
// DenseForward.swift.

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

/// Inputs per pass of forward4x12 over its tile (32 vectors of 8): the tile's 12 rows of W, 12 kB, stay in L1
/// while every 4 samples stream past them, and the accumulators go to memory between passes (exactly: each
/// lane's chain of FMAs goes on from where it stopped).
let forwardDepth = 256

/// Samples per block of the forward pass: each block's packed inputs (128 × K floats) stay in L2 while every tile
/// of W passes over them.
let forwardRows = 128

/// Layers of at most this many tiles of 12 outputs read x in place instead of packing it: with so few tiles, the
/// copy costs more than it saves (measured at batch 1024: 3 tiles, 784 → 36, ran 12% faster in place; 43 tiles,
/// 784 → 512, 6% slower).
let inPlaceTiles = 8

/// `denseForwardBlock` with 16-lane vectors: same arguments, same bits. x goes in blocks of `forwardRows` samples.
/// Unless the layer is narrow (`inPlaceTiles`), each block is first packed in pairs of samples (8 inputs of sample
/// 2p, then the same 8 of sample 2p + 1), so one load fills both halves of a register. Then outputs go 12 at a
/// time, in passes of `forwardDepth` inputs over every 4 samples (the rest of the outputs, fewer than 12, go to the
/// 8-lane kernel block by block: each output is formed the same way whatever its neighbours).
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
        let packsInputs = (wideEnd &- outputs.lowerBound) / 12 > inPlaceTiles
        let packed = ThreadScratch.floats(blockRows &* vectors &* 8 &+ blockRows / 4 &* 384 &+ depth &* 96)
        let partials = packed + blockRows &* vectors &* 8, tile = partials + blockRows / 4 &* 384
        var first = 0
        while first < rows {
            let count = min(forwardRows, rows &- first)
            if packsInputs { packPairs(packed, x + first &* k, rows: count, k: k, vectors: vectors) }
            forwardBlockRows(y + first &* n, x + first &* k, w, b, packed: packsInputs ? UnsafePointer(packed) : nil,
                             partials: partials, tile: tile,
                             groups: count / 4, k: k, n: n, outputs: outputs.lowerBound ..< wideEnd)
            // The other outputs while the block's rows are still in cache (x passes through memory once).
            denseForwardBlock(y + first &* n, x + first &* k, w, b, rows: count, k: k, n: n,
                              outputs: wideEnd ..< outputs.upperBound, wide: false)
            first &+= forwardRows
        }
    } else {
        denseForwardBlock(y, x, w, b, rows: rows, k: k, n: n, outputs: outputs, wide: false)
    }
}

/// Outputs `outputs` (a multiple of 12 of them) of `groups` groups of 4 samples, their pairs `packed` (nil: read
/// in place): 12 outputs at a time, in passes of `forwardDepth` inputs over every group, then each group's sums
/// finished.
@inline(never)
private func forwardBlockRows(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                              _ b: UnsafePointer<Float>, packed: UnsafePointer<Float>?,
                              partials: UnsafeMutablePointer<Float>, tile: UnsafeMutablePointer<Float>, groups: Int,
                              k: Int, n: Int, outputs: Range<Int>) {
    let vectors = k / 8, depth = forwardDepth / 8
    // Packing W's tile pays once it serves 8 groups of samples or more (measured: at 4, batch 16, it cost 10%).
    let packs = groups >= 8 || packed == nil
    var j = outputs.lowerBound
    while j < outputs.upperBound {
        var start = 0
        while start < vectors {
            let count = min(depth, vectors &- start), resume = start > 0
            let wTile = w + (j &* k &+ start &* 8)
            if packs { packTile(tile, wTile, count: count, k: k) }
            var g = 0
            while g < groups {
                if let packed {
                    let pairs = packed + (g &* 2 &* vectors &+ start) &* 16
                    if packs {
                        forward4x12(partials + g &* 384, pairs, pairs + vectors &* 16, tile, count: count,
                                    resume: resume)
                    } else {
                        forward4x12(partials + g &* 384, pairs, pairs + vectors &* 16, wTile, count: count,
                                    resume: resume, k: k)
                    }
                } else {
                    let rows = x + (g &* 4 &* k &+ start &* 8)
                    forward4x12(partials + g &* 384, rows, rows + 2 &* k, tile, count: count, resume: resume,
                                inPlace: k)
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

/// forward4x12 reading x in place: pairs01 is sample 0's row from the pass's first input (sample 1's K after it),
/// pairs23 sample 2's.
@inline(never)
private func forward4x12(_ partials: UnsafeMutablePointer<Float>, _ pairs01: UnsafePointer<Float>,
                         _ pairs23: UnsafePointer<Float>, _ tile: UnsafePointer<Float>, count: Int, resume: Bool,
                         inPlace k: Int) {
    forward4x12Body(partials, pairs01, pairs23, tile, count: count, resume: resume, row: 8, vector: 96, inPlace: k)
}

/// The pass itself, W's 8 floats for output c and vector v at w + c·row + v·vector (inlined into each caller, so
/// the packed one's offsets are constants); x's pairs packed, or with `inPlace` K rows of x K apart.
@inline(__always)
private func forward4x12Body(_ partials: UnsafeMutablePointer<Float>, _ pairs01: UnsafePointer<Float>,
                             _ pairs23: UnsafePointer<Float>, _ w: UnsafePointer<Float>, count: Int, resume: Bool,
                             row: Int, vector: Int, inPlace k: Int = 0) {
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
        let u0 = k == 0 ? load16(u0p) : pair8(u0p, u0p + k), u1 = k == 0 ? load16(u1p) : pair8(u1p, u1p + k)
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
        u0p += k == 0 ? 16 : 8; u1p += k == 0 ? 16 : 8; wp += vector
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
