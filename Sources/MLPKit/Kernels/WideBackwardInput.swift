// The dense layer's input-gradient kernel again with 16-lane vectors: dx = dy·w.
//
// For CPUs that run 512-bit FMAs at full rate. It gives exactly the bits of its 8-lane twin in
// DenseBackwardInput.swift; WideForward.swift says why the 16-lane kernels exist.
//
// How the bits stay the same: the lanes run across K, and each element's sum is a chain over j in order: as many
// lanes as there are, each lane's chain is the same. The columns after the last multiple of 8 stay scalar
// (multiply, then add), as in the 8-lane kernels.
//
// Register tiles fill 24 of the 32 registers with accumulators. From batches of 32, each strip of W's tile is first
// copied into a thread's scratch (`ThreadScratch`, `packColumns`): W's rows of 1024 floats map to the same few
// cache sets, so in place a strip does not stay in L1 between groups of samples. Packing moves values, never
// changes them. Every function is `@inline(never)`, for the reason given in DenseForward.swift.

/// Batches from which dL/dx packs its strips of W (measured, M=128: 2-5 points of the FMA peak more packed).
let packedInputRows = 32

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
