// The epochs of a `train` run: their records, kept ready as checkpoint JSON and as `metrics.csv` rows.
import MLPKit

/// The records of a `train` run's epochs. Each is turned into JSON and a CSV row once, when it is added, so that
/// writing the metrics and the checkpoint after every epoch costs a copy, not a re-encoding of the whole run (a
/// run of thousands of short epochs would otherwise spend most of its time there).
struct TrainLog {
    /// The epochs so far.
    private(set) var records: [TrainJob.EpochRecord] = []
    private var jsonItems: [String] = []
    private var rows: [String] = []

    /// An empty log, or one holding a resumed run's records.
    init(_ records: [TrainJob.EpochRecord] = []) throws {
        for record in records { try append(record) }
    }

    /// Adds an epoch.
    mutating func append(_ record: TrainJob.EpochRecord) throws {
        records.append(record)
        jsonItems.append(try JobCheckpoints.encode(record))
        var row = ["\(record.epoch)", "\(record.learningRate)", "\(record.trainLoss)"]
        if let v = record.validation { row += ["\(v.loss)", "\(v.headline)"] }
        if let t = record.test { row += ["\(t.loss)", "\(t.headline)"] }
        rows.append((row + ["\(record.seconds)"]).joined(separator: ","))
    }

    /// The records as a JSON array, for the checkpoint.
    var json: String { "[" + jsonItems.joined(separator: ",") + "]" }

    /// Writes `metrics.csv`: epoch, learning rate, training loss, the held-out sets' loss and accuracy (or R²),
    /// seconds.
    func writeMetrics(to path: String) throws {
        let first = records.first
        let scoreName = first.map { ($0.validation ?? $0.test)?.accuracy != nil ? "accuracy" : "r2" } ?? "score"
        var header = ["epoch", "learning_rate", "train_loss"]
        if first?.validation != nil { header += ["validation_loss", "validation_" + scoreName] }
        if first?.test != nil { header += ["test_loss", "test_" + scoreName] }
        let csv = ([(header + ["seconds"]).joined(separator: ",")] + rows).joined(separator: "\n") + "\n"
        try AtomicFile.write(text: csv, to: path)
    }
}
