// A training job's side of checkpoints: where they go, resuming from one, and what an interrupted run leaves.
import Foundation
import MLPKit

/// How a training job resumes its run (`--resume`) and stops when asked (SIGINT or SIGTERM); how often it
/// saves is the training's `checkpointEvery`.
public struct CheckpointOptions: Sendable {
    /// Continue from this checkpoint instead of starting afresh (nil: start afresh).
    public var resume: String?
    /// Checked after every step: once requested, the job writes a checkpoint and `summary.json` marked
    /// interrupted, and throws `JobInterrupted`.
    public var stop: StopRequest?
    /// The command that started the run, for the resume command an interrupted run prints.
    public var commandLine: [String] = []

    /// Start afresh, with no stop request.
    public init() {}
}

/// What `summary.json` holds when a run was stopped by a signal before it finished.
public struct InterruptedSummary: Sendable, Codable {
    /// "interrupted".
    public let status: String
    /// The job: disc, classify or autoencoder.
    public let job: String
    /// SIGINT or SIGTERM.
    public let signal: String
    /// Where training stopped ("epoch 3, sample 1200 of 60000").
    public let stoppedAt: String
    /// Epochs finished (their metrics are in `metrics.csv`), of `epochs`.
    public let completedEpochs: Int
    public let epochs: Int
    /// The checkpoint written at the stop.
    public let checkpoint: String?
    /// The command that continues the run.
    public let resumeCommand: String
}

/// A training job stopped by a signal; its checkpoint, metrics and `summary.json` are written.
public struct JobInterrupted: Error, CustomStringConvertible, Sendable {
    /// The signal's number (SIGINT 2, SIGTERM 15): the process should exit with 128 + it.
    public let signal: Int32
    /// What `summary.json` says.
    public let summary: InterruptedSummary

    public var description: String {
        "\(summary.job) stopped by \(summary.signal) at \(summary.stoppedAt)"
            + (summary.checkpoint.map { "; checkpoint written to \($0)" } ?? "; no output folder, nothing saved")
            + ".\nResume with:\n  \(summary.resumeCommand)"
    }
}

/// A job's checkpoints: `checkpoint.safetensors` (and `checkpoint-prev.safetensors`) in its output folder.
struct JobCheckpoints {
    /// disc, classify or autoencoder.
    let job: String
    /// The output folder; nil writes nothing.
    let folder: String?
    /// The settings that shape the weights (compared before resuming).
    let run: [String: String]
    let options: CheckpointOptions
    /// Tensors every checkpoint's model holds besides the network's (a `train` model's standardization), so a
    /// checkpoint reads as the model it would be.
    let modelTensors: [SafeTensors.Tensor]

    /// `training`'s shaping values (its seed is the job's), named by command-line option as checkpoints have
    /// always named them, with the job's own: its name, the data.
    init(job: String, folder: String?, training: TrainingOptions, data: TrainingSet,
         extra: [String: String] = [:], modelTensors: [SafeTensors.Tensor] = [], options: CheckpointOptions) {
        var run: [String: String] = [:]
        for (field, value) in training.shapingValues {
            if field == "sparseFirstLayer" {
                run["--dense-first-layer"] = value == "yes" ? "no" : "yes"
            } else {
                run[optionName(forField: field)] = value
            }
        }
        run["job"] = job
        run["data"] = data.fingerprint
        run.merge(extra) { _, new in new }
        self.job = job
        self.folder = folder
        self.run = run
        self.options = options
        self.modelTensors = modelTensors
    }

    /// Where checkpoints are written, if anywhere.
    var path: String? { folder.map { $0 + "/checkpoint.safetensors" } }

    /// The checkpoint to continue from, checked against this run (settings, and epochs not already exceeded);
    /// nil when starting afresh.
    func resumed(epochs: Int) throws -> TrainingCheckpoint? {
        guard let resume = options.resume else { return nil }
        let checkpoint = try TrainingCheckpoint.read(resume)
        try checkpoint.check(against: run, path: resume)
        guard checkpoint.state.completedEpochs <= epochs else {
            throw MLPError("cannot resume from \(resume): it has finished \(checkpoint.state.completedEpochs) epochs, "
                           + "more than --epochs \(epochs)")
        }
        return checkpoint
    }

    /// Trains with `trainer` from `checkpoint`'s state (nil: from the start), passing the training events on to
    /// `onEvent`. Each checkpoint the trainer offers is written with the job's `records()`; a stop request ends in
    /// `summary.json` marked interrupted and `JobInterrupted`.
    func fit(_ trainer: Trainer, _ data: TrainingSet, from checkpoint: TrainingCheckpoint?,
             records: () throws -> [String: String], onEvent: (TrainingEvent) throws -> Void) throws {
        do {
            try trainer.fit(data, resumingFrom: checkpoint?.state, stop: options.stop) { event in
                if case .checkpoint(let state) = event, let path {
                    var checkpoint = TrainingCheckpoint(network: trainer.network, state: state, run: run,
                                                        job: try records())
                    checkpoint.model.tensors += modelTensors
                    try checkpoint.write(to: path)
                }
                try onEvent(event)
            }
        } catch let stop as TrainingInterrupted {
            throw try interrupted(stop, epochs: trainer.options.epochs)
        }
    }

    /// Writes `summary.json` marked interrupted and returns the error the job ends with.
    private func interrupted(_ stop: TrainingInterrupted, epochs: Int) throws -> JobInterrupted {
        let summary = InterruptedSummary(
            status: "interrupted", job: job, signal: TrainingInterrupted.signalName(stop.signal),
            stoppedAt: stop.state.whereabouts(samples: stop.samples), completedEpochs: stop.state.completedEpochs,
            epochs: epochs, checkpoint: path, resumeCommand: resumeCommand())
        if let folder { try JSONFile.write(summary, to: folder + "/summary.json") }
        return JobInterrupted(signal: stop.signal, summary: summary)
    }

    /// The command line that started the run, with `--resume` pointing at the checkpoint.
    func resumeCommand() -> String {
        var arguments = options.commandLine.isEmpty ? ["mlp-train", job] : options.commandLine
        if let index = arguments.firstIndex(where: { $0 == "--resume" || $0.hasPrefix("--resume=") }) {
            arguments.removeSubrange(index..<min(arguments.count, index + (arguments[index] == "--resume" ? 2 : 1)))
        }
        arguments += ["--resume", path ?? "CHECKPOINT"]
        return arguments.map(Self.shellQuoted).joined(separator: " ")
    }

    static func shellQuoted(_ word: String) -> String {
        let plain = word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }
        return plain && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    // MARK: Records as JSON

    /// `value` as compact JSON text, for the checkpoint's job metadata.
    static func encode(_ value: some Encodable) throws -> String {
        try JSONFile.text(value, compact: true)
    }

    /// Decodes the job record `key` of `checkpoint`; a missing or broken record is an error naming the file.
    static func decode<T: Decodable>(_ type: T.Type, _ key: String, from checkpoint: TrainingCheckpoint,
                                     path: String) throws -> T {
        guard let text = checkpoint.job[key],
              let value = try? JSONDecoder().decode(T.self, from: Data(text.utf8)) else {
            throw MLPError("\(path): the checkpoint's job record \"\(key)\" is missing or unreadable")
        }
        return value
    }
}
