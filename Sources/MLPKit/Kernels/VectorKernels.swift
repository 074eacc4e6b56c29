// Batch-1 dense-layer kernels: one sample against a weight matrix. Training one sample at a time spends
// all its time here, so these are SIMD and register-blocked like the batched kernels in DenseForward.swift,
// DenseBackwardInput.swift and DenseBackwardWeights.swift.
//
// Conventions: row-major contiguous buffers, outputs first, sizes last. w is (N,K) — N outputs by
// K inputs; x and dx are (K); y, dy and b are (N). Every kernel accepts any K and N (scalar tails).
// Like the batched kernels they are `@inline(never)`, for the reason given in DenseForward.swift: a
// copy inlined into a caller with constant sizes can come out several times slower.

/// y = w·x + b.   w is (N,K), x is (K), b is (N); y is (N). Overwrites y.
///
/// Four rows of W are dotted with x at once so each load of x feeds four FMAs; each row keeps two
/// accumulators so eight independent FMA chains hide the FMA latency. Rows shorter than one SIMD
/// vector (a 2-input layer) go to `matVecShortRows` instead.
@inline(never)
func matVec(_ y: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
            _ b: UnsafePointer<Float>, k: Int, n: Int) {
    if k < 8 {
        matVecShortRows(y, w, x, b, k: k, n: n)
        return
    }
    var j = 0
    while j &+ 4 <= n {
        let w0 = w + j &* k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var c0 = SIMD8<Float>(), c1 = SIMD8<Float>(), c2 = SIMD8<Float>(), c3 = SIMD8<Float>()
        var i = 0
        while i &+ 16 <= k {
            let u = load8(x + i), v = load8(x + (i &+ 8))
            a0 = a0.addingProduct(load8(w0 + i), u); c0 = c0.addingProduct(load8(w0 + (i &+ 8)), v)
            a1 = a1.addingProduct(load8(w1 + i), u); c1 = c1.addingProduct(load8(w1 + (i &+ 8)), v)
            a2 = a2.addingProduct(load8(w2 + i), u); c2 = c2.addingProduct(load8(w2 + (i &+ 8)), v)
            a3 = a3.addingProduct(load8(w3 + i), u); c3 = c3.addingProduct(load8(w3 + (i &+ 8)), v)
            i &+= 16
        }
        if i &+ 8 <= k {
            let u = load8(x + i)
            a0 = a0.addingProduct(load8(w0 + i), u); a1 = a1.addingProduct(load8(w1 + i), u)
            a2 = a2.addingProduct(load8(w2 + i), u); a3 = a3.addingProduct(load8(w3 + i), u)
            i &+= 8
        }
        var s0 = horizontalSum(a0 + c0), s1 = horizontalSum(a1 + c1)
        var s2 = horizontalSum(a2 + c2), s3 = horizontalSum(a3 + c3)
        while i < k {
            let u = x[i]
            s0 += w0[i] * u; s1 += w1[i] * u; s2 += w2[i] * u; s3 += w3[i] * u
            i &+= 1
        }
        y[j] = s0 + b[j]; y[j &+ 1] = s1 + b[j &+ 1]; y[j &+ 2] = s2 + b[j &+ 2]; y[j &+ 3] = s3 + b[j &+ 3]
        j &+= 4
    }
    while j < n {
        let w0 = w + j &* k
        var a0 = SIMD8<Float>(), c0 = SIMD8<Float>()
        var i = 0
        while i &+ 16 <= k {
            a0 = a0.addingProduct(load8(w0 + i), load8(x + i))
            c0 = c0.addingProduct(load8(w0 + (i &+ 8)), load8(x + (i &+ 8)))
            i &+= 16
        }
        if i &+ 8 <= k {
            a0 = a0.addingProduct(load8(w0 + i), load8(x + i))
            i &+= 8
        }
        var s0 = horizontalSum(a0 + c0)
        while i < k {
            s0 += w0[i] * x[i]
            i &+= 1
        }
        y[j] = s0 + b[j]
        j &+= 1
    }
}

/// `matVec` over W's rows in blocks of 64, from the last block to the first (each block in order): the same
/// outputs, the same bits. A single-sample pass over a network larger than the cache that alternates this order
/// with matVec's reads first the rows the previous pass read last, which are still cached (`MLP.forward`).
@inline(never)
func matVecDescending(_ y: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                      _ b: UnsafePointer<Float>, k: Int, n: Int) {
    var start = (n &- 1) / 64 &* 64
    while start >= 0 {
        matVec(y + start, w + start &* k, x, b + start, k: k, n: min(64, n &- start))
        start &-= 64
    }
}

/// y = w·x + b for K < 8.   w is (N,K), x is (K), b is (N); y is (N). Overwrites y.
///
/// With so few inputs the per-row setup of `matVec` costs more than the arithmetic, so SIMD runs
/// across 8 rows instead, gathering each column of the 8×K block with scalar loads.
@inline(__always)
private func matVecShortRows(_ y: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>,
                             _ x: UnsafePointer<Float>, _ b: UnsafePointer<Float>, k: Int, n: Int) {
    var j = 0
    while j &+ 8 <= n {
        var acc = load8(b + j)
        var p = w + j &* k
        var i = 0
        while i < k {
            let column = SIMD8<Float>(p[0], p[k], p[k &* 2], p[k &* 3], p[k &* 4], p[k &* 5], p[k &* 6],
                                      p[k &* 7])
            acc = acc.addingProduct(column, SIMD8<Float>(repeating: x[i]))
            p += 1
            i &+= 1
        }
        store8(acc, y + j)
        j &+= 8
    }
    while j < n {
        var s = b[j]
        let row = w + j &* k
        var i = 0
        while i < k {
            s += row[i] * x[i]
            i &+= 1
        }
        y[j] = s
        j &+= 1
    }
}

/// dx = dyᵀ·w, i.e. dx[i] = Σ_j dy[j]·w[j,i].   dy is (N), w is (N,K); dx is (K). Overwrites dx.
///
/// A 32-wide strip of dx stays in registers while every row of W is added into it, so dx is written
/// once instead of once per row; two rows go in per step so the strip is two sets of four independent
/// FMA chains (summed at the end), enough to hide the FMA latency.
@inline(never)
func vecMat(_ dx: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
            k: Int, n: Int) {
    var i = 0
    while i &+ 32 <= k {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var c0 = SIMD8<Float>(), c1 = SIMD8<Float>(), c2 = SIMD8<Float>(), c3 = SIMD8<Float>()
        var row = w + i
        var j = 0
        while j &+ 2 <= n {
            let d = SIMD8<Float>(repeating: dy[j]), e = SIMD8<Float>(repeating: dy[j &+ 1])
            let next = row + k
            a0 = a0.addingProduct(d, load8(row)); a1 = a1.addingProduct(d, load8(row + 8))
            a2 = a2.addingProduct(d, load8(row + 16)); a3 = a3.addingProduct(d, load8(row + 24))
            c0 = c0.addingProduct(e, load8(next)); c1 = c1.addingProduct(e, load8(next + 8))
            c2 = c2.addingProduct(e, load8(next + 16)); c3 = c3.addingProduct(e, load8(next + 24))
            row = next + k
            j &+= 2
        }
        if j < n {
            let d = SIMD8<Float>(repeating: dy[j])
            a0 = a0.addingProduct(d, load8(row)); a1 = a1.addingProduct(d, load8(row + 8))
            a2 = a2.addingProduct(d, load8(row + 16)); a3 = a3.addingProduct(d, load8(row + 24))
        }
        store8(a0 + c0, dx + i); store8(a1 + c1, dx + (i &+ 8))
        store8(a2 + c2, dx + (i &+ 16)); store8(a3 + c3, dx + (i &+ 24))
        i &+= 32
    }
    while i &+ 8 <= k {
        var a0 = SIMD8<Float>(), c0 = SIMD8<Float>()
        var row = w + i
        var j = 0
        while j &+ 2 <= n {
            a0 = a0.addingProduct(SIMD8<Float>(repeating: dy[j]), load8(row))
            c0 = c0.addingProduct(SIMD8<Float>(repeating: dy[j &+ 1]), load8(row + k))
            row += k &* 2
            j &+= 2
        }
        if j < n { a0 = a0.addingProduct(SIMD8<Float>(repeating: dy[j]), load8(row)) }
        store8(a0 + c0, dx + i)
        i &+= 8
    }
    // The last K % 8 columns: four partial sums, so a long column (a layer with few inputs and many
    // outputs) is not one chain of dependent adds.
    while i < k {
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        var p = w + i
        var j = 0
        while j &+ 4 <= n {
            s0 += dy[j] * p[0]; s1 += dy[j &+ 1] * p[k]
            s2 += dy[j &+ 2] * p[k &* 2]; s3 += dy[j &+ 3] * p[k &* 3]
            p += k &* 4
            j &+= 4
        }
        while j < n {
            s0 += dy[j] * p[0]
            p += k
            j &+= 1
        }
        dx[i] = (s0 + s1) + (s2 + s3)
        i &+= 1
    }
}

/// dw[j,:] += dy[j]·x and db += dy.   dy is (N), x is (K); dw is (N,K), db is (N). Accumulates.
@inline(never)
func rank1Update(_ dw: UnsafeMutablePointer<Float>, _ db: UnsafeMutablePointer<Float>,
                 _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, k: Int, n: Int) {
    addScaledOuterProduct(dw, db, dy, x, scale: 1, k: k, n: n)
}

/// w[j,:] += scale·dy[j]·x and b += scale·dy.   dy is (N), x is (K); w is (N,K), b is (N). Accumulates.
///
/// Per-sample SGD with scale = −learningRate: W is read and written once per sample, instead of
/// accumulating into a gradient buffer, stepping, and zeroing it (three passes over W-sized memory).
@inline(never)
func rank1Step(_ w: UnsafeMutablePointer<Float>, _ b: UnsafeMutablePointer<Float>,
               _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, scale: Float, k: Int, n: Int) {
    addScaledOuterProduct(w, b, dy, x, scale: scale, k: k, n: n)
}

/// a[j,:] += scale·dy[j]·x and c += scale·dy.   dy is (N), x is (K); a is (N,K), c is (N). Accumulates.
///
/// The shared body of rank1Update and rank1Step. The work is one load, FMA and store per element of a,
/// so it runs at memory speed; 32-wide steps keep several loads in flight. Rows shorter than one SIMD
/// vector go to `addScaledOuterProductShortRows`.
@inline(__always)
private func addScaledOuterProduct(_ a: UnsafeMutablePointer<Float>, _ c: UnsafeMutablePointer<Float>,
                                   _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                                   scale: Float, k: Int, n: Int) {
    if k < 8 {
        addScaledOuterProductShortRows(a, c, dy, x, scale: scale, k: k, n: n)
        return
    }
    var j = 0
    while j < n {
        let s = scale * dy[j]
        c[j] += s
        let d = SIMD8<Float>(repeating: s)
        let row = a + j &* k
        var i = 0
        while i &+ 32 <= k {
            store8(load8(row + i).addingProduct(d, load8(x + i)), row + i)
            store8(load8(row + (i &+ 8)).addingProduct(d, load8(x + (i &+ 8))), row + (i &+ 8))
            store8(load8(row + (i &+ 16)).addingProduct(d, load8(x + (i &+ 16))), row + (i &+ 16))
            store8(load8(row + (i &+ 24)).addingProduct(d, load8(x + (i &+ 24))), row + (i &+ 24))
            i &+= 32
        }
        while i &+ 8 <= k {
            store8(load8(row + i).addingProduct(d, load8(x + i)), row + i)
            i &+= 8
        }
        while i < k {
            row[i] += s * x[i]
            i &+= 1
        }
        j &+= 1
    }
}

/// a[j,:] += scale·dy[j]·x and c += scale·dy for K < 8.   As `addScaledOuterProduct`.
///
/// With so few inputs the per-row loop overhead costs more than the arithmetic, so four rows are
/// updated per step, sharing each load of x.
@inline(__always)
private func addScaledOuterProductShortRows(_ a: UnsafeMutablePointer<Float>,
                                            _ c: UnsafeMutablePointer<Float>, _ dy: UnsafePointer<Float>,
                                            _ x: UnsafePointer<Float>, scale: Float, k: Int, n: Int) {
    var j = 0
    while j &+ 4 <= n {
        let s0 = scale * dy[j], s1 = scale * dy[j &+ 1], s2 = scale * dy[j &+ 2], s3 = scale * dy[j &+ 3]
        c[j] += s0; c[j &+ 1] += s1; c[j &+ 2] += s2; c[j &+ 3] += s3
        let row0 = a + j &* k, row1 = row0 + k, row2 = row1 + k, row3 = row2 + k
        var i = 0
        while i < k {
            let u = x[i]
            row0[i] += s0 * u; row1[i] += s1 * u; row2[i] += s2 * u; row3[i] += s3 * u
            i &+= 1
        }
        j &+= 4
    }
    while j < n {
        let s = scale * dy[j]
        c[j] += s
        let row = a + j &* k
        var i = 0
        while i < k {
            row[i] += s * x[i]
            i &+= 1
        }
        j &+= 1
    }
}
