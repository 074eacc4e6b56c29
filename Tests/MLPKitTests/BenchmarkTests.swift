// What the benchmarks count: the FLOPs a training sample stands for, the thread counts, and a peak that is a number.
import Testing
@testable import MLPJobs
@testable import MLPKit

@Suite struct BenchmarkTests {
    @Test func anAutoencoderSampleIsSixMegaFLOPs() {
        // Weights: 784·512 + 512·256 + 256·128 + 128·2, mirrored: 1,131,008. Forward, dW and dX are two FLOPs per
        // weight each, except that the first layer's dX (784·512 weights) is never computed.
        let net = AutoencoderDemo.makeNetwork(seed: 1)
        #expect(ScalingBenchmark.trainingFLOPs(net) == 6 * 1_131_008 - 2 * 401_408)
    }

    @Test func threadCountsAreOneTwoAndAllWithoutRepeats() {
        #expect(ScalingBenchmark.threadCounts(available: 16) == [1, 2, 16])
        #expect(ScalingBenchmark.threadCounts(available: 2) == [1, 2])
        #expect(ScalingBenchmark.threadCounts(available: 1) == [1, 2])
    }

    @Test func theFMALoopsCountTheirFLOPs() {
        // 12 chains × lanes × 2 FLOPs per iteration; the chains settle at c / (1 − m) = 0.1, never denormal.
        let (flops8, value8) = FMAPeak.loop8(1000, seed: 0)
        let (flops16, value16) = FMAPeak.loop16(1000, seed: 0)
        #expect(flops8 == 1000 * 12 * 8 * 2 && flops16 == 1000 * 12 * 16 * 2)
        #expect(value8.isFinite && value16.isFinite && value8 > 0)
        let peak = FMAPeak.measure(threads: 2, seconds: 0.01)
        #expect(peak.threads == 2 && peak.total > 0 && peak.total.isFinite)
    }
}
