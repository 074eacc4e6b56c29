// The homework's disc test: separate points inside the unit circle from those outside, and watch the
// hidden 2-D layer pull the two classes apart until a line separates them.
import MLPData
import MLPImaging
import MLPKit
import Foundation

/// The disc test: 2 → 100 (leaky ReLU, "layer1") → 2 (leaky ReLU, "layer2") → 1 (logistic), logistic loss,
/// per-sample SGD. Writes `metrics.csv`, `summary.json` and one PNG frame per epoch.
public enum DiscDemo {
    /// What to run and where to write it.
    public struct Options: TrainingJobOptions, Sendable {
        /// The training's settings: 100 epochs of per-sample SGD at η = 0.001; the seed fixes the points, the
        /// initial weights and the shuffling.
        public var training = TrainingOptions(epochs: 100, learningRate: 0.001)
        /// Number of training points.
        public var samples = 1000
        /// Folder for metrics, summary and frames; nil writes nothing.
        public var output: String? = "Output/disc"
        /// Whether to draw a PNG frame per epoch (metrics and summary are written regardless).
        public var frames = true
        /// Also write the frames as `animation.gif`, each shown for `gifDelay` hundredths of a second.
        public var gif = false
        public var gifDelay = 10
        /// Resuming and stopping (checkpoints go to `output`).
        public var checkpoints = CheckpointOptions()

        /// The homework's settings.
        public init() {}

        /// Mixed into the seed for the shuffling.
        public static let shuffleSalt: UInt64 = 0x5EED

        /// Checks every option (the messages name the command-line options).
        public func validate() throws {
            try training.validate()
            guard samples > 0 else { throw MLPError("the number of samples must be positive, got \(samples)") }
            if gif && !frames { throw MLPError("--gif animates the frames: drop --no-frames") }
            try validateGIFDelay(gifDelay)
        }
    }

    /// The figures of one epoch.
    public struct Epoch: Sendable, Codable {
        /// 1-based epoch number.
        public let epoch: Int
        /// Logistic loss summed over the epoch's SGD steps (each sample's loss before its step).
        public let loss: Double
        /// Fraction of the training points classified correctly after the epoch (threshold 0.5).
        public let accuracy: Double
    }

    /// The final figures, as written to `summary.json`.
    public struct Summary: Sendable, Codable {
        /// "complete" (an interrupted run writes `InterruptedSummary` instead).
        public var status = "complete"
        public let epochs: Int
        public let learningRate: Float
        /// Samples per step (1: per-sample SGD) and the update rule.
        public let batchSize: Int
        public let optimizer: String
        public let seed: UInt64
        public let samples: Int
        public let finalLoss: Double
        public let finalAccuracy: Double
        /// First epoch reaching 99% / 100% training accuracy (nil if never).
        public let firstEpochAt99Percent: Int?
        public let firstEpochAt100Percent: Int?
        /// Per-sample SGD speed: samples / seconds spent in the training steps alone.
        public let samplesPerSecond: Double
        public let trainingSeconds: Double
    }

    /// The homework's data: `count` points drawn from randn(2); label 1 inside the unit circle; points outside
    /// are pushed out by a factor 1.1 so a margin separates the classes. Returns (count × 2 inputs, labels).
    public static func makeData(count: Int, seed: UInt64) -> (inputs: [Float], labels: [Float]) {
        var generator = SplitMix64(seed: seed ^ 0xD15C_DA7A)
        var inputs = [Float](), labels = [Float]()
        inputs.reserveCapacity(2 * count)
        for _ in 0..<count {
            var x = generator.nextGaussian(), y = generator.nextGaussian()
            let inside = x * x + y * y < 1
            if !inside { x *= 1.1; y *= 1.1 }
            inputs += [x, y]
            labels.append(inside ? 1 : 0)
        }
        return (inputs, labels)
    }

    /// The homework's network, initialised from `seed`.
    public static func makeNetwork(seed: UInt64) -> MLP {
        let net = MLP(inputSize: 2, loss: .logistic, seed: seed)
        net.addLayer(100, activation: .leakyReLU, name: "layer1")
        net.addLayer(2, activation: .leakyReLU, name: "layer2")
        net.addLayer(1, activation: .logistic)
        return net
    }

    /// Trains the disc network, writing metrics, model, frames and checkpoints as it goes; `log` sees every epoch.
    /// Throws `JobInterrupted` when `options.checkpoints.stop` is requested, after writing a checkpoint.
    public static func run(_ options: Options, log: (Epoch) -> Void = { _ in }) throws -> Summary {
        try options.validate()
        if let folder = options.output { try AtomicFile.createFolder(folder) }
        let (inputs, labels) = makeData(count: options.samples, seed: options.seed)
        let data = try TrainingSet(inputs: inputs, inputSize: 2, targets: .values(labels, size: 1))
        let checkpoints = JobCheckpoints(job: "disc", folder: options.output, training: options.training,
                                         data: data, options: options.checkpoints)
        let resumed = try checkpoints.resumed(epochs: options.epochs)
        let net = try resumed?.makeNetwork(path: options.checkpoints.resume!) ?? makeNetwork(seed: options.seed)
        let trainer = try Trainer(network: net, options: options.trainerOptions)

        let points = Matrix(rows: options.samples, columns: 2, values: inputs)
        var history: [Epoch] = []
        var trainingSeconds = 0.0
        if let resumed, let path = options.checkpoints.resume {
            history = try JobCheckpoints.decode([Epoch].self, "records", from: resumed, path: path)
            trainingSeconds = try JobCheckpoints.decode(Double.self, "training_seconds", from: resumed, path: path)
        }
        // The metrics so far (none, or the checkpoint's), so that a stopped run always leaves them.
        if let folder = options.output { try writeMetrics(history, to: folder + "/metrics.csv") }
        var animation: GIFWriter?
        if options.gif, let folder = options.output, !history.isEmpty {
            animation = try GIFWriter.resumed(frames: history.map { folder + "/" + frameName($0.epoch) },
                                              delay: options.gifDelay)
        }
        let records = {
            ["records": try JobCheckpoints.encode(history), "training_seconds": try JobCheckpoints.encode(trainingSeconds)]
        }
        let board = try options.output.map {
            try TrainingBoard(folder: $0, data: data, outputs: 1, batchSize: options.batchSize, epochs: options.epochs,
                              resumed: resumed?.state)
        }
        let perSample = trainer.plan(for: data).perSample
        try checkpoints.fit(trainer, data, from: resumed, records: records) { event in
            switch event {
            case .progress(let p):
                if perSample { try board?.progress(epoch: p.epoch, done: p.done, meanLoss: p.meanLoss) }
            case .step(let step):
                try board?.step(step)
            case .checkpoint:
                break
            case .epoch(let report):
                trainingSeconds += report.seconds
                let predictions = try net.forward(points).values
                let correct = zip(predictions, labels).filter { ($0 > 0.5) == ($1 == 1) }.count
                let record = Epoch(epoch: report.epoch, loss: report.loss,
                                   accuracy: Double(correct) / Double(options.samples))
                history.append(record)
                log(record)
                var frame: Canvas?
                func drawn() throws -> Canvas {
                    if let frame { return frame }
                    let drawing = drawFrame(hidden: try net.forward(points, end: "layer2"), labels: labels,
                                            history: history, of: options.epochs)
                    frame = drawing
                    return drawing
                }
                try board?.epoch(report.epoch, scalars: [
                    ("loss/train", report.meanLoss), ("accuracy/train", record.accuracy),
                    ("learning_rate", Double(report.learningRate)), ("samples_per_second", report.samplesPerSecond),
                ], figure: drawn, network: net)
                guard let folder = options.output else { return }
                try writeMetrics(history, to: folder + "/metrics.csv")
                try net.write(to: folder + "/model.safetensors")
                if options.frames {
                    let frame = try drawn()
                    try PNGFile.write(frame, to: folder + "/" + frameName(report.epoch))
                    if options.gif {
                        if animation == nil {
                            animation = try GIFWriter(width: frame.width, height: frame.height,
                                                      delay: options.gifDelay)
                        }
                        try animation?.append(frame)
                    }
                }
            }
        }
        if let animation, let folder = options.output { try animation.finish(to: folder + "/animation.gif") }

        let summary = Summary(
            epochs: options.epochs, learningRate: options.learningRate, batchSize: options.batchSize,
            optimizer: options.optimizer.name, seed: options.seed,
            samples: options.samples, finalLoss: history.last!.loss, finalAccuracy: history.last!.accuracy,
            firstEpochAt99Percent: history.first { $0.accuracy >= 0.99 }?.epoch,
            firstEpochAt100Percent: history.first { $0.accuracy >= 1 }?.epoch,
            samplesPerSecond: Double(options.samples * options.epochs) / trainingSeconds,
            trainingSeconds: trainingSeconds)
        if let folder = options.output { try JSONFile.write(summary, to: folder + "/summary.json") }
        return summary
    }

    /// `frame-0001.png` for epoch 1.
    public static func frameName(_ epoch: Int) -> String {
        "frame-" + String(repeating: "0", count: max(0, 4 - String(epoch).count)) + String(epoch) + ".png"
    }

    static func writeMetrics(_ history: [Epoch], to path: String) throws {
        var csv = "epoch,loss,accuracy\n"
        for e in history { csv += "\(e.epoch),\(e.loss),\(e.accuracy)\n" }
        try AtomicFile.write(text: csv, to: path)
    }

    /// Left: the points at their "layer2" coordinates, by class; right: loss and accuracy so far.
    static func drawFrame(hidden: Matrix, labels: [Float], history: [Epoch], of epochs: Int) -> Canvas {
        var canvas = Canvas(width: 1280, height: 660)
        let last = history.last!
        canvas.drawText(String(format: "Disc test  -  epoch %d/%d  -  accuracy %.1f%%  -  loss %.1f",
                               last.epoch, epochs, 100 * last.accuracy, last.loss),
                        x: 24, y: 16, color: .black, scale: 3)

        let points = (0..<hidden.rows).map { (Double(hidden.values[2 * $0]), Double(hidden.values[2 * $0 + 1])) }
        let frame = ScatterFrame(title: "outputs of layer2", xLabel: "unit 1", yLabel: "unit 2",
                                 fitting: points, x: 10, y: 60, width: 640, height: 590)
        frame.drawAxes(on: &canvas)
        let colors = [RGB.tab10[0], RGB.tab10[1]]
        frame.drawPlot(on: &canvas) { canvas in
            for (i, point) in points.enumerated() {
                let (px, py) = frame.pixel(for: point.0, point.1)
                canvas.drawPoint(x: Float(px), y: Float(py), radius: 2.5, color: colors[Int(labels[i])])
            }
        }
        Legend([.init("outside", color: colors[0]), .init("inside", color: colors[1])])
            .draw(on: &canvas, x: frame.plotArea.x + 12, y: frame.plotArea.y + 12)

        let xRange = 0.0...Double(max(epochs, 2))
        LineChart(title: "training loss (sum over the epoch)", xLabel: "epoch", yLabel: "loss",
                  series: [.init(name: "loss", color: RGB.tab10[3], points: history.map { (Double($0.epoch), $0.loss) })],
                  xRange: xRange, legend: .none)
            .draw(on: &canvas, x: 660, y: 60, width: 610, height: 295)
        LineChart(title: "training accuracy", xLabel: "epoch", yLabel: "accuracy",
                  series: [.init(name: "accuracy", color: RGB.tab10[2],
                                 points: history.map { (Double($0.epoch), $0.accuracy) })],
                  xRange: xRange, yRange: 0.4...1.0, legend: .none)
            .draw(on: &canvas, x: 660, y: 360, width: 610, height: 290)
        return canvas
    }
}

/// Checks a GIF frame delay, in hundredths of a second.
func validateGIFDelay(_ delay: Int) throws {
    guard (1...65_535).contains(delay) else {
        throw MLPError("--gif-delay must be between 1 and 65535 hundredths of a second, got \(delay)")
    }
}
