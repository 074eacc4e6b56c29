// `train`: the user's network on the user's data, scored on held-out data every epoch, with early stopping.
import Foundation
import MLPData
import MLPImaging
import MLPKit

/// Trains a network described by a `LayerSpec` on data read by `LabeledData.load`, scoring it every epoch on a
/// validation split and/or a test set, and writes `metrics.csv`, `model.safetensors`, `summary.json`,
/// `curves.png`, and `confusion.png` (classes) or `scatter.png` (numbers).
public enum TrainJob {
    /// What to train on, how, and where to write it.
    public struct Options: TrainingJobOptions, Sendable {
        /// The training data (`LabeledData.load`).
        public var data: String
        /// A test set in the same format, scored every epoch; nil: the data's own test split when it has one (the
        /// MNIST mosaics, or a folder of MNIST's IDX files with `train-…` and `t10k-…`).
        public var test: String?
        /// Hold out this fraction of `data` (seeded) as a validation set.
        public var validationSplit: Double?
        /// The CSV columns to predict (default: the last).
        public var targets: [String]?
        /// Classification, regression, or decided from the target (`TargetEncoding.choose`).
        public var task: TargetEncoding.Task = .auto
        /// The layers; nil: one hidden layer of 64 ReLUs, then the target's natural output layer.
        public var layers: LayerSpec?
        /// The loss; nil: the target's natural loss (cross-entropy, logistic or squared).
        public var loss: Loss?
        /// The training's settings: 20 epochs (at most: early stopping may end sooner) of per-sample SGD at
        /// η = 0.01, batches descending their mean loss (as PyTorch, Keras and scikit-learn do); the seed fixes the
        /// initial weights, the shuffling and the validation split.
        public var training = TrainingOptions(epochs: 20, learningRate: 0.01, lossReduction: .mean)
        /// Standardize the features with z-scores from the training data (stored in the model).
        public var standardize = false
        /// Stop after this many epochs without a better held-out loss, keeping the best model.
        public var earlyStopping: Int?
        /// How every layer starts; nil: the one suited to its activation (He for the ReLU family, Xavier for the
        /// others). `.classic` is the homework's randn × 0.1.
        public var initializer: Initializer?
        /// A model file whose weights the network starts from instead (fine-tuning; its layers' widths must be
        /// the spec's): one written by `train`, `import` or the other jobs.
        public var initFrom: String?
        /// Folder for everything written; nil writes nothing.
        public var output: String? = "Output/train"
        /// Folder for the TensorBoard event file (`TrainingBoard`); nil: `output`.
        public var tensorboard: String?
        /// Resuming and stopping.
        public var checkpoints = CheckpointOptions()
        /// Other processes computing the other shards of each batch (`mpirun`); nil: this process trains alone.
        package var exchange: (any ShardExchange)?

        /// Training on `data` with the defaults.
        public init(data: String) { self.data = data }

        /// Mixed into the seed for the shuffling.
        public static let shuffleSalt: UInt64 = 0x7EA1_0000

        /// Checks the options that need no data (the messages name the command-line options).
        public func validate() throws {
            try training.validate()
            if let earlyStopping, earlyStopping <= 0 {
                throw MLPError("--early-stopping must be a positive number of epochs, got \(earlyStopping)")
            }
            if earlyStopping != nil, test == nil, validationSplit == nil {
                throw MLPError("--early-stopping needs held-out data: give --validation-split F or --test FILE")
            }
        }
    }

    /// One row of `metrics.csv`.
    public struct EpochRecord: Sendable, Codable, Equatable {
        public let epoch: Int
        public let learningRate: Float
        /// Mean loss per sample during the epoch's training.
        public let trainLoss: Double
        public let validation: TrainScore?
        public let test: TrainScore?
        /// Wall-clock seconds of the epoch: training and scoring.
        public let seconds: Double
        /// Training speed during the epoch.
        public let samplesPerSecond: Double
    }

    /// What happens while training, for progress displays.
    public enum Event: Sendable {
        /// The data are read and the network built: say what will be trained.
        case plan(String)
        /// `done` of `total` samples of an epoch trained; `meanLoss` over them so far.
        case progress(epoch: Int, done: Int, total: Int, meanLoss: Double, samplesPerSecond: Double)
        /// An epoch finished and was scored.
        case epoch(EpochRecord)
    }

    /// Everything `summary.json` holds.
    public struct Summary: Sendable, Codable {
        public var status = "complete"
        /// "10 classes", "binary (0/1 in y)", "a number (price)".
        public let task: String
        /// Class names in output order (classification only).
        public let classes: [String]?
        public let targets: [String]
        public let features: Int
        public let architecture: String
        public let layers: String
        public let parameters: Int
        public let loss: String
        public let optimizer: String
        public let learningRate: Float
        public let batchSize: Int
        public let epochs: Int
        /// Epochs actually trained (fewer when stopped early).
        public let epochsRun: Int
        public let stoppedEarly: Bool
        /// The epoch whose weights are in model.safetensors (the best held-out loss with early stopping, else
        /// the last); the figures below are that epoch's.
        public let modelEpoch: Int
        public let standardized: Bool
        public let trainSamples: Int
        public let validationSamples: Int?
        public let testSamples: Int?
        public let trainLoss: Double
        public let validationLoss: Double?
        public let validationAccuracy: Double?
        public let validationR2: Double?
        public let testLoss: Double?
        public let testAccuracy: Double?
        public let testR2: Double?
        /// Seconds of training (scoring excluded), and the training speed.
        public let trainingSeconds: Double
        public let samplesPerSecond: Double
    }

    /// Loaded and encoded data, the network and its model, ready to train.
    struct Setup {
        let model: TabularModel
        let train: TrainingSet
        let validation: TrainingSet?
        let test: TrainingSet?
        let spec: LayerSpec
        let rawTrain: LabeledData
    }

    /// Reads the data, chooses the target encoding, standardizes, and builds the network.
    static func prepare(_ options: Options) throws -> Setup {
        var train = try LabeledData.load(options.data, targets: options.targets, role: .train)
        var validation: LabeledData?
        if let fraction = options.validationSplit {
            (train, validation) = try train.split(validationFraction: fraction, seed: options.seed)
        }
        let encoding = try TargetEncoding.choose(for: train, task: options.task)
        var test: LabeledData?
        // A folder with its own test split (the MNIST mosaics, MNIST's IDX files) is scored on it by default.
        let testPath = options.test ?? (LabeledData.holdsTestSplit(options.data) ? options.data : nil)
        if let path = testPath {
            test = try LabeledData.load(path, targets: options.targets, role: .test)
            guard test!.targetNames == train.targetNames else {
                throw MLPError("\(path): its target column is \(test!.targetNames.joined(separator: ",")), the training "
                               + "data's is \(train.targetNames.joined(separator: ",")); name it with --target")
            }
            guard test!.featureNames == train.featureNames else {
                throw MLPError("\(path): its features (\(test!.featureCount): \(test!.featureNames.prefix(4).joined(separator: ", "))…) "
                               + "differ from the training data's (\(train.featureCount): "
                               + "\(train.featureNames.prefix(4).joined(separator: ", "))…)")
            }
        }
        let standardizer = options.standardize ? Standardizer(fitting: train.rows) : nil
        func trainingSet(_ data: LabeledData) throws -> TrainingSet {
            guard let standardizer else { return try TrainingSet(rows: data.rows, targets: encoding.targets(for: data)) }
            return try TrainingSet(inputs: standardizer.apply(data.features), inputSize: data.featureCount,
                                   targets: encoding.targets(for: data))
        }
        let output = encoding.defaultOutput
        let spec = options.layers ?? LayerSpec([.init(units: 64, activation: .relu),
                                                .init(units: encoding.outputs, activation: output.activation)])
        let loss = options.loss ?? output.loss
        try check(spec, loss: loss, encoding: encoding)
        let network = spec.network(inputSize: train.featureCount, loss: loss, seed: options.seed) { activation in
            options.initializer ?? .suited(to: activation)
        }
        if let path = options.initFrom { try startFrom(path, network) }
        let model = try TabularModel(network: network, encoding: encoding, featureNames: train.featureNames,
                                     targetNames: train.targetNames, standardizer: standardizer, imageShape: train.imageShape)
        model.noteImageBackground(of: train.rows)
        return Setup(model: model, train: try trainingSet(train), validation: try validation.map(trainingSet),
                     test: try test.map(trainingSet), spec: spec, rawTrain: train)
    }

    /// An epoch's numbers as TensorBoard scalars.
    static func boardScalars(_ record: EpochRecord) -> [(tag: String, value: Double)] {
        var scalars: [(tag: String, value: Double)] = [("loss/train", record.trainLoss),
                                                       ("learning_rate", Double(record.learningRate)),
                                                       ("samples_per_second", record.samplesPerSecond)]
        for (set, score) in [("validation", record.validation), ("test", record.test)] {
            guard let score else { continue }
            scalars.append(("loss/" + set, score.loss))
            if let accuracy = score.accuracy { scalars.append(("accuracy/" + set, accuracy)) }
            if let r2 = score.r2 { scalars.append(("r2/" + set, r2)) }
        }
        return scalars
    }

    /// Sets `network`'s weights to those of the model at `path`, whose layers must have the same widths.
    static func startFrom(_ path: String, _ network: MLP) throws {
        let start = try MLP(contentsOf: path)
        guard start.inputSize == network.inputSize,
              start.layers.map(\.outputSize) == network.layers.map(\.outputSize) else {
            throw MLPError("\(path): its layers (\(start.architecture)) do not fit the network to train "
                           + "(\(network.architecture)); --init-from needs the same widths")
        }
        network.parameters = start.parameters
    }

    /// The initializer as a checkpoint's setting: none for randn × 0.1 (as checkpoints made before the choice
    /// existed hold it), else `--init` with the choice ("suited", "he-normal", …).
    static func initializerSetting(_ initializer: Initializer?) -> [String: String] {
        initializer == .classic ? [:] : ["--init": initializer?.description ?? "suited"]
    }

    /// The spec's last layer must fit the target, and the loss the last activation.
    static func check(_ spec: LayerSpec, loss: Loss, encoding: TargetEncoding) throws {
        let output = encoding.defaultOutput
        let last = spec.entries.last!
        guard last.units == encoding.outputs else {
            throw MLPError("--layers ends in \(last.units) units, but the target is \(encoding.summary): end it with "
                           + "\(encoding.outputs):\(output.activation.name.replacingOccurrences(of: "_", with: "-"))")
        }
        switch loss {
        case .softmaxCrossEntropy:
            guard last.activation == .softmax, case .classes = encoding else {
                throw MLPError("--loss cross-entropy needs class targets and a softmax last layer (--layers ending "
                               + "in \(encoding.outputs):softmax)")
            }
        case .logistic:
            guard last.activation == .logistic, encoding.isClassification else {
                throw MLPError("--loss logistic needs 0/1 or class targets and a logistic last layer (outputs "
                               + "in (0, 1))")
            }
        case .squared, .absolute:
            break
        }
        if last.activation == .softmax, last.units == 1 {
            throw MLPError("a softmax over one output is always 1; use 1:logistic for a yes/no target")
        }
    }

    /// Trains as `options` say, reporting through `events`; returns the summary also written to `summary.json`.
    public static func run(_ options: Options, events: (Event) -> Void = { _ in }) throws -> Summary {
        try options.validate()
        let loading = Stopwatch()
        let setup = try prepare(options)
        let loadSeconds = loading.seconds
        let model = setup.model, net = model.network
        if let folder = options.output { try AtomicFile.createFolder(folder) }
        let plan = try Trainer(network: net, options: options.trainerOptions).plan(for: setup.train)
        let read = String(format: "%.2f", loadSeconds)
        events(.plan("\(setup.rawTrain.source) (read in \(read) s): \(setup.train.count) training samples of "
                     + "\(setup.train.inputSize) features; target \(model.encoding.summary)"
                     + (setup.validation.map { "; \($0.count) validation samples" } ?? "")
                     + (setup.test.map { "; \($0.count) test samples" } ?? "")
                     + "\nnetwork \(net.architecture), \(net.parameterCount) parameters; "
                     + (plan.perSample ? "per-sample SGD" : "batches of \(options.batchSize), \(options.optimizer.name)")))

        let checkpoints = JobCheckpoints(
            job: "train", folder: options.output, training: options.training, data: setup.train,
            extra: ["--layers": setup.spec.description, "--loss": net.loss.rawValue,
                    "--standardize": options.standardize ? "yes" : "no",
                    "target": (try? JobCheckpoints.encode(model.encoding)) ?? ""]
                .merging(Self.initializerSetting(options.initializer)) { _, new in new }
                .merging(options.initFrom.map { ["--init-from": $0] } ?? [:]) { _, new in new },
            modelTensors: model.standardizationTensors, options: options.checkpoints)
        let resumed = try checkpoints.resumed(epochs: options.epochs)
        var log = try TrainLog()
        var trainingSeconds = 0.0
        if let resumed, let path = options.checkpoints.resume {
            log = try TrainLog(JobCheckpoints.decode([EpochRecord].self, "records", from: resumed, path: path))
            trainingSeconds = try JobCheckpoints.decode(Double.self, "training_seconds", from: resumed, path: path)
            net.parameters = try resumed.makeNetwork(path: path).parameters
        }
        let modelPath = options.output.map { $0 + "/model.safetensors" }
        if let folder = options.output { try log.writeMetrics(to: folder + "/metrics.csv") }

        let evaluator = Evaluator(network: net, threads: options.threads)
        let board = try (options.tensorboard ?? options.output).map {
            try TrainingBoard(folder: $0, data: setup.train, outputs: net.outputSize, batchSize: options.batchSize,
                              epochs: options.epochs, resumed: resumed?.state)
        }
        var stopping = EarlyStopping(patience: options.earlyStopping, records: log.records)
        let epochClock = EpochClock()
        let jobRecords = {
            ["records": log.json, "training_seconds": try JobCheckpoints.encode(trainingSeconds)]
        }
        do {
            if !stopping.shouldStop {
                let trainer = try Trainer(network: net, options: options.trainerOptions)
                trainer.exchange = options.exchange
                try checkpoints.fit(trainer, setup.train, from: resumed, records: jobRecords) { event in
                    switch event {
                    case .progress(let p):
                        events(.progress(epoch: p.epoch, done: p.done, total: p.total, meanLoss: p.meanLoss,
                                         samplesPerSecond: p.samplesPerSecond))
                        if plan.perSample { try board?.progress(epoch: p.epoch, done: p.done, meanLoss: p.meanLoss) }
                    case .step(let step):
                        try board?.step(step)
                    case .checkpoint:
                        if stopping.shouldStop { throw EarlyStopping.Stop() }
                    case .epoch(let report):
                        trainingSeconds += report.seconds
                        let validation = try setup.validation.map { try TrainScore.measure(evaluator, $0, encoding: model.encoding).score }
                        let test = try setup.test.map { try TrainScore.measure(evaluator, $0, encoding: model.encoding).score }
                        let record = EpochRecord(epoch: report.epoch, learningRate: report.learningRate,
                                                 trainLoss: report.meanLoss, validation: validation, test: test,
                                                 seconds: epochClock.lap(), samplesPerSecond: report.samplesPerSecond)
                        try log.append(record)
                        let improved = stopping.record(record)
                        try board?.epoch(report.epoch, scalars: Self.boardScalars(record), figure: {
                            TrainFigures.curves(log.records, encoding: model.encoding, epochs: options.epochs)
                        }, network: net)
                        events(.epoch(record))
                        if let folder = options.output {
                            try log.writeMetrics(to: folder + "/metrics.csv")
                            if improved { try model.write(to: folder + "/model.safetensors") }
                        }
                    }
                }
            }
        } catch is EarlyStopping.Stop {}

        let records = log.records
        let kept = records.first { $0.epoch == stopping.modelEpoch } ?? records.last!
        let figuresSet = setup.validation ?? setup.test ?? setup.train
        if stopping.patience != nil, let modelPath, kept.epoch != records.last?.epoch {
            net.parameters = try MLP(contentsOf: modelPath).parameters   // the figures show the model kept
        }
        // Classes need only each sample's predicted class (a byte each, whatever the set's size); numbers need the
        // outputs.
        var predicted: [UInt8]?, outputs: [Float] = []
        if case .classes = model.encoding, case .classes = figuresSet.targets {
            predicted = try evaluator.evaluate(figuresSet).predictions
        } else {
            outputs = try TrainScore.measure(evaluator, figuresSet, encoding: model.encoding).outputs
        }
        let summary = Summary(
            task: model.encoding.summary, classes: model.encoding.classNames,
            targets: setup.rawTrain.targetNames, features: setup.train.inputSize, architecture: net.architecture,
            layers: setup.spec.description, parameters: net.parameterCount, loss: net.loss.rawValue,
            optimizer: options.optimizer.name, learningRate: options.learningRate, batchSize: options.batchSize,
            epochs: options.epochs, epochsRun: records.count, stoppedEarly: stopping.shouldStop && records.count < options.epochs,
            modelEpoch: kept.epoch, standardized: options.standardize, trainSamples: setup.train.count,
            validationSamples: setup.validation?.count, testSamples: setup.test?.count, trainLoss: kept.trainLoss,
            validationLoss: kept.validation?.loss, validationAccuracy: kept.validation?.accuracy,
            validationR2: kept.validation?.r2, testLoss: kept.test?.loss, testAccuracy: kept.test?.accuracy,
            testR2: kept.test?.r2, trainingSeconds: trainingSeconds,
            samplesPerSecond: Double(setup.train.count * records.count) / max(trainingSeconds, 1e-9))
        if let folder = options.output {
            try JSONFile.write(summary, to: folder + "/summary.json")
            try PNGFile.write(TrainFigures.curves(records, encoding: model.encoding, epochs: options.epochs),
                              to: folder + "/curves.png")
            let setName = setup.validation != nil ? "validation" : setup.test != nil ? "test" : "training"
            switch (model.encoding, figuresSet.targets) {
            case (.values(let names), .values(let truth, _)):
                try PNGFile.write(TrainFigures.scatter(predicted: outputs, truth: truth, columns: names.count,
                                                       name: names[0], set: setName), to: folder + "/scatter.png")
            case (.classes(let names), .classes(let labels)):
                let counts = TrainFigures.confusionCounts(predicted: predicted!, labels: labels, classes: names.count)
                try PNGFile.write(TrainFigures.confusion(counts, encoding: model.encoding, set: setName),
                                  to: folder + "/confusion.png")
            case (_, let targets):
                let counts = TrainFigures.confusionCounts(outputs, targets, encoding: model.encoding)
                try PNGFile.write(TrainFigures.confusion(counts, encoding: model.encoding, set: setName),
                                  to: folder + "/confusion.png")
            }
        }
        return summary
    }
}

/// Early stopping on the held-out loss (validation if there is one, else test): the best epoch so far, and
/// whether `patience` epochs have passed without a better one.
struct EarlyStopping {
    /// Thrown from the event handler to end training once the checkpoint of the last epoch is written.
    struct Stop: Error {}

    let patience: Int?
    private(set) var bestLoss = Double.infinity
    private(set) var modelEpoch = 0
    private(set) var sinceBest = 0

    /// Replays `records` (a resumed run's).
    init(patience: Int?, records: [TrainJob.EpochRecord]) {
        self.patience = patience
        for record in records { _ = self.record(record) }
    }

    /// Takes an epoch's figures; true when its model should be written (better held-out loss, or no early
    /// stopping, where every epoch's model is kept).
    mutating func record(_ record: TrainJob.EpochRecord) -> Bool {
        guard patience != nil, let loss = (record.validation ?? record.test)?.loss else {
            modelEpoch = record.epoch
            return true
        }
        if loss < bestLoss {
            bestLoss = loss
            modelEpoch = record.epoch
            sinceBest = 0
            return true
        }
        sinceBest += 1
        return false
    }

    /// Whether training should end now.
    var shouldStop: Bool { patience.map { sinceBest >= $0 } ?? false }
}
