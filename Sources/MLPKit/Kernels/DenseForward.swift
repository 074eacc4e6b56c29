// The dense layer's forward kernel for a batch of M samples: y = x·wᵀ + b.
//
// A SIMD, register-blocked version of its naive twin in DenseNaive.swift, which defines what it computes. M == 1
// goes to the batch-1 kernels in VectorKernels.swift; blocks of 16 samples of small layers to SampleLanesForward.swift. The backward kernels are in DenseBackwardInput.swift (dL/dx)
// and DenseBackwardWeights.swift (dW); the conventions below hold for all three files.
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
/// `denseForward`. Blocks of 16 rows take `denseForwardSampleLanes` where it is faster (`prefersSampleLanes`).
/// Each output is formed the same way whatever `outputs` is, as long as its bounds are multiples of 3 (or N), so
/// disjoint ranges can run on different threads and give the same bits. `wide` runs it
/// with 16-lane vectors (WideForward.swift), same bits.
@inline(never)
func denseForwardBlock(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                       _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>, rows: Int, k: Int, n: Int,
                       outputs: Range<Int>, wide: Bool = VectorWidth.isWide) {
    guard rows > 0 else { return }
    if rows >= 16, prefersSampleLanes(k: k, outputs: outputs.count) {
        let lanes = rows & ~15
        denseForwardSampleLanes(y, x, w, b, rows: lanes, k: k, n: n, outputs: outputs)
        denseForwardBlock(y + lanes &* n, x + lanes &* k, w, b, rows: rows &- lanes, k: k, n: n, outputs: outputs,
                          wide: wide)
        return
    }
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
