// The public training loop and its optimizers: steps worked out by hand, thread-count independence, events, and a
// network that is up to date whenever it is read.
import Foundation
import Testing
@testable import MLPKit
import TestSupport

@Suite struct TrainerTests {
    /// y = w₀·x₀ + w₁·x₁ + b with the squared loss: for one sample the gradient is 2(ŷ − y)·(x₀, x₁, 1).
    func linearNetwork() -> MLP {
        let net = MLP(inputSize: 2, loss: .squared, seed: 1)
        net.addLayer(1, activation: .identity)
        net.parameters = [0.5, -0.25, 0.125]
        return net
    }

    /// Two samples, visited in the order the trainer's shuffle picks.
    let samples: [(x: [Double], y: Double)] = [([1, 2], 3), ([-1, 0.5], -2)]

    func linearSet() throws -> TrainingSet {
        try TrainingSet(inputs: samples.flatMap { $0.x.map(Float.init) }, inputSize: 2,
                        targets: .values(samples.map { Float($0.y) }, size: 1))
    }

    /// The order in which a trainer with `seed` visits the two samples in its first epoch.
    func firstEpochOrder(seed: UInt64) -> [Int] {
        var order = [0, 1]
        var generator = SplitMix64(seed: seed)
        generator.shuffle(&order)
        return order
    }

    /// Trains the linear network one epoch (two steps of one sample) with `optimizer`.
    func trainLinear(_ optimizer: Optimizer, weightDecay: Float = 0, rate: Float = 0.1) throws -> [Float] {
        let net = linearNetwork()
        var options = TrainingOptions()
        options.learningRate = rate
        options.optimizer = optimizer
        options.weightDecay = weightDecay
        options.seed = 7
        try Trainer(network: net, options: options).fit(try linearSet())
        return net.parameters
    }

    /// The gradient of the linear network's loss at θ on sample s, in Double.
    func gradient(_ theta: [Double], _ s: (x: [Double], y: Double)) -> [Double] {
        let error = 2 * (theta[0] * s.x[0] + theta[1] * s.x[1] + theta[2] - s.y)
        return [error * s.x[0], error * s.x[1], error]
    }

    func expectClose(_ actual: [Float], _ expected: [Double], _ comment: Comment) {
        #expect(actual.count == expected.count, "\(comment): \(actual.count) values against \(expected.count)")
        for (a, e) in zip(actual, expected) {
            #expect(abs(Double(a) - e) <= 1e-6 * max(1, abs(e)), "\(comment): \(actual) against \(expected)")
        }
    }

    @Test func oneAdamStepIsEtaTimesTheSignOfTheGradient() throws {
        // At t = 1 the bias corrections give m̂ = g and v̂ = g², so θ −= η·g / (|g| + ε): a step of η per weight.
        let first = samples[firstEpochOrder(seed: 7)[0]]
        let theta0: [Double] = [0.5, -0.25, 0.125]
        let g = gradient(theta0, first)
        let expected = zip(theta0, g).map { $0 - 0.1 * $1 / (abs($1) + 1e-8) }
        let net = linearNetwork()
        var options = TrainingOptions()
        options.learningRate = 0.1
        options.optimizer = .defaultAdam
        options.seed = 7
        let trainer = try Trainer(network: net, options: options)
        var afterFirst: [Float] = []
        try trainer.fit(try linearSet()) { event in
            if case .step(let step) = event, step.step == 1 { afterFirst = net.parameters }
        }
        expectClose(afterFirst, expected, "after one Adam step")
    }

    @Test func adamTwoStepsMatchTheFormulas() throws {
        // Two steps worked out in Double: the second uses the bias corrections of t = 2.
        let (b1, b2, eps, eta) = (0.9, 0.999, 1e-8, 0.1)
        var theta: [Double] = [0.5, -0.25, 0.125], m = [0.0, 0, 0], v = [0.0, 0, 0]
        for (t, index) in firstEpochOrder(seed: 7).enumerated() {
            let g = gradient(theta, samples[index])
            for i in 0..<3 {
                m[i] = b1 * m[i] + (1 - b1) * g[i]
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                let mHat = m[i] / (1 - pow(b1, Double(t + 1))), vHat = v[i] / (1 - pow(b2, Double(t + 1)))
                theta[i] -= eta * mHat / (vHat.squareRoot() + eps)
            }
        }
        expectClose(try trainLinear(.defaultAdam), theta, "Adam, two steps")
    }

    @Test(arguments: [false, true])
    func momentumTwoStepsMatchTheFormulas(nesterov: Bool) throws {
        let (mu, eta) = (0.9, 0.1)
        var theta: [Double] = [0.5, -0.25, 0.125], v = [0.0, 0, 0]
        for index in firstEpochOrder(seed: 7) {
            let g = gradient(theta, samples[index])
            for i in 0..<3 {
                v[i] = mu * v[i] + g[i]
                theta[i] -= eta * (nesterov ? g[i] + mu * v[i] : v[i])
            }
        }
        expectClose(try trainLinear(.momentum(0.9, nesterov: nesterov)), theta, "momentum, nesterov \(nesterov)")
    }

    @Test func weightDecayIsDecoupled() throws {
        // SGD with λ: θ −= η·λ·θ, then θ −= η·g, with g taken at θ before the step.
        let (lambda, eta) = (0.5, 0.1)
        var theta: [Double] = [0.5, -0.25, 0.125]
        for index in firstEpochOrder(seed: 7) {
            let g = gradient(theta, samples[index])
            for i in 0..<3 { theta[i] = theta[i] - eta * lambda * theta[i] - eta * g[i] }
        }
        expectClose(try trainLinear(.sgd, weightDecay: 0.5), theta, "SGD with weight decay")
    }

    @Test func plainSGDMatchesBackwardAndStep() throws {
        let reference = linearNetwork()
        for index in firstEpochOrder(seed: 7) {
            try reference.backward(samples[index].x.map(Float.init), target: [Float(samples[index].y)])
            reference.step(learningRate: 0.1)
            reference.zeroGrad()
        }
        #expect(maxDifference(try trainLinear(.sgd), reference.parameters) < 1e-6)
    }

    /// The wide autoencoder-shaped network of the trainer tests, on 300 smooth samples, batches of 50
    /// (shards of 32 and 18), over the parallel-reduction threshold.
    func trainWide(_ optimizer: Optimizer, threads: Int) throws -> [Float] {
        let shape = DataParallelTrainerTests.Shape.wide
        let net = shape.network()
        var options = TrainingOptions()
        options.batchSize = 50
        options.learningRate = 1e-3
        options.optimizer = optimizer
        options.weightDecay = 0.01
        options.threads = threads
        let data = DataParallelTrainerTests().smooth(shape)
        try Trainer(network: net, options: options).fit(TrainingSet(inputs: data, inputSize: shape.inputs, targets: .inputs))
        return net.parameters
    }

    @Test func aMiniBatchMomentumStepUsesTheWholeBatchGradient() throws {
        // Momentum's first step is θ −= η·g with g summed over the batch: 50 samples in 2 shards of 25 against
        // backward over all 50 then step.
        let shape = DataParallelTrainerTests.Shape.wide
        let data = Array(DataParallelTrainerTests().smooth(shape).prefix(50 * shape.inputs))
        let net = shape.network()
        var options = TrainingOptions()
        options.batchSize = 50
        options.learningRate = 1e-3
        options.optimizer = .defaultMomentum
        let trainer = try Trainer(network: net, options: options)
        let set = try TrainingSet(inputs: data, inputSize: shape.inputs, targets: .inputs)
        #expect(trainer.plan(for: set).shardsPerBatch == 2)
        try trainer.fit(set)
        let reference = shape.network()
        let batch = Matrix(rows: 50, columns: shape.inputs, values: data)
        try reference.backward(batch, targets: batch)
        reference.step(learningRate: 1e-3)
        let difference = maxDifference(net.parameters, reference.parameters)
        #expect(difference < 1e-5, "max difference \(difference)")
        #expect(maxDifference(reference.parameters, shape.network().parameters) > 1e-3)
    }

    @Test(arguments: [Optimizer.defaultAdam, .momentum(0.9, nesterov: true), .sgd])
    func optimizersGiveTheSameBitsOnAnyThreadCount(optimizer: Optimizer) throws {
        let reference = try trainWide(optimizer, threads: 1)
        #expect(maxDifference(reference, DataParallelTrainerTests.Shape.wide.network().parameters) > 1e-3)
        for threads in [2, 3] {
            #expect(firstMismatch(try trainWide(optimizer, threads: threads), reference) == nil, "threads \(threads)")
        }
    }

    @Test func eventsComeInOrderAndEpochsReportTheirLoss() throws {
        let net = DataParallelTrainerTests.Shape.narrow.network()
        var options = TrainingOptions()
        options.epochs = 2
        options.batchSize = 64
        options.learningRate = 0.01
        var steps: [(Int, Int)] = [], epochs: [EpochReport] = [], lastProgress: TrainingProgress?
        var stepLosses = 0.0, checkpoints: [TrainingState] = []
        let data = DataParallelTrainerTests().smooth(.narrow)
        let reports = try Trainer(network: net, options: options).fit(
            TrainingSet(inputs: data, inputSize: 40, targets: .inputs)) { event in
            switch event {
            case .progress(let p): lastProgress = p
            case .step(let s): steps.append((s.epoch, s.step)); if s.epoch == 1 { stepLosses += s.loss }
            case .epoch(let e): epochs.append(e)
            case .checkpoint(let state): checkpoints.append(state)
            }
        }
        #expect(steps.map(\.0) == [1, 1, 1, 1, 1, 2, 2, 2, 2, 2])   // 300 samples: 4 batches of 64 and one of 44
        #expect(steps.map(\.1) == [1, 2, 3, 4, 5, 1, 2, 3, 4, 5])
        #expect(epochs == reports && epochs.map(\.epoch) == [1, 2])
        #expect(epochs[0].loss == stepLosses && epochs[0].samples == 300)
        #expect(lastProgress?.done == 300 && lastProgress?.epoch == 2)
        // A checkpoint after each epoch, at the next one's start.
        #expect(checkpoints.map(\.epoch) == [2, 3] && checkpoints.allSatisfy { $0.position == 0 })
        #expect(checkpoints.map(\.steps) == [5, 10])
    }

    @Test func theNetworkIsUpToDateWhenReadDuringTraining() throws {
        // With a sparse first layer the trainer holds W as V + u·1ᵀ; reading the network in an event must see
        // the trained W (a stale W would be off by the steps, ~1e-2).
        let shape = DataParallelTrainerTests.Shape.narrow
        let data = DataParallelTrainerTests().imageLike(shape, background: 1)
        func run(sparse: Bool) throws -> (mid: [Float], end: [Float]) {
            let net = shape.network()
            var options = TrainingOptions()
            options.batchSize = 50
            options.learningRate = 0.01
            options.sparseFirstLayer = sparse
            let trainer = try Trainer(network: net, options: options)
            #expect(trainer.plan(for: try TrainingSet(inputs: data, inputSize: 40, targets: .inputs)).sparseFirstLayer == sparse)
            var mid: [Float] = []
            try trainer.fit(TrainingSet(inputs: data, inputSize: 40, targets: .inputs)) { event in
                if case .step(let s) = event, s.step == 3 { mid = net.parameters }
            }
            return (mid, net.parameters)
        }
        let dense = try run(sparse: false)
        let sparse = try run(sparse: true)
        #expect(maxDifference(sparse.mid, dense.mid) < 2e-6, "read after 3 steps")
        #expect(maxDifference(sparse.end, dense.end) < 2e-6, "read after the epoch")
        #expect(maxDifference(dense.mid, shape.network().parameters) > 1e-2)
    }

    @Test func badOptionsAndDataAreClearErrors() throws {
        var options = TrainingOptions()
        options.batchSize = 0
        #expect(throws: MLPError(field: "batchSize", "must be positive, got 0")) { try options.validate() }
        options = TrainingOptions()
        options.optimizer = .adam(beta1: 1, beta2: 0.999, epsilon: 1e-8)
        #expect(throws: MLPError(field: "beta1", "must be in [0, 1), got 1.0")) { try options.validate() }
        let trainer = try Trainer(network: linearNetwork(), options: TrainingOptions())
        let wrong = try TrainingSet(inputs: [1, 2, 3], inputSize: 3, targets: .values([1], size: 1))
        #expect(throws: MLPError("the network takes 2 inputs per sample; the data have 3")) { try trainer.fit(wrong) }
        #expect(throws: MLPError.self) { try TrainingSet(inputs: [1, 2, 3], inputSize: 2, targets: .inputs) }
        // Scoring the wrong data is an error, not a trap.
        let evaluator = Evaluator(network: linearNetwork(), threads: 1)
        let values = try TrainingSet(inputs: [1, 2], inputSize: 2, targets: .values([1], size: 1))
        let classes = try TrainingSet(inputs: [1, 2], inputSize: 2, targets: .classes([0]))
        #expect(throws: MLPError.self) { try evaluator.evaluate(values) }
        #expect(throws: MLPError.self) { try evaluator.meanLoss(classes) }
        #expect(throws: MLPError("the network takes 2 inputs per sample; the data have 3")) {
            try evaluator.meanLoss(wrong)
        }
        #expect(throws: MLPError("the network takes 2 inputs per sample; the data have 3")) {
            try evaluator.outputsAndLoss(wrong)
        }
        let output = 0.5 * 1 - 0.25 * 2 + 0.125     // the network's one output for (1, 2)
        #expect(abs(try evaluator.meanLoss(values) - (output - 1) * (output - 1)) < 1e-6)
    }
}

@Suite struct ReadmeExampleTests {
    /// The README's "Training from code" example, as written there, learns the disc.
    @Test func theReadmeTrainingExampleLearnsTheDisc() throws {
        var generator = SplitMix64(seed: 3)
        var points: [Float] = [], labels: [UInt8] = []
        for _ in 0..<1000 {
            let x = generator.nextGaussian(), y = generator.nextGaussian()
            points += [x, y]
            labels.append(x * x + y * y < 1 ? 1 : 0)
        }
        var accuracy = 0.0

        let net = MLP(inputSize: 2, loss: .softmaxCrossEntropy, seed: 1)
        net.addLayer(32, activation: .tanh)
        net.addLayer(2, activation: .softmax)
        let train = try TrainingSet(inputs: points, inputSize: 2, targets: .classes(labels))

        var options = TrainingOptions()
        options.epochs = 20
        options.learningRate = 0.01
        options.batchSize = 16
        options.optimizer = .defaultAdam
        options.threads = 2
        let evaluator = Evaluator(network: net, threads: 2)
        try Trainer(network: net, options: options).fit(train) { event in
            if case .epoch(let report) = event {
                accuracy = try evaluator.evaluate(train).accuracy
                #expect(report.meanLoss.isFinite)
            }
        }
        #expect(accuracy > 0.95, "training accuracy \(accuracy)")
    }
}
