// Warmup: the first steps' rates rise linearly from 0, counted across epochs, composed with the schedule.
import Testing
@testable import MLPKit
import TestSupport

@Suite struct WarmupTests {
    @Test func theFactorRisesLinearlyThenStays() {
        #expect((0..<6).map { Warmup.factor(step: $0, length: 4) } == [0.25, 0.5, 0.75, 1, 1, 1])
        #expect(Warmup.factor(step: 0, length: 0) == 1)
        #expect(Warmup.epochs(2).steps(perEpoch: 15) == 30 && Warmup.steps(7).steps(perEpoch: 15) == 7)
        #expect(Warmup(description: "300") == .steps(300) && Warmup(description: "2e") == .epochs(2))
        #expect(Warmup(description: "two") == nil && Warmup(description: "-1") == nil)
        #expect(TrainingOptions().shapingValues["warmup"] == nil)
    }

    @Test func perSampleStepsTakeTheWarmedRatesTimesTheSchedules() throws {
        // 4 samples, 3 epochs halving from 0.2, warmup of 6 steps: rates 0.2·(1, 2, 3, 4)/6, then 0.1·(5/6, 1, 1,
        // 1), then 0.05; against backward and step with those rates in the same order.
        func network() -> MLP {
            let net = MLP(inputSize: 2, loss: .squared, seed: 3)
            net.addLayer(3, activation: .tanh)
            net.addLayer(1, activation: .identity)
            return net
        }
        let x = randomValues(8, seed: 1), y = randomValues(4, seed: 2)
        var options = TrainingOptions(epochs: 3, learningRate: 0.2, schedule: .halving, seed: 6)
        options.warmup = .steps(6)
        let trained = network()
        try Trainer(network: trained, options: options).fit(TrainingSet(inputs: x, inputSize: 2, targets: .values(y, size: 1)))
        let reference = network()
        var generator = SplitMix64(seed: 6), order = Array(0..<4), step = 0
        for epoch in 1...3 {
            generator.shuffle(&order)
            for i in order {
                let rate = LearningRateSchedule.halving.rate(base: 0.2, epoch: epoch, of: 3)
                    * Warmup.factor(step: step, length: 6)
                try reference.backward([x[2 * i], x[2 * i + 1]], target: [y[i]])
                reference.step(learningRate: rate)
                reference.zeroGrad()
                step += 1
            }
        }
        #expect(maxDifference(trained.parameters, reference.parameters) < 1e-6)
        let cold = network()
        try Trainer(network: cold, options: TrainingOptions(epochs: 3, learningRate: 0.2, schedule: .halving, seed: 6))
            .fit(TrainingSet(inputs: x, inputSize: 2, targets: .values(y, size: 1)))
        #expect(maxDifference(cold.parameters, trained.parameters) > 1e-4, "the warmup changes the steps")
    }
}
