// Which vector width the dense kernels run with: a measured choice, made once per process.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The dense kernels run 16-lane vectors (WideForward.swift, WideBackwardInput.swift, WideBackwardWeights.swift)
/// where this CPU retires them at well over the FLOPs of 8-lane ones (full-rate 512-bit FMAs, as on Intel Xeons with
/// AVX-512), and 8-lane vectors elsewhere: CPUs without AVX-512, CPUs that split 512-bit FMAs in two (AMD Zen 4),
/// and builds that do not target the CPU. Both widths give the same bits, so the choice is one of speed only and may
/// differ from machine to machine.
package enum VectorWidth {
    /// Whether the 16-lane kernels run. `MLP_VECTOR_WIDTH=8` or `16` in the environment decides; otherwise the
    /// FMA loops of both widths are timed once (about a millisecond) and 16 lanes win at 1.5× or more.
    package static let isWide: Bool = {
        if let forced = getenv("MLP_VECTOR_WIDTH").map({ String(cString: $0) }), forced == "8" || forced == "16" {
            return forced == "16"
        }
        return measuredRatio() >= 1.5
    }()

    /// GFLOP/s of 16-lane FMA chains over 8-lane ones on this thread: the best of 8 short runs of each, alternated.
    static func measuredRatio() -> Double {
        var best8 = Double.infinity, best16 = Double.infinity
        for _ in 0..<8 {
            best8 = min(best8, seconds { _ = FMAPeak.loop8(1 << 14, seed: 1) })
            best16 = min(best16, seconds { _ = FMAPeak.loop16(1 << 13, seed: 1) })
        }
        // loop16 did the same FLOPs in half the iterations.
        return best8 / best16
    }

    /// Seconds that `body` takes, on a monotonic clock.
    private static func seconds(_ body: () -> Void) -> Double {
        var start = timespec(), end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        body()
        clock_gettime(CLOCK_MONOTONIC, &end)
        return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) * 1e-9
    }
}
