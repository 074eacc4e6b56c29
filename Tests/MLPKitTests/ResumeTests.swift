// Checkpoints and resuming: a run stopped anywhere and continued (on another thread count, through the file)
// ends with the same bits; stops, divergence and mismatched checkpoints end cleanly.
import Foundation
import Testing
@testable import MLPKit
import TestSupport

@Suite struct ResumeTests {
    /// A run to stop and resume: the network's shape, the data and the options.
    struct Setup: CustomTestStringConvertible, Sendable {
        let name: String
        let options: TrainingOptions
        /// Threads for the resumed half.
        let resumeThreads: Int
        /// Dropout on the inputs and on the first hidden layer's outputs (0: none).
        var dropout: Float = 0
        var testDescription: String { name }

        func network() -> MLP {
            let net = MLP(inputSize: 40, loss: .squared, seed: 11)
            if dropout > 0 { net.addDropout(dropout) }
            net.addLayer(37, activation: .leakyReLU)
            if dropout > 0 { net.addDropout(dropout) }
            net.addLayer(5, activation: .tanh)
            net.addLayer(40, activation: .logistic)
            return net
        }

        /// 120 samples of 40 inputs, three quarters of them 1, MNIST mosaics' background (so the first layer can
        /// be sparse, with a background term u that moves: with background 0 it would stay 0).
        func data() throws -> TrainingSet {
            var generator = SplitMix64(seed: 5)
            let inputs = (0..<(120 * 40)).map { _ in generator.nextUniform() < 0.75 ? 1 : Float(generator.nextUniform()) }
            return try TrainingSet(inputs: inputs, inputSize: 40, targets: .inputs)
        }
    }

    static let setups: [Setup] = [
        Setup(name: "per-sample SGD, dense", options: TrainingOptions(epochs: 3, learningRate: 0.05, seed: 3,
                                                                     sparseFirstLayer: false), resumeThreads: 1),
        Setup(name: "per-sample SGD, sparse first layer", options: TrainingOptions(epochs: 3, learningRate: 0.05,
                                                                                  seed: 3), resumeThreads: 1),
        Setup(name: "batches of 50 in 7 shards, sparse", options: TrainingOptions(epochs: 3, learningRate: 0.01,
              batchSize: 50, threads: 1, seed: 3), resumeThreads: 3),
        Setup(name: "Adam, batches of 8", options: TrainingOptions(epochs: 3, learningRate: 0.001, batchSize: 8,
              optimizer: .defaultAdam, threads: 2, seed: 3), resumeThreads: 1),
        Setup(name: "Nesterov momentum with weight decay, per sample", options: TrainingOptions(
              epochs: 3, learningRate: 0.01, optimizer: .momentum(0.9, nesterov: true), weightDecay: 0.01, seed: 3),
              resumeThreads: 2),
        // Resumed inside the warmup: epoch 2's last mid-epoch checkpoint is step 25 of 28, or sample 235 of 240.
        Setup(name: "Adam, batches of 8, mean loss, warmup of 28 steps", options: {
            var options = TrainingOptions(epochs: 3, learningRate: 0.001, batchSize: 8, lossReduction: .mean,
                                          optimizer: .defaultAdam, threads: 2, seed: 3)
            options.warmup = .steps(28)
            return options
        }(), resumeThreads: 3),
        Setup(name: "per-sample SGD, sparse, warmup of 2 epochs", options: {
            var options = TrainingOptions(epochs: 3, learningRate: 0.05, seed: 3)
            options.warmup = .epochs(2)
            return options
        }(), resumeThreads: 1),
        // Each epoch's windowed order is drawn afresh from the shuffler: the resumed half must draw it again.
        Setup(name: "Adam, batches of 8, shuffled in a window of 50", options: {
            var options = TrainingOptions(epochs: 3, learningRate: 0.001, batchSize: 8, optimizer: .defaultAdam,
                                          threads: 2, seed: 3)
            options.shuffle = .window(50)
            return options
        }(), resumeThreads: 1),
        // The masks are drawn for epoch 2 from its start; the resumed half must draw the same for its steps.
        Setup(name: "momentum, batches of 10, dropout 0.3, clipped at 0.5", options: {
            var options = TrainingOptions(epochs: 3, learningRate: 0.05, batchSize: 10,
                                          optimizer: .momentum(0.9, nesterov: false), threads: 1, seed: 3)
            options.clipNorm = 0.5
            return options
        }(), resumeThreads: 3, dropout: 0.3),
    ]

    /// Trains `setup` uninterrupted: the final parameters and the epochs' losses.
    func reference(_ setup: Setup) throws -> (parameters: [Float], losses: [Double]) {
        let net = setup.network()
        let reports = try Trainer(network: net, options: setup.options).fit(try setup.data())
        return (net.parameters, reports.map(\.loss))
    }

    /// Continues the checkpoint at `path` on `threads` threads to the end: final parameters and epoch losses.
    func resume(_ setup: Setup, from path: String, threads: Int) throws -> (parameters: [Float], losses: [Double]) {
        let checkpoint = try TrainingCheckpoint.read(path)
        let net = try checkpoint.makeNetwork(path: path)
        var options = setup.options
        options.threads = threads
        let reports = try Trainer(network: net, options: options).fit(try setup.data(),
                                                                      resumingFrom: checkpoint.state)
        return (net.parameters, reports.map(\.loss))
    }

    @Test(arguments: setups) func resumingMidEpochOrAtAnEpochEndGivesTheSameBits(_ setup: Setup) throws {
        let (expected, expectedLosses) = try reference(setup)
        let temporary = try TemporaryFolder()
        let folder = temporary.path

        // The same run with a checkpoint every 5 steps: saving never changes the training.
        var options = setup.options
        options.checkpointEvery = 5
        let net = setup.network()
        var midEpoch: String?, epochEnd: String?
        var count = 0
        try Trainer(network: net, options: options).fit(try setup.data()) { event in
            guard case .checkpoint(let state) = event else { return }
            count += 1
            let path = folder + "/checkpoint-\(count).safetensors"
            try TrainingCheckpoint(network: net, state: state, run: options.shapingValues).write(to: path)
            if state.epoch == 2 && state.position > 0 { midEpoch = path }
            if state.epoch == 2 && state.position == 0 { epochEnd = path }
        }
        #expect(firstMismatch(net.parameters, expected) == nil, "checkpoints changed the training")
        let mid = try #require(midEpoch), end = try #require(epochEnd)
        let savedSparse = try TrainingCheckpoint.read(mid).state.sparseFirstLayer != nil
        #expect(savedSparse == (setup.options.sparseFirstLayer && setup.options.isPlainSGD))

        for path in [mid, end] {
            let (resumed, losses) = try resume(setup, from: path, threads: setup.resumeThreads)
            #expect(firstMismatch(resumed, expected) == nil, "resumed from \(path)")
            #expect(losses == Array(expectedLosses.suffix(2)), "the epochs' losses continue exactly")
        }
    }

    @Test func aStopRequestEndsAtAStepWithACheckpointThatResumesExactly() throws {
        let setup = Self.setups[2]
        let (expected, _) = try reference(setup)
        let temporary = try TemporaryFolder()
        let folder = temporary.path
        let stop = StopRequest()
        let net = setup.network()
        var last: TrainingEvent?
        let path = folder + "/checkpoint.safetensors"
        #expect(throws: TrainingInterrupted.self) {
            try Trainer(network: net, options: setup.options).fit(try setup.data(), stop: stop) { event in
                last = event
                if case .step(let step) = event, step.epoch == 2, step.step == 2 { stop.request(signal: 15) }
                if case .checkpoint(let state) = event {
                    try TrainingCheckpoint(network: net, state: state, run: [:]).write(to: path)
                }
            }
        }
        // The stop came after the second step of epoch 2: the last event is its checkpoint.
        guard case .checkpoint(let state) = last else { Issue.record("no checkpoint before the stop"); return }
        #expect(state.epoch == 2 && state.position == 100)
        #expect(stop.signal == 15 && !stop.request(signal: 2), "the first reason is kept")
        let (resumed, _) = try resume(setup, from: path, threads: 2)
        #expect(firstMismatch(resumed, expected) == nil)
    }

    @Test func aDivergingRunStopsBeforeItsFirstEpochEnds() throws {
        let net = MLP(inputSize: 40, loss: .squared, seed: 11)
        net.addLayer(37, activation: .leakyReLU)
        net.addLayer(40, activation: .identity)
        var epochs = 0, checkpoints = 0
        let options = TrainingOptions(epochs: 2, learningRate: 1e8, seed: 3, sparseFirstLayer: false)
        do {
            try Trainer(network: net, options: options).fit(try Self.setups[0].data()) { event in
                if case .epoch = event { epochs += 1 }
                if case .checkpoint = event { checkpoints += 1 }
            }
            Issue.record("training at η = 1e8 did not diverge")
        } catch let diverged as TrainingDiverged {
            #expect(diverged.epoch == 1 && diverged.step < 120 && diverged.learningRate == 1e8)
            #expect(diverged.description.contains("training diverged at epoch 1, step \(diverged.step) of 120"))
            #expect(diverged.description.contains("try a lower learning rate, such as \(diverged.learningRate / 10)"))
        }
        #expect(epochs == 0 && checkpoints == 0, "no event carries a non-finite network")
    }

    @Test func aCheckpointFromAnotherRunIsRefusedWithEveryDifference() throws {
        let setup = Self.setups[3]
        let net = setup.network()
        let state = TrainingState(seed: 3)
        let checkpoint = TrainingCheckpoint(network: net, state: state, run: setup.options.shapingValues)
        var other = setup.options
        other.learningRate = 0.002
        other.batchSize = 16
        other.threads = 7                       // threads do not shape the weights
        let error = #expect(throws: MLPError.self) { try checkpoint.check(against: other.shapingValues, path: "c") }
        let message = try #require(error).message
        #expect(message.contains("learningRate: 0.001 in the checkpoint, 0.002 now"))
        #expect(message.contains("batchSize: 8 in the checkpoint, 16 now"))
        #expect(!message.contains("threads"))
        #expect(message.split(separator: "\n").count == 4, "two differences between a heading and a hint")
        try checkpoint.check(against: setup.options.shapingValues, path: "c")
    }

    @Test func aCosineScheduleTiesTheEpochCountAConstantOneDoesNot() {
        var options = TrainingOptions(epochs: 5)
        #expect(options.shapingValues["epochs"] == nil)
        options.schedule = .cosine
        #expect(options.shapingValues["epochs"] == "5")
    }

    @Test func aStateFromAnotherSeedOrDataIsRefused() throws {
        let setup = Self.setups[0]
        let net = setup.network()
        var saved: TrainingState?
        try Trainer(network: net, options: TrainingOptions(epochs: 1, seed: 3, checkpointEvery: 10))
            .fit(try setup.data()) { event in
                if case .checkpoint(let state) = event, saved == nil { saved = state }
            }
        let state = try #require(saved)
        let other = try Trainer(network: setup.network(), options: TrainingOptions(epochs: 1, seed: 4))
        #expect(throws: MLPError.self) { try other.fit(try setup.data(), resumingFrom: state) }
    }

    @Test func writingKeepsThePreviousCheckpointAndReadsBackEveryField() throws {
        let temporary = try TemporaryFolder()
        let folder = temporary.path
        let path = folder + "/checkpoint.safetensors"
        let net = Self.setups[3].network()
        let first = TrainingCheckpoint(network: net, state: TrainingState(seed: 1), run: ["a": "1"], job: ["x": "y"])
        try first.write(to: path)
        let firstBytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let state = TrainingState(epoch: 3, position: 16, steps: 41, shuffleState: 99, epochLoss: 0.1 + 0.2,
                                  epochSeconds: 1.5, optimizerSteps: 41, optimizerFirst: [1, 2],
                                  optimizerSecond: [3, .leastNonzeroMagnitude],
                                  sparseFirstLayer: SparseLayerState(vTransposed: [1, 2, 3, 4, 5, 6, 7, 8], stride: 8,
                                                                     u: [0.5], rowSums: [36]))
        try TrainingCheckpoint(network: net, state: state, run: ["a": "2"], job: ["x": "z"]).write(to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/checkpoint-prev.safetensors")) == firstBytes)
        let read = try TrainingCheckpoint.read(path)
        #expect(read.state == state)
        #expect(read.run == ["a": "2"] && read.job == ["x": "z"])
        #expect(try read.makeNetwork().parameters == net.parameters)
        // A checkpoint is also a model file: the network loads from it directly.
        #expect(try MLP(contentsOf: path).parameters == net.parameters)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
        // A model file is not a checkpoint.
        try net.write(to: folder + "/model.safetensors")
        let error = #expect(throws: MLPError.self) { try TrainingCheckpoint.read(folder + "/model.safetensors") }
        #expect(error?.message.contains("is not an mlp-train checkpoint") == true)
    }
}
