// The sparse first layer's inner loops: strips gathered from a matrix's rows (`accumulate`), a row added (`axpy`).
//
// `accumulate`: a strip of floats a, kept in registers, plus values[e] times the strip at row rows[e] of a matrix
// with rows `stride` apart, for every e in order. The forward pass gathers rows of Vᵀ into an output row; the
// step gathers rows of −η·δ into a row of Vᵀ. The strip is 48 wide (six independent chains of FMAs, enough to
// hide their latency), or 32 or 8 at the end of a range; each float's sum is formed the same way whatever the width.

/// The width of the next strip when `remaining` floats (a multiple of 8) are left: 48, or 32 or 8 at the end.
@inline(__always)
func stripWidth(_ remaining: Int) -> Int { remaining >= 48 ? 48 : remaining >= 32 ? 32 : 8 }

/// a[0..<width] += Σₑ values[e]·m[rows[e]·stride ..< +width], e in order, for a width from `stripWidth`.
@inline(__always)
func accumulate(_ a: UnsafeMutablePointer<Float>, _ m: UnsafePointer<Float>, _ rows: UnsafePointer<Int32>,
                _ values: UnsafePointer<Float>, count: Int, stride: Int, width: Int) {
    switch width {
    case 48: accumulate48(a, m, rows, values, count: count, stride: stride)
    case 32: accumulate32(a, m, rows, values, count: count, stride: stride)
    default: accumulate8(a, m, rows, values, count: count, stride: stride)
    }
}

/// a[0..<48] += Σₑ values[e]·m[rows[e]·stride ..< +48], e in order.
@inline(never)
private func accumulate48(_ a: UnsafeMutablePointer<Float>, _ m: UnsafePointer<Float>, _ rows: UnsafePointer<Int32>,
                          _ values: UnsafePointer<Float>, count: Int, stride: Int) {
    var a0 = load8(a), a1 = load8(a + 8), a2 = load8(a + 16), a3 = load8(a + 24), a4 = load8(a + 32)
    var a5 = load8(a + 40)
    var e = 0
    while e < count {
        let z = splat(values[e]), s = m + Int(rows[e]) &* stride
        a0 = a0.addingProduct(z, load8(s)); a1 = a1.addingProduct(z, load8(s + 8))
        a2 = a2.addingProduct(z, load8(s + 16)); a3 = a3.addingProduct(z, load8(s + 24))
        a4 = a4.addingProduct(z, load8(s + 32)); a5 = a5.addingProduct(z, load8(s + 40))
        e &+= 1
    }
    store8(a0, a); store8(a1, a + 8); store8(a2, a + 16); store8(a3, a + 24); store8(a4, a + 32)
    store8(a5, a + 40)
}

/// a[0..<32] += Σₑ values[e]·m[rows[e]·stride ..< +32], e in order.
@inline(never)
private func accumulate32(_ a: UnsafeMutablePointer<Float>, _ m: UnsafePointer<Float>, _ rows: UnsafePointer<Int32>,
                          _ values: UnsafePointer<Float>, count: Int, stride: Int) {
    var a0 = load8(a), a1 = load8(a + 8), a2 = load8(a + 16), a3 = load8(a + 24)
    var e = 0
    while e < count {
        let z = splat(values[e]), s = m + Int(rows[e]) &* stride
        a0 = a0.addingProduct(z, load8(s)); a1 = a1.addingProduct(z, load8(s + 8))
        a2 = a2.addingProduct(z, load8(s + 16)); a3 = a3.addingProduct(z, load8(s + 24))
        e &+= 1
    }
    store8(a0, a); store8(a1, a + 8); store8(a2, a + 16); store8(a3, a + 24)
}

/// a[0..<8] += Σₑ values[e]·m[rows[e]·stride ..< +8], e in order.
@inline(never)
private func accumulate8(_ a: UnsafeMutablePointer<Float>, _ m: UnsafePointer<Float>, _ rows: UnsafePointer<Int32>,
                         _ values: UnsafePointer<Float>, count: Int, stride: Int) {
    var a0 = load8(a)
    var e = 0
    while e < count {
        a0 = a0.addingProduct(splat(values[e]), load8(m + Int(rows[e]) &* stride))
        e &+= 1
    }
    store8(a0, a)
}

/// y[0..<count] += a · x[0..<count]: one input's row of a transposed first layer added into (or moved by) a
/// dense row, as the sparse first layers do for each input that is not background.
@inline(__always)
func axpy(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ a: Float, count: Int) {
    let scale = splat(a)
    var i = 0
    while i &+ 8 <= count {
        store8(load8(y + i).addingProduct(scale, load8(x + i)), y + i)
        i &+= 8
    }
    while i < count {
        y[i] = y[i].addingProduct(a, x[i])
        i &+= 1
    }
}
