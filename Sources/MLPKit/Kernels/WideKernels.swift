// The dense-layer kernels again with 16-lane vectors, for CPUs that run 512-bit FMAs at full rate (AVX-512 on
// Intel Xeons: twice the FLOPs per instruction, and 32 vector registers instead of 16). Each gives exactly the bits
// of its 8-lane twin in DenseKernels.swift, so the choice between them (`VectorWidth`) is one of speed only:
// models are the same on every machine, whatever its vectors.
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
// Register tiles fill 24 of the 32 registers with accumulators. Every function is `@inline(never)`, for the
// reason given in DenseKernels.swift.

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

/// `denseForwardBlock` with 16-lane vectors: same arguments, same bits. Outputs go 12 at a time (the rest, fewer
/// than 12, to the 8-lane kernel: each output is formed the same way whatever its neighbours).
@inline(never)
func denseForwardBlockWide(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                           _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>, rows: Int, k: Int, n: Int,
                           outputs: Range<Int>) {
    guard rows > 0 else { return }
    var j = outputs.lowerBound
    while j &+ 12 <= outputs.upperBound {
        var r = 0
        while r < rows {
            forward4x12(y + (r &* n &+ j), x + r &* k, w + j &* k, b + j, k: k, n: n)
            r &+= 4
        }
        j &+= 12
    }
    denseForwardBlock(y, x, w, b, rows: rows, k: k, n: n, outputs: j ..< outputs.upperBound, wide: false)
}

/// y[0..<4, 0..<12] = x[0..<4,:]·w[0..<12,:]ᵀ + b[0..<12], with forward4x3's bits: p0c holds output c's 8
/// partial sums for row 0 (low half) and row 1 (high half), p1c those for rows 2 and 3. Per 8 inputs, 2 loads of
/// x (one per half) and 12 broadcast loads of W feed 24 FMAs.
@inline(never)
private func forward4x12(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                         _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>, k: Int, n: Int) {
    let x0 = x, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k
    // p0_c: rows 0 and 1, output c; p1_c: rows 2 and 3.
    var p00 = SIMD16<Float>(), p01 = SIMD16<Float>(), p02 = SIMD16<Float>(), p03 = SIMD16<Float>()
    var p04 = SIMD16<Float>(), p05 = SIMD16<Float>(), p06 = SIMD16<Float>(), p07 = SIMD16<Float>()
    var p08 = SIMD16<Float>(), p09 = SIMD16<Float>(), p010 = SIMD16<Float>(), p011 = SIMD16<Float>()
    var p10 = SIMD16<Float>(), p11 = SIMD16<Float>(), p12 = SIMD16<Float>(), p13 = SIMD16<Float>()
    var p14 = SIMD16<Float>(), p15 = SIMD16<Float>(), p16 = SIMD16<Float>(), p17 = SIMD16<Float>()
    var p18 = SIMD16<Float>(), p19 = SIMD16<Float>(), p110 = SIMD16<Float>(), p111 = SIMD16<Float>()
    var i = 0
    while i &+ 8 <= k {
        let u0 = pair8(x0 + i, x1 + i), u1 = pair8(x2 + i, x3 + i)
        var v = twice8(w + i)
        p00 = p00.addingProduct(u0, v); p10 = p10.addingProduct(u1, v)
        v = twice8(w + (k &+ i))
        p01 = p01.addingProduct(u0, v); p11 = p11.addingProduct(u1, v)
        v = twice8(w + (2 &* k &+ i))
        p02 = p02.addingProduct(u0, v); p12 = p12.addingProduct(u1, v)
        v = twice8(w + (3 &* k &+ i))
        p03 = p03.addingProduct(u0, v); p13 = p13.addingProduct(u1, v)
        v = twice8(w + (4 &* k &+ i))
        p04 = p04.addingProduct(u0, v); p14 = p14.addingProduct(u1, v)
        v = twice8(w + (5 &* k &+ i))
        p05 = p05.addingProduct(u0, v); p15 = p15.addingProduct(u1, v)
        v = twice8(w + (6 &* k &+ i))
        p06 = p06.addingProduct(u0, v); p16 = p16.addingProduct(u1, v)
        v = twice8(w + (7 &* k &+ i))
        p07 = p07.addingProduct(u0, v); p17 = p17.addingProduct(u1, v)
        v = twice8(w + (8 &* k &+ i))
        p08 = p08.addingProduct(u0, v); p18 = p18.addingProduct(u1, v)
        v = twice8(w + (9 &* k &+ i))
        p09 = p09.addingProduct(u0, v); p19 = p19.addingProduct(u1, v)
        v = twice8(w + (10 &* k &+ i))
        p010 = p010.addingProduct(u0, v); p110 = p110.addingProduct(u1, v)
        v = twice8(w + (11 &* k &+ i))
        p011 = p011.addingProduct(u0, v); p111 = p111.addingProduct(u1, v)
        i &+= 8
    }
    let tail = i
    finishForward(y, x, w, b[0], p00, p10, from: tail, k: k, n: n)
    finishForward(y + 1, x, w + k, b[1], p01, p11, from: tail, k: k, n: n)
    finishForward(y + 2, x, w + 2 &* k, b[2], p02, p12, from: tail, k: k, n: n)
    finishForward(y + 3, x, w + 3 &* k, b[3], p03, p13, from: tail, k: k, n: n)
    finishForward(y + 4, x, w + 4 &* k, b[4], p04, p14, from: tail, k: k, n: n)
    finishForward(y + 5, x, w + 5 &* k, b[5], p05, p15, from: tail, k: k, n: n)
    finishForward(y + 6, x, w + 6 &* k, b[6], p06, p16, from: tail, k: k, n: n)
    finishForward(y + 7, x, w + 7 &* k, b[7], p07, p17, from: tail, k: k, n: n)
    finishForward(y + 8, x, w + 8 &* k, b[8], p08, p18, from: tail, k: k, n: n)
    finishForward(y + 9, x, w + 9 &* k, b[9], p09, p19, from: tail, k: k, n: n)
    finishForward(y + 10, x, w + 10 &* k, b[10], p010, p110, from: tail, k: k, n: n)
    finishForward(y + 11, x, w + 11 &* k, b[11], p011, p111, from: tail, k: k, n: n)
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
    var i = inputs.lowerBound
    while i &+ 48 <= inputs.upperBound {
        var r = 0
        while r < rows8 {
            backwardInput8x48(dx + (r &* k &+ i), dyTile + r &* n, wTile + i, count: count, add: add, k: k, n: n)
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
@inline(never)
private func backwardInput8x48(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                               _ w: UnsafePointer<Float>, count: Int, add: Bool, k: Int, n: Int) {
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
        row += k
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
    let strips = k / 48 &* 48
    var j = outputs.lowerBound
    if strips > 0 {
        while j &+ 8 <= outputs.upperBound {
            var i = 0
            while i < strips {
                backwardWeights8x48(dw + (j &* k &+ i), dy + j, x + i, write: write, m: m, k: k, n: n)
                i &+= 48
            }
            if strips < k {
                // The columns after the strips, through the 8-lane kernel's column tails, rows 4 at a time.
                denseBackwardWeightsColumns(dw, dy, x, m: m, k: k, n: n, write: write, outputs: j ..< j &+ 8,
                                            columns: strips)
            }
            j &+= 8
        }
    }
    // Rows left (and db for the whole range) through the 8-lane kernel.
    denseBackwardWeightsBlock(dw, db, dy, x, m: m, k: k, n: n, write: write, outputs: j ..< outputs.upperBound,
                              wide: false, bias: false)
    backwardBias(db + outputs.lowerBound, dy + outputs.lowerBound, write: write, m: m,
                 columns: outputs.count, stride: n)
}

/// dw[0..<8, 0..<48] (+)= dy[:, 0..<8]ᵀ·x[:, 0..<48], written as `write` says: backwardWeights4x24's chains, 8
/// rows by 48 columns (24 accumulators; 3 loads of x and 8 broadcasts of dy feed 24 FMAs).
@inline(never)
private func backwardWeights8x48(_ dw: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                 _ x: UnsafePointer<Float>, write: GradientWrite, m: Int, k: Int, n: Int) {
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
        xr += k
        d += n
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
