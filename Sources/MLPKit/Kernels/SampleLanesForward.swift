// The dense layer's forward kernel for small layers: y = x·wᵀ + b with the samples across the lanes.
//
// With few inputs or outputs (a 40 → 20 or 20 → 10 layer), the dot-product kernels of DenseForward.swift and
// WideForward.swift spend their time on horizontal sums and calls, not on FMAs: 11 GFLOP/s for 20 → 10 at batch
// 1024. Here 16 samples go across a vector's lanes, so every operation does the work of 16 samples. Each output
// is still formed in forward4x3's order, so the bits are the same: 8 partial sums over i ≡ 0…7 (mod 8), one
// vector each, added in `horizontalSum`'s tree (lane by lane), then the scalar tail in order, then the bias.

/// Whether the blocks of 16 samples of a layer with K inputs take `denseForwardSampleLanes` for `outputs` outputs:
/// when there are 8 outputs or more, and the inputs are few (K < 256) or the outputs too few for a 12-wide tile of
/// WideForward.swift. Measured at batch 1024 with 16-lane vectors, in GFLOP/s against the dot-product kernels:
/// 40 → 20 47 against 33, 20 → 10 29 against 11, 128 → 128 99 against 83, 784 → 10 50 against 39; 784 → 20 stays
/// with the tiles (70 against 78), as do 4 outputs or fewer (28 against 33 for 784 → 4).
@inline(__always)
func prefersSampleLanes(k: Int, outputs: Int) -> Bool {
    outputs >= 8 && (k < 256 || outputs < 12)
}

/// y[0..<rows, outputs] = x[0..<rows]·w[outputs]ᵀ + b[outputs] for `rows` a multiple of 16 and K ≥ 8, exactly as
/// `denseForwardBlock` forms it. Each block of 16 samples is transposed into the
/// thread's scratch (input i of the 16 samples as one vector), outputs go 3 at a time into the scratch too (output
/// j of the 16 samples as one vector), and they are transposed back into y's rows.
@inline(never)
func denseForwardSampleLanes(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                             _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>, rows: Int, k: Int, n: Int,
                             outputs: Range<Int>) {
    let columns = ThreadScratch.floats(k &* 16 &+ outputs.count &* 16 &+ 32)
    let sums = columns + k &* 16
    var r = 0
    while r < rows {
        transpose16(columns, from: x + r &* k, stride: k, count: k)
        var j = 0
        while j < outputs.count {
            let count = min(3, outputs.count &- j), first = outputs.lowerBound &+ j
            sampleLanesOutputs(sums + j &* 16, columns, w + first &* k, b + first, k: k, count: count)
            j &+= count
        }
        // Back to rows: sums holds output j of the 16 samples at j·16.
        let block = y + (r &* n &+ outputs.lowerBound)
        j = 0
        while j &+ 8 <= outputs.count {
            transpose8x8(block + j, stride: n, from: sums + j &* 16, stride: 16)
            transpose8x8(block + (8 &* n &+ j), stride: n, from: sums + (j &* 16 &+ 8), stride: 16)
            j &+= 8
        }
        while j < outputs.count {
            var s = 0
            while s < 16 {
                block[s &* n &+ j] = sums[j &* 16 &+ s]
                s &+= 1
            }
            j &+= 1
        }
        r &+= 16
    }
}

/// columns[i·16 + s] = x[s·stride + i] for 16 samples s and i in 0..<count: 8 inputs at a time as two 8 × 8
/// transposes, then the rest one by one.
@inline(never)
private func transpose16(_ columns: UnsafeMutablePointer<Float>, from x: UnsafePointer<Float>, stride: Int,
                         count: Int) {
    var i = 0
    while i &+ 8 <= count {
        transpose8x8(columns + i &* 16, stride: 16, from: x + i, stride: stride)
        transpose8x8(columns + (i &* 16 &+ 8), stride: 16, from: x + (8 &* stride &+ i), stride: stride)
        i &+= 8
    }
    while i < count {
        var s = 0
        while s < 16 {
            columns[i &* 16 &+ s] = x[s &* stride &+ i]
            s &+= 1
        }
        i &+= 1
    }
}

/// out[c·outStride + r] = x[r·stride + c] for r, c in 0..<8. Flattened, x's 8 rows are 64 values whose index bits
/// are (r, c); taking the even values, then the odd ones, rotates those bits right by one, so three such rounds
/// give (c, r), the transpose.
@inline(__always)
private func transpose8x8(_ out: UnsafeMutablePointer<Float>, stride outStride: Int, from x: UnsafePointer<Float>,
                          stride: Int) {
    var v = (load8(x), load8(x + stride), load8(x + 2 &* stride), load8(x + 3 &* stride), load8(x + 4 &* stride),
             load8(x + 5 &* stride), load8(x + 6 &* stride), load8(x + 7 &* stride))
    for _ in 0..<3 {
        let a = SIMD16(lowHalf: v.0, highHalf: v.1), b = SIMD16(lowHalf: v.2, highHalf: v.3)
        let c = SIMD16(lowHalf: v.4, highHalf: v.5), d = SIMD16(lowHalf: v.6, highHalf: v.7)
        v = (a.evenHalf, b.evenHalf, c.evenHalf, d.evenHalf, a.oddHalf, b.oddHalf, c.oddHalf, d.oddHalf)
    }
    store8(v.0, out); store8(v.1, out + outStride); store8(v.2, out + 2 &* outStride)
    store8(v.3, out + 3 &* outStride); store8(v.4, out + 4 &* outStride); store8(v.5, out + 5 &* outStride)
    store8(v.6, out + 6 &* outStride); store8(v.7, out + 7 &* outStride)
}

/// The outputs of `count` (1 to 3) rows of W (K apart from w) for 16 transposed samples, into sums[c·16 ..< c·16 + 16].
@inline(never)
private func sampleLanesOutputs(_ sums: UnsafeMutablePointer<Float>, _ columns: UnsafePointer<Float>,
                                _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>, k: Int, count: Int) {
    // Rows past `count` repeat the last one; their sums are not stored.
    let w0 = w, w1 = count > 1 ? w0 + k : w0, w2 = count > 2 ? w1 + k : w1
    var p0 = SIMD16<Float>(), p1 = SIMD16<Float>(), p2 = SIMD16<Float>(), p3 = SIMD16<Float>()
    var p4 = SIMD16<Float>(), p5 = SIMD16<Float>(), p6 = SIMD16<Float>(), p7 = SIMD16<Float>()
    var q0 = SIMD16<Float>(), q1 = SIMD16<Float>(), q2 = SIMD16<Float>(), q3 = SIMD16<Float>()
    var q4 = SIMD16<Float>(), q5 = SIMD16<Float>(), q6 = SIMD16<Float>(), q7 = SIMD16<Float>()
    var r0 = SIMD16<Float>(), r1 = SIMD16<Float>(), r2 = SIMD16<Float>(), r3 = SIMD16<Float>()
    var r4 = SIMD16<Float>(), r5 = SIMD16<Float>(), r6 = SIMD16<Float>(), r7 = SIMD16<Float>()
    var i = 0
    while i &+ 8 <= k {
        let c = columns + i &* 16
        var u = load16(c)
        p0 = p0.addingProduct(u, splat16(w0[i])); q0 = q0.addingProduct(u, splat16(w1[i]))
        r0 = r0.addingProduct(u, splat16(w2[i]))
        u = load16(c + 16)
        p1 = p1.addingProduct(u, splat16(w0[i &+ 1])); q1 = q1.addingProduct(u, splat16(w1[i &+ 1]))
        r1 = r1.addingProduct(u, splat16(w2[i &+ 1]))
        u = load16(c + 32)
        p2 = p2.addingProduct(u, splat16(w0[i &+ 2])); q2 = q2.addingProduct(u, splat16(w1[i &+ 2]))
        r2 = r2.addingProduct(u, splat16(w2[i &+ 2]))
        u = load16(c + 48)
        p3 = p3.addingProduct(u, splat16(w0[i &+ 3])); q3 = q3.addingProduct(u, splat16(w1[i &+ 3]))
        r3 = r3.addingProduct(u, splat16(w2[i &+ 3]))
        u = load16(c + 64)
        p4 = p4.addingProduct(u, splat16(w0[i &+ 4])); q4 = q4.addingProduct(u, splat16(w1[i &+ 4]))
        r4 = r4.addingProduct(u, splat16(w2[i &+ 4]))
        u = load16(c + 80)
        p5 = p5.addingProduct(u, splat16(w0[i &+ 5])); q5 = q5.addingProduct(u, splat16(w1[i &+ 5]))
        r5 = r5.addingProduct(u, splat16(w2[i &+ 5]))
        u = load16(c + 96)
        p6 = p6.addingProduct(u, splat16(w0[i &+ 6])); q6 = q6.addingProduct(u, splat16(w1[i &+ 6]))
        r6 = r6.addingProduct(u, splat16(w2[i &+ 6]))
        u = load16(c + 112)
        p7 = p7.addingProduct(u, splat16(w0[i &+ 7])); q7 = q7.addingProduct(u, splat16(w1[i &+ 7]))
        r7 = r7.addingProduct(u, splat16(w2[i &+ 7]))
        i &+= 8
    }
    // horizontalSum's tree: lanes l and l + 4, then l and l + 2, then 0 and 1.
    var s0 = ((p0 + p4) + (p2 + p6)) + ((p1 + p5) + (p3 + p7))
    var s1 = ((q0 + q4) + (q2 + q6)) + ((q1 + q5) + (q3 + q7))
    var s2 = ((r0 + r4) + (r2 + r6)) + ((r1 + r5) + (r3 + r7))
    while i < k {
        let u = load16(columns + i &* 16)
        s0 += u * splat16(w0[i]); s1 += u * splat16(w1[i]); s2 += u * splat16(w2[i])
        i &+= 1
    }
    store16(s0 + splat16(b[0]), sums)
    if count > 1 { store16(s1 + splat16(b[1]), sums + 16) }
    if count > 2 { store16(s2 + splat16(b[2]), sums + 32) }
}
