// The machine's limit for the kernels: how many fused multiply-adds a core retires when it does nothing else.

/// Measures the FMA peak: GFLOP/s of loops of nothing but independent SIMD fused multiply-adds (two FLOPs per
/// lane), on several threads at once, so that training speeds can be stated as a fraction of what the cores
/// can do in the same run (clock speeds and shared machines vary too much for absolute figures to compare).
package enum FMAPeak {
    /// The peak of `threads` threads running at once.
    public struct Result: Sendable {
        /// Threads that ran the loop together.
        public let threads: Int
        /// Their summed GFLOP/s: the limit for work spread over that many threads.
        public let total: Double
        /// The median thread's GFLOP/s.
        public var perThread: Double { total / Double(threads) }
    }

    /// Runs the loop on `threads` threads at once for about `seconds`, several times, keeping each thread's
    /// best run (other work can only slow a run down) and summing them.
    public static func measure(threads: Int, seconds: Double = 0.2) -> Result {
        let iterations = 1 << 16
        var rates = [Double](repeating: 0, count: max(threads, 1))
        rates.withUnsafeMutableBufferPointer { slots in
            let shared = UncheckedSendable(value: slots)
            forEachWorker(max(threads, 1)) { worker in
                var best = 0.0, sink: Float = 0
                let clock = Stopwatch()
                while clock.seconds < seconds {
                    for wide in [false, true] {
                        let start = Stopwatch()
                        let (flops, value) = wide ? loop16(iterations, seed: Float(worker))
                                                  : loop8(iterations, seed: Float(worker))
                        best = max(best, Double(flops) / start.seconds / 1e9)
                        sink += value
                    }
                }
                shared.value[worker] = sink.isNaN ? 0 : best   // `sink` keeps the loops from being optimised away
            }
        }
        return Result(threads: max(threads, 1), total: rates.reduce(0, +))
    }

    /// 12 independent chains a = a·m + c of 8-lane FMAs (12 of the 16 AVX2 registers; a settles at
    /// c / (1 − m), far from denormals): the FLOPs done and a value to keep.
    @inline(never)
    static func loop8(_ iterations: Int, seed: Float) -> (Int, Float) {
        chains(SIMD8<Float>.self, iterations, seed: seed)
    }

    /// The same with 16-lane vectors: one AVX-512 register each where the build targets it.
    @inline(never)
    static func loop16(_ iterations: Int, seed: Float) -> (Int, Float) {
        chains(SIMD16<Float>.self, iterations, seed: seed)
    }

    /// The loop itself, for one vector width (inlined into each caller, so it is compiled for that width).
    @inline(__always)
    private static func chains<V: SIMD>(_: V.Type, _ iterations: Int, seed: Float) -> (Int, Float)
        where V.Scalar == Float {
        let m = V(repeating: 0.999_999), c = V(repeating: 1e-7)
        var a0 = V(repeating: seed), a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3, a4 = a0 + 4, a5 = a0 + 5
        var a6 = a0 + 6, a7 = a0 + 7, a8 = a0 + 8, a9 = a0 + 9, a10 = a0 + 10, a11 = a0 + 11
        for _ in 0..<iterations {
            a0 = c.addingProduct(a0, m); a1 = c.addingProduct(a1, m); a2 = c.addingProduct(a2, m)
            a3 = c.addingProduct(a3, m); a4 = c.addingProduct(a4, m); a5 = c.addingProduct(a5, m)
            a6 = c.addingProduct(a6, m); a7 = c.addingProduct(a7, m); a8 = c.addingProduct(a8, m)
            a9 = c.addingProduct(a9, m); a10 = c.addingProduct(a10, m); a11 = c.addingProduct(a11, m)
        }
        let sum = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11
        return (iterations * 12 * V.scalarCount * 2, sum.sum())
    }
}
