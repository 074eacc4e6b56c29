// What the network predicts: classes (by name), one yes/no column, or numbers; chosen on the training data.
import MLPKit

/// How a data set's raw target becomes the network's targets. Chosen once from the training data (`choose`) and
/// stored in the model, so that test data and `predict` use the same class numbering.
public enum TargetEncoding: Sendable, Equatable, Codable {
    /// One class per sample: softmax outputs, one per name, in this order.
    case classes([String])
    /// One 0/1 column: a single logistic output, the probability of 1.
    case binary(String)
    /// Numbers: one identity output per named column.
    case values([String])

    /// What the user may ask for with `--task`.
    public enum Task: String, Sendable, CaseIterable {
        case auto, classification, regression
    }

    /// Classes with at most this many distinct whole numbers are read as class labels by `--task auto`.
    public static let maxNumericClasses = 20

    /// The encoding for `data`'s target. Under `.auto`: text labels are classes (in order of first appearance;
    /// numeric labels in numeric order); one column of 0s and 1s is binary; one column of whole numbers with
    /// 3 to 20 distinct values is classes; anything else is values.
    public static func choose(for data: LabeledData, task: Task) throws -> TargetEncoding {
        switch data.target {
        case .labels(let labels):
            if task == .regression {
                let bad = labels.first { Float($0) == nil } ?? ""
                throw MLPError("\(data.source): --task regression needs numbers in \(data.targetNames[0]), "
                               + "but it holds \"\(bad)\"")
            }
            return .classes(classNames(labels))
        case .numbers(let values, let columns):
            guard columns == 1 else {
                if task == .classification {
                    throw MLPError("--task classification needs one target column; --target names \(columns)")
                }
                return .values(data.targetNames)
            }
            let distinct = Set(values)
            let isLabel = { (value: Float) in value == value.rounded() && abs(value) < 1e7 }
            let whole = values.allSatisfy(isLabel)
            switch task {
            case .regression:
                return .values(data.targetNames)
            case .classification:
                if let bad = values.first(where: { !isLabel($0) }) {
                    throw MLPError("--task classification needs whole numbers below 10⁷ (or text) as classes in "
                                   + "\(data.targetNames[0]); it holds \(bad)")
                }
                return .classes(classNames(values.map(Self.text)))
            case .auto:
                if distinct.isSubset(of: [0, 1]), distinct.count == 2 { return .binary(data.targetNames[0]) }
                if whole, (3...maxNumericClasses).contains(distinct.count) {
                    return .classes(classNames(values.map(Self.text)))
                }
                return .values(data.targetNames)
            }
        }
    }

    /// "3" for 3.0: how whole-number labels are named.
    static func text(_ value: Float) -> String { String(Int(value)) }

    /// Distinct labels in order of first appearance, or in numeric order when every label is a number.
    static func classNames(_ labels: [String]) -> [String] {
        var seen = Set<String>(), names: [String] = []
        for label in labels where seen.insert(label).inserted { names.append(label) }
        if names.allSatisfy({ Double($0) != nil }) { names.sort { Double($0)! < Double($1)! } }
        return names
    }

    /// Number of network outputs.
    public var outputs: Int {
        switch self {
        case .classes(let names): names.count
        case .binary: 1
        case .values(let names): names.count
        }
    }

    /// The class names, in output order; nil for binary and value targets.
    public var classNames: [String]? {
        if case .classes(let names) = self { return names }
        return nil
    }

    /// Whether this is classification (classes or binary), scored by accuracy rather than R².
    public var isClassification: Bool {
        if case .values = self { return false }
        return true
    }

    /// "10 classes", "binary (0/1 in churn)", "2 numbers (x, y)": for messages and summaries.
    public var summary: String {
        switch self {
        case .classes(let names): "\(names.count) classes"
        case .binary(let name): "binary (0/1 in \(name))"
        case .values(let names): names.count == 1 ? "a number (\(names[0]))"
                                                  : "\(names.count) numbers (\(names.joined(separator: ", ")))"
        }
    }

    /// The natural output layer and loss: softmax + cross-entropy, logistic + logistic, identity + squared.
    public var defaultOutput: (activation: Activation, loss: Loss) {
        switch self {
        case .classes: (.softmax, .softmaxCrossEntropy)
        case .binary: (.logistic, .logistic)
        case .values: (.identity, .squared)
        }
    }

    /// `data`'s targets in this encoding; a class the encoding does not know (in test data), a value that is not
    /// 0 or 1 for binary, or a label for values is an error naming the data.
    public func targets(for data: LabeledData) throws -> TrainingSet.Targets {
        switch (self, data.target) {
        case (.classes(let names), .labels(let labels)):
            return .classes(try classIndices(labels, names: names, source: data.source))
        case (.classes(let names), .numbers(let values, let columns)) where columns == 1:
            return .classes(try classIndices(values.map(Self.text), names: names, source: data.source))
        case (.binary(let name), .numbers(let values, 1)):
            if let bad = values.first(where: { $0 != 0 && $0 != 1 }) {
                throw MLPError("\(data.source): \(name) should hold 0 or 1 as in the training data, but holds \(bad)")
            }
            return .values(values, size: 1)
        case (.values(let names), .numbers(let values, let columns)) where columns == names.count:
            return .values(values, size: columns)
        default:
            throw MLPError("\(data.source): its target (\(data.targetNames.joined(separator: ", "))) does not match "
                           + "the training data's, \(summary)")
        }
    }

    private func classIndices(_ labels: [String], names: [String], source: String) throws -> [UInt8] {
        guard names.count <= 256 else {
            throw MLPError("\(source): \(names.count) classes; at most 256 are supported")
        }
        var index: [String: UInt8] = [:]
        for (i, name) in names.enumerated() { index[name] = UInt8(i) }
        return try labels.map { label in
            guard let i = index[label] else {
                throw MLPError("\(source): class \"\(label)\" does not occur in the training data "
                               + "(classes: \(names.prefix(12).joined(separator: ", "))\(names.count > 12 ? ", …" : ""))")
            }
            return i
        }
    }
}
