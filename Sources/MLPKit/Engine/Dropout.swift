// Inverted dropout's masks from a counter-based generator: each unit's fate is a hash of where it is, not a draw
// from a stream, so no thread, shard, process or resume can change it.

/// The masks of inverted dropout (Srivastava et al. 2014): while training, each input of a layer with dropout
/// rate p is kept with probability 1 − p and scaled by 1 / (1 − p), or set to 0; at inference nothing is dropped
/// and nothing scaled.
///
/// Whether unit u of layer l is kept for sample i (its index in the data) in the run `key` stands for (the seed
/// and the epoch) is a hash of (key, l, i, u): a counter-based generator. So a sample's masks are the same
/// whichever shard, thread or process computes it, and a run resumed mid-epoch draws what it would have drawn.
package enum Dropout {
    /// The key of one epoch of a run seeded with `seed`: every mask of that epoch derives from it.
    package static func key(seed: UInt64, epoch: Int) -> UInt64 {
        mix(mix(seed ^ 0x6472_6F70_6F75_7421) &+ UInt64(truncatingIfNeeded: epoch))
    }

    /// The factor a kept input is scaled by: 1 / (1 − rate).
    static func scale(rate: Float) -> Float { 1 / (1 - rate) }

    /// Hashes below this (of 2²⁴) drop their unit: rate × 2²⁴, rounded.
    static func threshold(rate: Float) -> UInt64 { UInt64((Double(rate) * 16_777_216).rounded()) }

    /// Writes the mask of `units` inputs of layer `layer` for the sample at index `sample`: 1 / (1 − rate) where
    /// the unit is kept, 0 where it is dropped.
    @inline(__always)
    static func fillMask(_ mask: UnsafeMutablePointer<Float>, units: Int, rate: Float, key: UInt64, layer: Int,
                         sample: Int) {
        let row = mix(mix(key &+ UInt64(truncatingIfNeeded: layer)) ^ UInt64(truncatingIfNeeded: sample))
        let threshold = threshold(rate: rate), kept = scale(rate: rate)
        for u in 0..<units {
            let bits = mix(row &+ UInt64(truncatingIfNeeded: u) &* 0x9E37_79B9_7F4A_7C15)
            mask[u] = bits >> 40 >= threshold ? kept : 0
        }
    }

    /// SplitMix64's finalizer: a bijection of 64-bit words whose every output bit depends on every input bit.
    @inline(__always)
    static func mix(_ word: UInt64) -> UInt64 {
        var z = word
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
