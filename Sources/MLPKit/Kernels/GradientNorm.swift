// Clipping by the global norm, as kernels: the shards' gradients gathered into one, each row's sum of squares,
// and the gathered gradient read back times the clipping factor.
//
// Every element is summed over the shards left to right as `ShardGradients` sums it, and every row's sum of
// squares is formed whole, in one order, by whichever block holds the row; so the norm is the same bits for any
// blocks and threads, and a factor of 1 leaves the update exactly as it is without clipping.

/// shards[0][range] becomes g₀ + g₁ + … (left to right, element by element), the sum the update reads.
func gatherShards(_ shards: UnsafePointer<UnsafeMutablePointer<Float>>, count: Int, range: Range<Int>) {
    guard count > 1 else { return }
    let sum = ShardGradients(shards: shards, count: count), g = shards[0]
    var i = range.lowerBound
    while i &+ 8 <= range.upperBound {
        store8(sum.vector(i), g + i)
        i &+= 8
    }
    let lanes = range.upperBound &- i
    if lanes > 0 { storePartial(sum.partial(i, lanes: lanes), g + i, lanes: lanes) }
}

/// Σ x[i]² over `count` floats, in Double: 8 running sums, added together at the end.
func sumOfSquares(_ x: UnsafePointer<Float>, count: Int) -> Double {
    var sums = SIMD8<Double>()
    var i = 0
    while i &+ 8 <= count {
        let v = SIMD8<Double>(load8(x + i))
        sums += v * v
        i &+= 8
    }
    var total = sums.sum()
    while i < count {
        total += Double(x[i]) * Double(x[i])
        i &+= 1
    }
    return total
}

/// The factor a gradient of global norm `norm` is multiplied by so that its norm is at most `maximum`:
/// maximum / (norm + 10⁻⁶) when the norm is larger (PyTorch's `clip_grad_norm_`), else exactly 1.
func clippingFactor(norm: Double, maximum: Float) -> Float {
    norm > Double(maximum) ? Float(Double(maximum) / (norm + 1e-6)) : 1
}

/// The gathered gradient (shard 0's buffer, laid out like the parameters) times the clipping factor.
struct ScaledGradient: GradientSource {
    let values: UnsafePointer<Float>
    let factor: Float

    @inline(__always) func vector(_ i: Int) -> SIMD8<Float> { load8(values + i) * SIMD8(repeating: factor) }
    @inline(__always) func partial(_ i: Int, lanes: Int) -> SIMD8<Float> {
        loadPartial(values + i, lanes: lanes) * SIMD8(repeating: factor)
    }
}
