// The dense layer's weight-gradient kernels for a batch of M samples: dW = dyᵀ·x and db = Σ dy.
//
// SIMD, register-blocked versions of the naive twin in DenseNaive.swift, written as a `GradientWrite` says
// (accumulated, overwritten, or stepped straight into the parameters). One sample accumulated or stepped goes to
// the rank-1 kernels in VectorKernels.swift.
//
// Conventions: row-major contiguous buffers, outputs first, sizes last. x is (M,K) — M samples of
// K inputs; w is (N,K) — N outputs by K inputs; b is (N); y and dy are (M,N); dx is (M,K).
// Every kernel accepts any M, K and N: the blocked loops are followed by narrower ones and scalar tails.
// Each blocked loop holds 12 SIMD8 accumulators, leaving 4 of AVX2's 16 vector registers for operands.
//
// Every kernel and every register-blocked block function is `@inline(never)`, for the reason given in
// DenseForward.swift.

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
/// `wide` runs it with 16-lane vectors (WideBackwardWeights.swift), same bits; without `bias`, db is left alone.
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
