// `classify`: the homework's two digit classifiers trained by per-sample SGD, scored every epoch on all
// training and test images, with models, metrics, figures and a written comparison.
import MLPData
import MLPImaging
import MLPKit

/// Trains and compares the homework's MNIST classifiers (see `DigitNetwork`).
public enum ClassifyDemo {
    /// What to run and where to write it.
    public struct Options: TrainingJobOptions, Sendable {
        /// Which networks, in order.
        public var networks: [DigitNetwork] = [.a, .b]
        /// The training's settings: 100 epochs of per-sample SGD from η = 0.003 with a cosine decay; the seed fixes
        /// the initial weights and the shuffling; threads score the epochs (the SGD steps are sequential by nature).
        public var training = TrainingOptions(epochs: 100, learningRate: 0.003, schedule: .cosine)
        /// Folder for everything written; nil writes nothing.
        public var output: String? = "Output/classify"
        /// Resuming and stopping (checkpoints go to `output`).
        public var checkpoints = CheckpointOptions()

        /// Mixed into the seed for the shuffling.
        public static let shuffleSalt: UInt64 = 0xC1A5_5EED

        /// Checks every option (the messages name the command-line options).
        public func validate() throws {
            try training.validate()
            guard !networks.isEmpty else { throw MLPError("--network must name at least one network") }
        }

        /// The documented defaults: learning rate 0.003 with a cosine decay, 100 epochs, both networks.
        public init() {}
    }

    /// One row of `metrics.csv`.
    public struct EpochRecord: Sendable, Codable {
        public let network: DigitNetwork
        public let epoch: Int
        public let learningRate: Float
        public let trainLoss: Double
        public let trainAccuracy: Double
        public let testLoss: Double
        public let testAccuracy: Double
        /// Wall-clock seconds of the epoch: SGD plus both evaluations.
        public let seconds: Double
        /// Per-sample SGD speed during the epoch.
        public let samplesPerSecond: Double
    }

    /// What happens while training, for progress displays.
    public enum Event: Sendable {
        /// `done` of `total` samples of an epoch trained; `runningLoss` is their mean loss so far.
        case progress(network: DigitNetwork, epoch: Int, done: Int, total: Int, runningLoss: Double,
                      samplesPerSecond: Double)
        /// An epoch finished and was scored.
        case epoch(EpochRecord)
    }

    /// The final figures of one network, as written to `summary.json`.
    public struct NetworkSummary: Sendable, Codable {
        public let network: DigitNetwork
        public let architecture: String
        public let parameters: Int
        public let finalTrainAccuracy: Double
        public let finalTestAccuracy: Double
        public let finalTestLoss: Double
        public let bestTestAccuracy: Double
        public let bestEpoch: Int
        public let samplesPerSecond: Double
        public let trainingSeconds: Double
    }

    /// Everything `summary.json` holds.
    public struct Summary: Sendable, Codable {
        /// "complete" (an interrupted run writes `InterruptedSummary` instead).
        public var status = "complete"
        public let epochs: Int
        public let learningRate: Float
        public let schedule: LearningRateSchedule
        /// Samples per step (1: per-sample SGD).
        public let batchSize: Int
        public let seed: UInt64
        public let trainImages: Int
        public let testImages: Int
        /// The update rule: sgd, momentum or adam.
        public let optimizer: String
        /// Whether the first layers were trained on the non-background pixels only (`SparseFirstLayer`).
        public let sparseFirstLayer: Bool
        public let networks: [NetworkSummary]
    }

    /// Trains each requested network on `data`, writing metrics after every epoch and the models as they improve.
    public static func run(_ options: Options, data: MNIST,
                           events: (Event) -> Void = { _ in }) throws -> Summary {
        try options.validate()
        guard data.train.pixelsPerImage == 784, data.train.count > 0, data.test.count > 0 else {
            throw MLPError("classify needs 28×28 images and non-empty training and test sets")
        }
        if let folder = options.output { try AtomicFile.createFolder(folder) }

        let train = data.train.classification
        let checkpoints = JobCheckpoints(
            job: "classify", folder: options.output, training: options.training, data: train,
            extra: ["--network": options.networks.map(\.rawValue).joined(separator: ",")], options: options.checkpoints)
        let resumed = try checkpoints.resumed(epochs: options.epochs)
        var records: [EpochRecord] = []
        var summaries: [NetworkSummary] = []
        var confusions: [[[Int]]] = []     // one per finished network, in the order of `summaries`
        var resumedNetwork: DigitNetwork?
        if let resumed, let path = options.checkpoints.resume {
            records = try JobCheckpoints.decode([EpochRecord].self, "records", from: resumed, path: path)
            summaries = try JobCheckpoints.decode([NetworkSummary].self, "finished", from: resumed, path: path)
            confusions = try JobCheckpoints.decode([[[Int]]].self, "confusions", from: resumed, path: path)
            resumedNetwork = try JobCheckpoints.decode(DigitNetwork.self, "network", from: resumed, path: path)
        }
        // The metrics so far (none, or the checkpoint's), so that a stopped run always leaves them.
        if let folder = options.output { try writeMetrics(records, to: folder + "/metrics.csv") }
        // The same for every network (it follows from the options and the data), also when all are resumed done.
        let sparseFirstLayer = try Trainer(network: options.networks[0].make(seed: options.seed),
                                           options: options.trainerOptions).plan(for: train).sparseFirstLayer
        for network in options.networks where !summaries.contains(where: { $0.network == network }) {
            let checkpoint = network == resumedNetwork ? resumed : nil
            let net = try checkpoint?.makeNetwork(path: options.checkpoints.resume!) ?? network.make(seed: options.seed)
            net.notes["input_background"] = DigitModel.backgroundNote(of: data.train)
            let trainer = try Trainer(network: net, options: options.trainerOptions)
            let evaluator = Evaluator(network: net, threads: options.threads)
            var lastTest: Evaluation?
            var trainingSeconds = try checkpoint.map {
                try JobCheckpoints.decode(Double.self, "training_seconds", from: $0, path: options.checkpoints.resume!)
            } ?? 0
            let epochClock = EpochClock()
            // One TensorBoard run per network: OUTPUT/a, OUTPUT/b.
            let board = try options.output.map {
                try TrainingBoard(folder: $0 + "/" + network.rawValue, data: train, outputs: 10,
                                  batchSize: options.batchSize, epochs: options.epochs, resumed: checkpoint?.state)
            }
            let perSample = trainer.plan(for: train).perSample
            let jobRecords = {
                ["network": try JobCheckpoints.encode(network), "records": try JobCheckpoints.encode(records),
                 "finished": try JobCheckpoints.encode(summaries), "confusions": try JobCheckpoints.encode(confusions),
                 "training_seconds": try JobCheckpoints.encode(trainingSeconds)]
            }
            try checkpoints.fit(trainer, train, from: checkpoint, records: jobRecords) { event in
                switch event {
                case .progress(let p):
                    events(.progress(network: network, epoch: p.epoch, done: p.done, total: p.total,
                                     runningLoss: p.meanLoss, samplesPerSecond: p.samplesPerSecond))
                    if perSample { try board?.progress(epoch: p.epoch, done: p.done, meanLoss: p.meanLoss) }
                case .step(let step):
                    try board?.step(step)
                case .checkpoint:
                    break
                case .epoch(let report):
                    trainingSeconds += report.seconds
                    let train = try evaluator.evaluate(data.train)
                    let test = try evaluator.evaluate(data.test)
                    lastTest = test
                    let record = EpochRecord(
                        network: network, epoch: report.epoch, learningRate: report.learningRate,
                        trainLoss: train.loss, trainAccuracy: train.accuracy, testLoss: test.loss,
                        testAccuracy: test.accuracy, seconds: epochClock.lap(),
                        samplesPerSecond: report.samplesPerSecond)
                    records.append(record)
                    try board?.epoch(report.epoch, scalars: [
                        ("loss/train", train.loss), ("accuracy/train", train.accuracy), ("loss/test", test.loss),
                        ("accuracy/test", test.accuracy), ("learning_rate", Double(report.learningRate)),
                        ("samples_per_second", report.samplesPerSecond),
                    ], figure: { ClassifyFigures.curves(records, epochs: options.epochs) }, network: net)
                    events(.epoch(record))
                    if let folder = options.output {
                        try writeMetrics(records, to: folder + "/metrics.csv")
                        try net.write(to: folder + "/network-\(network.rawValue).safetensors")
                    }
                }
            }
            let mine = records.filter { $0.network == network }
            let best = mine.max { $0.testAccuracy < $1.testAccuracy }!
            summaries.append(NetworkSummary(
                network: network, architecture: network.architecture, parameters: net.parameterCount,
                finalTrainAccuracy: mine.last!.trainAccuracy, finalTestAccuracy: mine.last!.testAccuracy,
                finalTestLoss: mine.last!.testLoss, bestTestAccuracy: best.testAccuracy, bestEpoch: best.epoch,
                samplesPerSecond: Double(data.train.count * options.epochs) / trainingSeconds,
                trainingSeconds: trainingSeconds))
            let predictions = try (lastTest ?? evaluator.evaluate(data.test)).predictions
            confusions.append(confusionMatrix(predictions: predictions, labels: data.test.labels))
        }

        let summary = Summary(epochs: options.epochs, learningRate: options.learningRate, schedule: options.schedule,
                              batchSize: options.batchSize, seed: options.seed, trainImages: data.train.count, testImages: data.test.count,
                              optimizer: options.optimizer.name, sparseFirstLayer: sparseFirstLayer,
                              networks: summaries)
        if let folder = options.output {
            try JSONFile.write(summary, to: folder + "/summary.json")
            try PNGFile.write(ClassifyFigures.curves(records, epochs: options.epochs), to: folder + "/curves.png")
            for (summary, counts) in zip(summaries, confusions) {
                let network = summary.network
                try PNGFile.write(ClassifyFigures.confusion(counts, network: network),
                                  to: folder + "/confusion-\(network.rawValue).png")
            }
            try AtomicFile.write(text: ClassifyReport.markdown(summary: summary, records: records, options: options),
                                 to: folder + "/report.md")
        }
        return summary
    }

    /// counts[true][predicted] over the test set.
    public static func confusionMatrix(predictions: [UInt8], labels: [UInt8], classes: Int = 10) -> [[Int]] {
        var counts = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        for (p, l) in zip(predictions, labels) where Int(p) < classes && Int(l) < classes { counts[Int(l)][Int(p)] += 1 }
        return counts
    }

    static func writeMetrics(_ records: [EpochRecord], to path: String) throws {
        var csv = "network,epoch,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n"
        for r in records {
            csv += "\(r.network.rawValue),\(r.epoch),\(r.trainLoss),\(r.trainAccuracy),\(r.testLoss),"
                + "\(r.testAccuracy),\(r.seconds)\n"
        }
        try AtomicFile.write(text: csv, to: path)
    }
}
