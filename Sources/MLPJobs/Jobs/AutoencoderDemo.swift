// `autoencoder`: the homework's 784-…-2-…-784 autoencoder of the digits, trained by data-parallel mini-batch
// gradient descent, with a figure of its reconstructions and 2-D codes after every epoch.
import MLPData
import MLPImaging
import MLPKit

/// Trains the homework's autoencoder on MNIST.
public enum AutoencoderDemo {
    /// What to run and where to write it.
    public struct Options: TrainingJobOptions, Sendable {
        /// The training's settings: 3 epochs of batches of 16 at η = 1e-4, halving after each epoch, SGD; the seed
        /// fixes the initial weights, the shuffling and the digits shown.
        public var training = TrainingOptions(epochs: 3, learningRate: 1e-4, schedule: .halving, batchSize: 16)
        /// Also draw a frame every this many batches (nil: one frame per epoch only).
        public var framesEvery: Int?
        /// Folder for everything written; nil writes nothing.
        public var output: String? = "Output/autoencoder"
        /// Also write the frames as `animation.gif`, each shown for `gifDelay` hundredths of a second.
        public var gif = false
        public var gifDelay = 20
        /// Resuming and stopping (checkpoints go to `output`).
        public var checkpoints = CheckpointOptions()
        /// Other processes computing the other shards of each batch (`mpirun`); nil: this process trains alone.
        package var exchange: (any ShardExchange)?

        /// Mixed into the seed for the shuffling.
        public static let shuffleSalt: UInt64 = 0xAE5EED

        /// Checks every option (the messages name the command-line options).
        public func validate() throws {
            try training.validate()
            if let framesEvery, framesEvery <= 0 {
                throw MLPError("--frames-every must be positive, got \(framesEvery)")
            }
            try validateGIFDelay(gifDelay)
        }

        /// The homework's recipe.
        public init() {}
    }

    /// One row of `metrics.csv`.
    public struct EpochRecord: Sendable, Codable {
        public let epoch: Int
        public let learningRate: Float
        /// Mean reconstruction loss per image (sum of squares) over all training images after the epoch.
        public let trainLoss: Double
        /// The same over all test images.
        public let testLoss: Double
        /// Wall-clock seconds of the epoch (training, evaluation and figures).
        public let seconds: Double
        /// Training speed during the epoch (forward + backward + step).
        public let samplesPerSecond: Double
    }

    /// What happens while training, for progress displays.
    public enum Event: Sendable {
        /// `done` of `total` samples of an epoch trained; `runningLoss` is their mean loss so far.
        case progress(epoch: Int, done: Int, total: Int, runningLoss: Double, samplesPerSecond: Double)
        /// An epoch finished and was scored.
        case epoch(EpochRecord)
    }

    /// Everything `summary.json` holds.
    public struct Summary: Sendable, Codable {
        /// "complete" (an interrupted run writes `InterruptedSummary` instead).
        public var status = "complete"
        public let epochs: Int
        public let batchSize: Int
        public let learningRate: Float
        public let schedule: LearningRateSchedule
        /// The update rule: sgd, momentum or adam.
        public let optimizer: String
        public let seed: UInt64
        public let threads: Int
        public let shardRows: Int
        public let shardsPerBatch: Int
        /// Whether the first layer was trained on the non-background pixels only (`SparseFirstLayer`).
        public let sparseFirstLayer: Bool
        public let parameters: Int
        public let finalTrainLoss: Double
        public let finalTestLoss: Double
        public let testLossByEpoch: [Double]
        public let samplesPerSecond: Double
        public let trainingSeconds: Double
        public let frames: Int
    }

    /// The homework's architecture: 784 → 512 → 256 → 128 → 2 ("latent", logistic) → 128 ("up128") → 256 →
    /// 512 → 784 (logistic), leaky ReLU elsewhere, squared loss.
    public static func makeNetwork(seed: UInt64) -> MLP {
        let net = MLP(inputSize: 784, loss: .squared, seed: seed)
        net.addLayer(512, activation: .leakyReLU, name: "down512")
        net.addLayer(256, activation: .leakyReLU, name: "down256")
        net.addLayer(128, activation: .leakyReLU, name: "down128")
        net.addLayer(2, activation: .logistic, name: "latent")
        net.addLayer(128, activation: .leakyReLU, name: "up128")
        net.addLayer(256, activation: .leakyReLU, name: "up256")
        net.addLayer(512, activation: .leakyReLU, name: "up512")
        net.addLayer(784, activation: .logistic, name: "output")
        return net
    }

    /// Trains on `data.train`, scores on both sets after every epoch, writes metrics, model and frames.
    public static func run(_ options: Options, data: MNIST, events: (Event) -> Void = { _ in }) throws -> Summary {
        try options.validate()
        guard data.train.pixelsPerImage == 784, data.train.count > 0, data.test.count > 0 else {
            throw MLPError("autoencoder needs 28×28 images and non-empty training and test sets")
        }
        if let folder = options.output { try AtomicFile.createFolder(folder) }

        let train = data.train.autoencoding
        let checkpoints = JobCheckpoints(job: "autoencoder", folder: options.output, training: options.training,
                                         data: train, options: options.checkpoints)
        let resumed = try checkpoints.resumed(epochs: options.epochs)
        let net = try resumed?.makeNetwork(path: options.checkpoints.resume!) ?? makeNetwork(seed: options.seed)
        net.notes["input_background"] = DigitModel.backgroundNote(of: data.train)
        let trainer = try Trainer(network: net, options: options.trainerOptions)
        trainer.exchange = options.exchange
        let plan = trainer.plan(for: train)
        let evaluator = Evaluator(network: net, threads: options.threads)
        let showcase = Showcase(test: data.test, seed: options.seed, background: data.format.background)
        var records: [EpochRecord] = []
        var frames = 0
        var trainingSeconds = 0.0
        let epochClock = EpochClock()

        var animation: GIFWriter?
        if let resumed, let path = options.checkpoints.resume {
            records = try JobCheckpoints.decode([EpochRecord].self, "records", from: resumed, path: path)
            frames = try JobCheckpoints.decode(Int.self, "frames", from: resumed, path: path)
            trainingSeconds = try JobCheckpoints.decode(Double.self, "training_seconds", from: resumed, path: path)
            if let folder = options.output {
                if options.gif {
                    animation = try GIFWriter.resumed(frames: (0..<frames).map { folder + "/" + DiscDemo.frameName($0 + 1) },
                                                      delay: options.gifDelay)
                }
            }
        }
        // The metrics so far (none, or the checkpoint's), so that a stopped run always leaves them.
        if let folder = options.output { try writeMetrics(records, to: folder + "/metrics.csv") }
        var lastFrame: Canvas?
        func writeFrame(_ title: String) throws {
            guard let folder = options.output else { return }
            frames += 1
            let frame = try showcase.figure(net, title: title)
            lastFrame = frame
            try PNGFile.write(frame, to: folder + "/" + DiscDemo.frameName(frames))
            if options.gif {
                if animation == nil {
                    animation = try GIFWriter(width: frame.width, height: frame.height, delay: options.gifDelay)
                }
                try animation?.append(frame)
            }
        }

        let board = try options.output.map {
            try TrainingBoard(folder: $0, data: train, outputs: 784, batchSize: options.batchSize,
                              epochs: options.epochs, resumed: resumed?.state)
        }
        let jobRecords = {
            ["records": try JobCheckpoints.encode(records), "frames": try JobCheckpoints.encode(frames),
             "training_seconds": try JobCheckpoints.encode(trainingSeconds)]
        }
        try checkpoints.fit(trainer, train, from: resumed, records: jobRecords) { event in
            switch event {
            case .checkpoint:
                break
            case .progress(let p):
                events(.progress(epoch: p.epoch, done: p.done, total: p.total, runningLoss: p.meanLoss,
                                 samplesPerSecond: p.samplesPerSecond))
                if plan.perSample { try board?.progress(epoch: p.epoch, done: p.done, meanLoss: p.meanLoss) }
            case .step(let s):
                try board?.step(s)
                if let every = options.framesEvery, s.step % every == 0, s.step < s.steps {
                    try writeFrame("autoencoder - epoch \(s.epoch), batch \(s.step)/\(s.steps)")
                }
            case .epoch(let report):
                trainingSeconds += report.seconds
                let trainLoss = try evaluator.reconstructionLoss(data.train)
                let testLoss = try evaluator.reconstructionLoss(data.test)
                try writeFrame(String(format: "autoencoder - epoch %d/%d - test loss %.2f", report.epoch,
                                      options.epochs, testLoss))
                let record = EpochRecord(epoch: report.epoch, learningRate: report.learningRate, trainLoss: trainLoss,
                                         testLoss: testLoss, seconds: epochClock.lap(),
                                         samplesPerSecond: report.samplesPerSecond)
                records.append(record)
                try board?.epoch(report.epoch, scalars: [
                    ("loss/train", trainLoss), ("loss/test", testLoss),
                    ("learning_rate", Double(report.learningRate)), ("samples_per_second", report.samplesPerSecond),
                ], figure: {
                    try lastFrame ?? showcase.figure(net, title: "autoencoder - epoch \(report.epoch)/\(options.epochs)")
                }, network: net)
                events(.epoch(record))
                if let folder = options.output {
                    try writeMetrics(records, to: folder + "/metrics.csv")
                    try net.write(to: folder + "/model.safetensors")
                }
            }
        }

        if let animation, let folder = options.output { try animation.finish(to: folder + "/animation.gif") }
        let summary = Summary(
            epochs: options.epochs, batchSize: options.batchSize, learningRate: options.learningRate,
            schedule: options.schedule, optimizer: options.optimizer.name, seed: options.seed, threads: options.threads,
            shardRows: plan.shardRows, shardsPerBatch: plan.shardsPerBatch,
            sparseFirstLayer: plan.sparseFirstLayer, parameters: net.parameterCount,
            finalTrainLoss: records.last!.trainLoss, finalTestLoss: records.last!.testLoss,
            testLossByEpoch: records.map(\.testLoss),
            samplesPerSecond: Double(data.train.count * options.epochs) / trainingSeconds,
            trainingSeconds: trainingSeconds, frames: frames)
        if let folder = options.output { try JSONFile.write(summary, to: folder + "/summary.json") }
        return summary
    }

    static func writeMetrics(_ records: [EpochRecord], to path: String) throws {
        var csv = "epoch,learning_rate,train_loss,test_loss,seconds\n"
        for r in records { csv += "\(r.epoch),\(r.learningRate),\(r.trainLoss),\(r.testLoss),\(r.seconds)\n" }
        try AtomicFile.write(text: csv, to: path)
    }
}

/// The test digits every frame shows: 20 examples (two per class) and a fixed sample of 1,000 for the scatter.
struct Showcase {
    let examples: [Float]
    let digits: [Float]
    let labels: [UInt8]
    let background: Float

    init(test: Dataset, seed: UInt64, background: Float, scatterCount: Int = 1000) {
        var byClass = [[Int]](repeating: [], count: 10)
        for (i, label) in test.labels.enumerated() where Int(label) < 10 && byClass[Int(label)].count < 2 {
            byClass[Int(label)].append(i)
        }
        let exampleIndices = (0..<2).flatMap { k in byClass.compactMap { $0.count > k ? $0[k] : nil } }
        examples = exampleIndices.flatMap { test.image($0) }
        var generator = SplitMix64(seed: seed ^ 0x5CA7)
        var order = Array(0..<test.count)
        generator.shuffle(&order)
        let chosen = order.prefix(scatterCount)
        digits = chosen.flatMap { test.image($0) }
        labels = chosen.map { test.labels[$0] }
        self.background = background
    }

    /// The 2-D codes of the scatter digits under `encode`.
    func codes(_ encode: (Matrix) throws -> Matrix) rethrows -> [(Double, Double)] {
        let coded = try encode(Matrix(rows: labels.count, columns: 784, values: digits))
        return (0..<coded.rows).map { (Double(coded.values[2 * $0]), Double(coded.values[2 * $0 + 1])) }
    }

    /// The figure for a network with a 2-D layer named "latent".
    func figure(_ net: MLP, title: String) throws -> Canvas {
        let reconstructions = try net.forward(Matrix(rows: examples.count / 784, columns: 784, values: examples))
        return LatentFigure.draw(title: title, examples: examples, reconstructions: reconstructions.values,
                                 digits: digits, codes: try codes { try net.forward($0, end: "latent") },
                                 labels: labels, background: background, range: (0...1, 0...1))
    }
}
