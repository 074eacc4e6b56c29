// `mlp-train train`: your network on your data (CSV, IDX, PNG class folders, safetensors).
import ArgumentParser
import Foundation
import MLPData
import MLPJobs
import MLPKit

struct TrainCommand: TrainingCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train your own network on your own data: a CSV table, IDX files, PNG class folders or safetensors.",
        discussion: """
            --data is a .csv file with a header row (features must be numbers; the target column may hold any \
            text, class names), a .safetensors file with tensors x [n, …] and y [n] or [n, k], an IDX images \
            file (its labels file is found by name), or a folder: one subfolder of PNGs per class, IDX files \
            (train-… for --data, t10k-…/test-… for --test), or the MNIST mosaics (Data/mnist-png). `mnist` names \
            the digits' folder. MNIST's own test split is scored every epoch unless --test says otherwise. The \
            target decides the defaults: class labels → softmax + cross-entropy; one 0/1 column → logistic; numbers → identity + squared loss. \
            Writes metrics.csv, model.safetensors, summary.json, curves.png and confusion.png (classes) or \
            scatter.png (numbers) into --output, and a TensorBoard event file (events.out.tfevents.…) into \
            --tensorboard or --output; `mlp-train predict --model …/model.safetensors FILE.csv` applies \
            the model.
            """)

    @Option(help: ArgumentHelp("Training data: a CSV, IDX or safetensors file, a folder, or mnist (the digits).",
                               valueName: "file|dir"))
    var data: String

    @Option(help: ArgumentHelp("Test data in the same format, scored every epoch.", valueName: "file|dir"))
    var test: String?

    @Option(help: ArgumentHelp("Hold out this fraction of --data (seeded by --seed) as a validation set.",
                               valueName: "F"))
    var validationSplit: Double?

    @Option(help: ArgumentHelp("The CSV column(s) to predict, comma-separated (default: the last column).",
                               valueName: "names"))
    var target: String?

    @Option(help: ArgumentHelp("classification, regression, or auto (text labels or 3–20 whole numbers are classes; "
                               + "one 0/1 column is binary; other numbers are regression)."))
    var task: TaskChoice = .auto

    @Option(help: ArgumentHelp("Layers as units:activation[@name], comma-separated; the input size comes from the "
                               + "data. Activations: logistic, relu, leaky-relu[:slope], tanh, identity, softmax. "
                               + "Default: 64:relu and the target's output layer.",
                               valueName: "spec"))
    var layers: String?

    @Option(help: "cross-entropy, logistic, squared or absolute (default: from the target).")
    var loss: LossChoice?

    @OptionGroup var run: TrainingArguments<TrainJob.Options>

    @Flag(help: "Standardize the features (z-scores from the training data, stored in the model).")
    var standardize = false

    @Option(help: ArgumentHelp("Stop after this many epochs without a better held-out loss, keeping the best model.",
                               valueName: "patience"))
    var earlyStopping: Int?

    @Option(name: .customLong("init"),
            help: ArgumentHelp("How the layers start: he, xavier or lecun (normal; add -uniform for uniform), or "
                               + "homework (randn × 0.1). Default: he for the ReLU family, xavier for the others.",
                               valueName: "initializer"))
    var initializer: InitializerChoice?

    @Option(help: ArgumentHelp("Folder for the TensorBoard event file (default: --output): per-step loss, each "
                               + "epoch's scores, figure and histograms.", valueName: "folder"))
    var tensorboard: String?

    @Option(help: ArgumentHelp("Start from this model's weights (fine-tuning): one written by train, import or "
                               + "another job, with the same layer widths as --layers.", valueName: "model"))
    var initFrom: String?

    @Option(help: "Folder for the metrics, model, summary and figures.")
    var output: String = "Output/train"

    enum InitializerChoice: String, ExpressibleByArgument, CaseIterable {
        case he, heUniform = "he-uniform", xavier, xavierUniform = "xavier-uniform", lecun,
             lecunUniform = "lecun-uniform", homework

        var initializer: Initializer {
            switch self {
            case .he: .he(.normal)
            case .heUniform: .he(.uniform)
            case .xavier: .xavier(.normal)
            case .xavierUniform: .xavier(.uniform)
            case .lecun: .lecun(.normal)
            case .lecunUniform: .lecun(.uniform)
            case .homework: .classic
            }
        }
    }

    enum TaskChoice: String, ExpressibleByArgument, CaseIterable { case auto, classification, regression }

    enum LossChoice: String, ExpressibleByArgument, CaseIterable {
        case crossEntropy = "cross-entropy", logistic, squared, absolute

        var loss: Loss {
            switch self {
            case .crossEntropy: .softmaxCrossEntropy
            case .logistic: .logistic
            case .squared: .squared
            case .absolute: .absolute
            }
        }
    }

    /// `mnist`, when no such file is here, is the digits' folder: $MLP_DATA, else the project's Data/mnist
    /// (downloaded IDX files) or Data/mnist-png (the mosaics that ship with it).
    static func resolve(_ path: String) throws -> String {
        guard path == "mnist", !FileManager.default.fileExists(atPath: path) else { return path }
        if let folder = ProcessInfo.processInfo.environment["MLP_DATA"], !folder.isEmpty { return folder }
        guard let folder = MNIST.defaultFolder() else {
            throw MLPError("--data mnist: no MNIST found ($MLP_DATA is not set, and there is no Data/mnist or "
                           + "Data/mnist-png here or above the program): run `mlp-train download`, or give a folder")
        }
        return folder
    }

    /// The job's options from the command line.
    func options() throws -> TrainJob.Options {
        var options = TrainJob.Options(data: try Self.resolve(data))
        options.test = try test.map(Self.resolve)
        options.validationSplit = validationSplit
        options.targets = target.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        options.task = TargetEncoding.Task(rawValue: task.rawValue)!
        options.layers = try layers.map(LayerSpec.init(parsing:))
        options.loss = loss?.loss
        options.training = run.training
        options.standardize = standardize
        options.earlyStopping = earlyStopping
        options.initializer = initializer?.initializer
        options.initFrom = initFrom
        options.tensorboard = tensorboard
        options.output = output
        options.checkpoints = run.checkpointing.options()
        return options
    }

    static let trainsAcrossProcesses = true

    func validate() throws { try usage { try options().validate() } }

    func train(stop: StopRequest, cluster: ClusterRun) throws {
        var options = try self.options()
        options.checkpoints.stop = stop
        if let exchange = cluster.exchange {
            options.exchange = exchange
            if !cluster.leads { options.output = nil }
        }
        var progress = ProgressLine()
        let clock = Stopwatch()
        let epochs = run.epochs
        let summary = try TrainJob.run(options) { event in
            switch event {
            case .plan(let text):
                printError(text)
            case let .progress(epoch, done, total, meanLoss, samplesPerSecond):
                let fraction = (Double(epoch - 1) + Double(done) / Double(total)) / Double(epochs)
                let eta = clock.seconds * (1 - fraction) / max(fraction, 1e-9)
                progress.update(String(format: "epoch %d/%d  %3.0f%%  %.1fk samples/s  loss %.4g  ETA %@", epoch, epochs,
                                       100 * Double(done) / Double(total), samplesPerSecond / 1000, meanLoss,
                                       ProgressLine.duration(eta)))
            case .epoch(let r):
                var line = String(format: "epoch %3d/%d  lr %.3g  train loss %.4g", r.epoch, epochs, r.learningRate,
                                  r.trainLoss)
                for (name, score) in [("validation", r.validation), ("test", r.test)] {
                    guard let score else { continue }
                    line += String(format: "  %@ loss %.4g", name, score.loss)
                    if let accuracy = score.accuracy { line += String(format: " accuracy %.2f%%", 100 * accuracy) }
                    if let r2 = score.r2 { line += String(format: " R² %.4f", r2) }
                }
                progress.finish(line + String(format: "  %.0f samples/s", r.samplesPerSecond))
            }
        }
        guard cluster.leads else { return }
        var result = "model from epoch \(summary.modelEpoch) of \(summary.epochsRun)"
            + (summary.stoppedEarly ? " (stopped early)" : "")
        for (name, loss, accuracy, r2) in [("validation", summary.validationLoss, summary.validationAccuracy,
                                            summary.validationR2),
                                           ("test", summary.testLoss, summary.testAccuracy, summary.testR2)] {
            guard let loss else { continue }
            result += String(format: "; %@ loss %.4g", name, loss)
            if let accuracy { result += String(format: ", accuracy %.2f%%", 100 * accuracy) }
            if let r2 { result += String(format: ", R² %.4f", r2) }
        }
        print(result)
        print("wrote \(output)/model.safetensors, metrics.csv, summary.json, curves.png, "
              + (summary.classes != nil || summary.task.hasPrefix("binary") ? "confusion.png" : "scatter.png")
              + " and a TensorBoard event file" + (tensorboard.map { " in \($0)" } ?? ""))
    }
}
