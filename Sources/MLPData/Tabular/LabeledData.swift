// A user's data set as read from disk: a row of numeric features per sample, and the raw target to predict.
import MLPKit

/// Samples read from a CSV file, IDX images and labels, a folder of PNGs per class, or a safetensors file:
/// `count × featureCount` features (row after row) and, per sample, the target as the file held it. How the
/// target is turned into training targets (classes or values) is a `TargetEncoding`'s business.
public struct LabeledData: Sendable {
    /// The target as read: text labels (class names, folder names, IDX labels) or numbers (CSV or tensor
    /// columns).
    public enum RawTarget: Sendable, Equatable {
        /// One label per sample.
        case labels([String])
        /// `columns` numbers per sample, sample after sample.
        case numbers([Float], columns: Int)
    }

    /// The features, one row per sample, kept as stored (image pixels as bytes, a packed file's rows mapped).
    public var rows: InputRows
    /// The features as floats, sample after sample: a decoded copy when the rows are not floats.
    public var features: [Float] {
        get { rows.floats }
        set { rows = try! InputRows(floats: newValue, width: featureCount) }
    }
    /// One name per feature (CSV headers; `pixel_Y_X` for images; `x0`, `x1`… for tensors).
    public let featureNames: [String]
    /// The target columns' names (a CSV's `--target` columns; `class` for images; `y` for tensors).
    public let targetNames: [String]
    /// What to predict for each sample.
    public var target: RawTarget
    /// Where the data came from ("digits.csv, 1797 rows"), for messages and the summary.
    public let source: String
    /// Height and width when the features are the pixels of grey images (IDX, PNG folders); nil for tables.
    public let imageShape: [Int]?

    /// Checks that features and targets describe the same number of samples.
    public init(features: [Float], featureNames: [String], targetNames: [String], target: RawTarget, source: String,
                imageShape: [Int]? = nil) throws {
        let width = featureNames.count
        guard width > 0 else { throw MLPError("\(source): there are no feature columns besides the target") }
        guard features.count % width == 0 else {
            throw MLPError("\(source): \(features.count) feature values do not make rows of \(width)")
        }
        try self.init(rows: InputRows(floats: features, width: width), featureNames: featureNames,
                      targetNames: targetNames, target: target, source: source, imageShape: imageShape)
    }

    /// Samples whose features are `rows` (one name per value of a row); checks that the targets describe as many.
    public init(rows: InputRows, featureNames: [String], targetNames: [String], target: RawTarget, source: String,
                imageShape: [Int]? = nil) throws {
        guard !featureNames.isEmpty else { throw MLPError("\(source): there are no feature columns besides the target") }
        guard rows.width == featureNames.count else {
            throw MLPError("\(source): rows of \(rows.width) values, but \(featureNames.count) feature names")
        }
        let count = rows.count
        switch target {
        case .labels(let labels):
            guard labels.count == count else {
                throw MLPError("\(source): \(count) samples but \(labels.count) labels")
            }
        case .numbers(let values, let columns):
            guard columns > 0, values.count == count * columns else {
                throw MLPError("\(source): \(count) samples but \(values.count) target values (\(columns) per sample)")
            }
        }
        self.rows = rows
        self.featureNames = featureNames
        self.targetNames = targetNames
        self.target = target
        self.source = source
        self.imageShape = imageShape
    }

    /// Number of samples.
    public var count: Int { rows.count }
    /// Features per sample.
    public var featureCount: Int { featureNames.count }

    /// The samples at `indices`, in that order (a seeded split takes its parts this way).
    public func subset(_ indices: [Int], source: String) -> LabeledData {
        let target: RawTarget
        switch self.target {
        case .labels(let labels): target = .labels(indices.map { labels[$0] })
        case .numbers(let values, let columns):
            target = .numbers(indices.flatMap { values[$0 * columns ..< ($0 + 1) * columns] }, columns: columns)
        }
        return try! LabeledData(rows: rows.gathering(indices), featureNames: featureNames, targetNames: targetNames,
                                target: target, source: source, imageShape: imageShape)
    }

    /// A seeded split into training and validation parts: `fraction` of the samples (rounded, at least one)
    /// go to validation, drawn by a shuffle from `seed`; each part keeps the file's order.
    public func split(validationFraction fraction: Double, seed: UInt64) throws -> (train: LabeledData, validation: LabeledData) {
        guard fraction > 0, fraction < 1 else {
            throw MLPError("--validation-split must be between 0 and 1 (a fraction such as 0.2), got \(fraction)")
        }
        let held = max(1, Int((Double(count) * fraction).rounded()))
        guard held < count else {
            throw MLPError("--validation-split \(fraction) leaves no training samples out of \(count)")
        }
        var order = Array(0..<count)
        var generator = SplitMix64(seed: seed ^ 0x5B11_7000)
        generator.shuffle(&order)
        let validation = order.prefix(held).sorted(), train = order.dropFirst(held).sorted()
        return (subset(Array(train), source: source + " (training part)"),
                subset(validation, source: source + " (validation part, \(held) samples)"))
    }
}
