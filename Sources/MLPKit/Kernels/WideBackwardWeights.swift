// The dense layer's weight-gradient kernel again with 16-lane vectors: dW = dyᵀ·x and db = Σ dy.
//
// For CPUs that run 512-bit FMAs at full rate. It gives exactly the bits of its 8-lane twin in
// DenseBackwardWeights.swift; WideForward.swift says why the 16-lane kernels exist.
//
// How the bits stay the same: the lanes run across K, and each element's sum is a chain over the samples in order:
// as many lanes as there are, each lane's chain is the same. The columns after the last multiple of 8 stay scalar
// (multiply, then add), as in the 8-lane kernels.
//
// Register tiles fill 24 of the 32 registers with accumulators. From batches of 32, x (by strips of 48 columns)
// and dy (by groups of 8 columns) are first copied into a thread's scratch (`ThreadScratch`, `packColumns`): their
// rows of 1024 floats map to the same few cache sets, so in place a tile's strips do not stay in L1 between uses.
// Packing moves values, never changes them. Every function is `@inline(never)`, for the reason given in
// DenseForward.swift.

/// Batches from which dW packs its operands (below, the packing costs more than it saves: measured at 16).
let packedWeightRows = 32

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
