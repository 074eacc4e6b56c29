// SIMD8 and SIMD16 loads, stores and reductions shared by the kernel files.

/// Loads 8 floats from a possibly unaligned address: buffers come from anywhere, rows start anywhere.
@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Stores 8 floats to a possibly unaligned address.
@inline(__always)
func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Sums the lanes pairwise (halving twice) so it compiles to a few shuffles and adds, not a scalar loop.
@inline(__always)
func horizontalSum(_ v: SIMD8<Float>) -> Float {
    let h = v.lowHalf + v.highHalf
    let q = h.lowHalf + h.highHalf
    return q[0] + q[1]
}

/// Broadcasts one float to all lanes.
@inline(__always)
func splat(_ s: Float) -> SIMD8<Float> {
    SIMD8<Float>(repeating: s)
}

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
