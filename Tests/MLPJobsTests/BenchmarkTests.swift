// What the benchmarks count: the FLOPs a training sample stands for, the thread counts, and a peak that is a number.
import Foundation
import Testing
@testable import MLPJobs
@testable import MLPKit
import TestSupport

@Suite struct BenchmarkTests {
    @Test func anAutoencoderSampleIsSixMegaFLOPs() {
        // Weights: 784·512 + 512·256 + 256·128 + 128·2, mirrored: 1,131,008. Forward, dW and dX are two FLOPs per
        // weight each, except that the first layer's dX (784·512 weights) is never computed.
        let net = AutoencoderDemo.makeNetwork(seed: 1)
        #expect(ScalingBenchmark.trainingFLOPs(net) == 6 * 1_131_008 - 2 * 401_408)
    }

    @Test func threadCountsAreOneTwoAllAndFourTimesAllWithoutRepeats() {
        #expect(ScalingBenchmark.threadCounts(available: 16) == [1, 2, 16, 64])
        #expect(ScalingBenchmark.threadCounts(available: 2) == [1, 2, 8])
        #expect(ScalingBenchmark.threadCounts(available: 1) == [1, 2, 4])
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

    @Test func theInferenceSuiteTimesEachConfigurationAndPrintsItsFields() throws {
        let models = InferenceBenchmark.models()
        #expect(models.map(\.name) == ["b", "encoder", "wide"])
        #expect(try models[1].network.forward([Float](repeating: 0.5, count: 784), end: models[1].end).count == 2)
        #expect(models[2].network.layers.map(\.outputSize) == [1024, 1024, 10])
        let results = try InferenceBenchmark.run(seconds: 0, models: [models[0]], minimumCalls: 3)
        #expect(results.map { [$0.batch, $0.threads] } == [[1, 1], [1024, 1], [1024, 2]])
        for r in results {
            #expect(r.model == "b" && r.medianMicroseconds > 0 && r.medianMicroseconds <= r.p99Microseconds)
            #expect((r.readMicroseconds != nil) == (r.batch == 1))
        }
        // One JSON object per line, with the fields scripts read.
        let lines = InferenceBenchmark.jsonLines(results).split(separator: "\n")
        #expect(lines.count == 3)
        for (line, r) in zip(lines, results) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let keys = ["model", "batch", "threads", "median_us", "p99_us", "samples_per_s"]
                + (r.batch == 1 ? ["read_us"] : [])
            #expect(Set(object.keys) == Set(keys))
            #expect(object["batch"] as? Int == r.batch)
            #expect(abs((object["samples_per_s"] as? Double ?? 0) - r.samplesPerSecond) <= 0.1)
        }
    }
}

@Suite struct StepProfileTests {
    @Test func workIsEveryBlockAndSpanTheLongestChainOfSlowestBlocks() {
        // a (2 blocks: 1.0 s in all, the slower 0.5 s) → b (2.0, 1.0) and a → c (1.0, 1.0); c → d (0.5, 0.5).
        let profile = StepProfile(tasks: [
            .init(name: "a", blocks: 2, seconds: 1, slowest: 0.5, after: []),
            .init(name: "b", blocks: 2, seconds: 2, slowest: 1, after: [0]),
            .init(name: "c", blocks: 1, seconds: 1, slowest: 1, after: [0]),
            .init(name: "d", blocks: 1, seconds: 0.5, slowest: 0.5, after: [2]),
        ], stepSeconds: 4.5)
        #expect(profile.work == 4.5)
        // a, c, d: 0.5 + 0.1 + 1 + 0.1 + 0.5.
        #expect(abs(profile.span(boundary: 0.1) - 2.2) < 1e-12)
        #expect(profile.bound(threads: 1, boundary: 0.1) == 4.5)
        #expect(abs(profile.bound(threads: 4, boundary: 0.1) - 2.2) < 1e-12)
    }

    @Test func aProfiledStepAccountsForItsTime() throws {
        let net = MLP(inputSize: 40, loss: .squared, seed: 3)
        net.addLayer(64, activation: .relu)
        net.addLayer(40, activation: .logistic)
        let trainer = DataParallelTrainer(network: net, batchSize: 32, threads: 1, shardRows: 16)
        let data: [Float] = randomValues(64 * 40, seed: 4).map { 1 / (1 + expf(-$0)) }
        let order = Array(0..<64)
        let profile = data.withUnsafeBufferPointer { x -> StepProfile in
            trainer.profile(steps: 4, batch: { step in order[(step % 2) * 32 ..< (step % 2) * 32 + 32] },
                            inputs: x.baseAddress!, targets: x.baseAddress!, learningRate: 0.01)
        }
        // Two shards: load, forward, loss, dL/dx of layer 1, dW per shard; an update per layer.
        #expect(profile.tasks.count == 2 * 7 + 2)
        #expect(profile.tasks.allSatisfy { $0.seconds > 0 && $0.slowest <= $0.seconds })
        #expect(profile.work <= profile.stepSeconds && profile.work > 0.2 * profile.stepSeconds)
        #expect(profile.span(boundary: 0) < profile.work)
    }
}
