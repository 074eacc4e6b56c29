// Timing the dense-layer kernels against their naive twins on the shapes the networks actually use.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Measures the speed of the dense-layer kernels, single-threaded, so a regression or a build without
/// `-target-cpu native` shows up as a number rather than as a slow training run.
package enum KernelBenchmark {
    /// One kernel on one shape. FLOPs are counted as 2·M·K·N (one multiply and one add per weight per
    /// sample); bias and db additions are not counted.
    public struct Result: Sendable {
        /// The kernel's name, e.g. `denseForward`.
        public let name: String
        /// The sizes it ran on, e.g. `M=16 K=784 N=512` (batch, inputs, outputs).
        public let shape: String
        /// Speed of the SIMD kernel, in GFLOP/s.
        public let gflops: Double
        /// Speed of its naive twin, in GFLOP/s; nil when the naive twin was not timed.
        public let naiveGflops: Double?
    }

    /// Times every kernel on the shapes of a 784→512→784 autoencoder layer at batch 16, and the batch-1
    /// kernels on small classifier layers, spending about `seconds` on each SIMD kernel and a quarter
    /// of that on each naive twin: 22 measurements, about 30 × `seconds` in all.
    ///
    /// Each measurement warms up, picks a repetition count that makes one timed chunk last about a
    /// millisecond, times chunks until the budget is spent, and keeps the best chunk: other work on
    /// the machine can only add time, so the fastest chunk is the closest to the kernel's own speed,
    /// and short chunks make it likely that some ran without being interrupted.
    public static func run(seconds: Double = 0.3) -> [Result] {
        var results: [Result] = []
        for (k, n) in [(784, 512), (512, 784)] {
            for kernel in [Kernel.forward, .backwardInput, .backwardWeights] {
                results.append(measure(kernel, m: 16, k: k, n: n, seconds: seconds))
            }
        }
        for (k, n) in [(784, 20), (784, 40), (100, 2), (2, 100)] {
            for kernel in [Kernel.matVec, .vecMat, .rank1Update, .rank1Step] {
                results.append(measure(kernel, m: 1, k: k, n: n, seconds: seconds))
            }
        }
        return results
    }

    /// Times forward, dL/dx and dW of square layers of 64, 256, 1024 and 2048 units at batches of 16, 128 and
    /// 1024 (36 measurements of about `seconds` each; the naive twins are not timed, they would take minutes).
    /// Where this CPU takes 16-lane vectors (`VectorWidth`), each is timed with 8 lanes too, named `…, 8 lanes`.
    public static func shapes(seconds: Double = 0.3) -> [Result] {
        var results: [Result] = []
        for units in [64, 256, 1024, 2048] {
            for batch in [16, 128, 1024] {
                for kernel in [Kernel.forward, .backwardInput, .backwardWeights] {
                    results.append(measure(kernel, m: batch, k: units, n: units, seconds: seconds, naive: false))
                    if VectorWidth.isWide {
                        results.append(measure(kernel, m: batch, k: units, n: units, seconds: seconds, naive: false,
                                               wide: false))
                    }
                }
            }
        }
        return results
    }

    /// Formats results as an aligned plain-text table, one kernel and shape per line; with `peak` (GFLOP/s of
    /// one thread, `FMAPeak`), each speed also as a percentage of it.
    public static func report(_ results: [Result], peak: Double? = nil) -> String {
        let header = ["kernel", "shape", "GFLOP/s"] + (peak == nil ? [] : ["% of FMA peak"])
            + ["naive GFLOP/s", "speed-up"]
        let rows: [[String]] = results.map { result in
            let naive = result.naiveGflops
            return [result.name, result.shape, fixed(result.gflops, 1)]
                + (peak.map { [fixed(100 * result.gflops / $0, 0) + "%"] } ?? [])
                + [naive.map { fixed($0, 2) } ?? "-",
                   naive.map { $0 > 0 ? fixed(result.gflops / $0, 1) + "x" : "-" } ?? "-"]
        }
        let table = [header] + rows
        let widths = (0..<header.count).map { column in table.map { $0[column].count }.max() ?? 0 }
        let lines: [String] = table.map { cells in
            // Names and shapes align left, numbers right.
            cells.indices.map { column in
                let cell = cells[column]
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column < 2 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The kernels that can be timed.
    private enum Kernel: String {
        case forward = "denseForward", backwardInput = "denseBackwardInput"
        case backwardWeights = "denseBackwardWeights"
        case matVec, vecMat, rank1Update, rank1Step
    }

    /// Every buffer any kernel needs, for one shape, allocated once outside the timed loops.
    private final class Buffers {
        let x, w, b, y, dy, dx, dw, db: UnsafeMutablePointer<Float>
        let all: [UnsafeMutablePointer<Float>]

        init(m: Int, k: Int, n: Int) {
            // Values in [-1, 1) from a fixed LCG: no zeros or denormals, same data on every run.
            var state: UInt32 = 12345
            func filled(_ count: Int) -> UnsafeMutablePointer<Float> {
                let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
                for i in 0..<count {
                    state = state &* 1_664_525 &+ 1_013_904_223
                    p[i] = Float(state >> 8) / Float(1 << 23) - 1
                }
                return p
            }
            x = filled(m * k); w = filled(n * k); b = filled(n); y = filled(m * n)
            dy = filled(m * n); dx = filled(m * k); dw = filled(n * k); db = filled(n)
            all = [x, w, b, y, dy, dx, dw, db]
        }

        deinit {
            for p in all { p.deallocate() }
        }
    }

    /// Times one kernel and its naive twin on one shape.
    private static func measure(_ kernel: Kernel, m: Int, k: Int, n: Int, seconds: Double,
                                naive timesNaive: Bool = true, wide: Bool = VectorWidth.isWide) -> Result {
        let buffers = Buffers(m: m, k: k, n: n)
        let flops = 2 * Double(m) * Double(k) * Double(n)
        let fast = bestSecondsPerCall(budget: seconds) { reps in
            for _ in 0..<reps { callSIMD(kernel, buffers, m: m, k: k, n: n, wide: wide) }
        }
        let naive = !timesNaive ? nil : bestSecondsPerCall(budget: seconds / 4) { reps in
            for _ in 0..<reps { callNaive(kernel, buffers, m: m, k: k, n: n) }
        }
        let shape = m == 1 ? "K=\(k) N=\(n)" : "M=\(m) K=\(k) N=\(n)"
        let name = kernel.rawValue + (wide == VectorWidth.isWide ? "" : wide ? ", 16 lanes" : ", 8 lanes")
        return Result(name: name, shape: shape, gflops: flops / fast / 1e9,
                      naiveGflops: naive.map { flops / $0 / 1e9 })
    }

    /// Calls the SIMD kernel once. Not inlined, so the optimiser cannot merge the repeated calls.
    @inline(never)
    private static func callSIMD(_ kernel: Kernel, _ p: Buffers, m: Int, k: Int, n: Int, wide: Bool) {
        switch kernel {
        case .forward: denseForward(p.y, p.x, p.w, p.b, m: m, k: k, n: n, wide: wide)
        case .backwardInput: denseBackwardInput(p.dx, p.dy, p.w, m: m, k: k, n: n, wide: wide)
        case .backwardWeights: denseBackwardWeights(p.dw, p.db, p.dy, p.x, m: m, k: k, n: n, wide: wide)
        case .matVec: matVec(p.y, p.w, p.x, p.b, k: k, n: n)
        case .vecMat: vecMat(p.dx, p.dy, p.w, k: k, n: n)
        case .rank1Update: rank1Update(p.dw, p.db, p.dy, p.x, k: k, n: n)
        // A tiny scale keeps W from drifting far however many times the step is repeated.
        case .rank1Step: rank1Step(p.w, p.b, p.dy, p.x, scale: -1e-6, k: k, n: n)
        }
    }

    /// Calls the naive twin once. Not inlined, for the same reason as `callSIMD`.
    @inline(never)
    private static func callNaive(_ kernel: Kernel, _ p: Buffers, m: Int, k: Int, n: Int) {
        switch kernel {
        case .forward: denseForwardNaive(p.y, p.x, p.w, p.b, m: m, k: k, n: n)
        case .backwardInput: denseBackwardInputNaive(p.dx, p.dy, p.w, m: m, k: k, n: n)
        case .backwardWeights: denseBackwardWeightsNaive(p.dw, p.db, p.dy, p.x, m: m, k: k, n: n)
        case .matVec: matVecNaive(p.y, p.w, p.x, p.b, k: k, n: n)
        case .vecMat: vecMatNaive(p.dx, p.dy, p.w, k: k, n: n)
        case .rank1Update: rank1UpdateNaive(p.dw, p.db, p.dy, p.x, k: k, n: n)
        case .rank1Step: rank1StepNaive(p.w, p.b, p.dy, p.x, scale: -1e-6, k: k, n: n)
        }
    }

    /// The fastest time per call of `body(reps)` over chunks of about a millisecond each (less when the
    /// budget is tiny), timed until `budget` is spent (at least three chunks). The repetition count is
    /// found by doubling, which doubles as the warm-up.
    private static func bestSecondsPerCall(budget: Double, _ body: (Int) -> Void) -> Double {
        let chunkTarget = min(1e-3, budget / 20)
        var reps = 1
        body(1)
        while true {
            let start = now()
            body(reps)
            if now() - start >= chunkTarget || reps >= 1 << 30 { break }
            reps *= 2
        }
        var best = Double.infinity
        let deadline = now() + budget
        var chunks = 0
        while chunks < 3 || now() < deadline {
            let start = now()
            body(reps)
            best = min(best, (now() - start) / Double(reps))
            chunks += 1
        }
        return best
    }

    /// Seconds on a monotonic clock.
    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// `value` with `digits` decimals.
    private static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (value * scale).rounded()
        let whole = Int(scaled / scale)
        let fraction = Int(scaled) - whole * Int(scale)
        guard digits > 0 else { return String(whole) }
        let text = String(fraction)
        return String(whole) + "." + String(repeating: "0", count: digits - text.count) + text
    }
}
