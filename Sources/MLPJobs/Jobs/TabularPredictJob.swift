// `predict` for models written by `train`: CSV rows (or images, for image models) to class names or numbers.
import Foundation
import MLPData
import MLPImaging
import MLPKit

/// Applies a `TabularModel` to the rows of CSV files (feature columns found by name; the target column, when
/// present, is the truth the predictions are scored against) or, for a model trained on images, to PNG files.
public enum TabularPredictJob {
    /// What the model made of one row or image.
    public struct Prediction: Sendable, Codable, Equatable {
        /// "rows.csv, line 3" or the image's path.
        public let source: String
        /// The predicted class's name (classification), with the most probable classes.
        public let predicted: String?
        public let top: [RankedClass]?
        /// The predicted numbers (regression), one per target column.
        public let values: [Float]?
        /// The target as the file gives it, when it does.
        public let truth: String?
    }

    /// A class name and its probability.
    public struct RankedClass: Sendable, Codable, Equatable {
        public let name: String
        public let probability: Float
    }

    /// Every prediction, and the score over the rows whose truth was given.
    public struct Report: Sendable, Codable, Equatable {
        public let predictions: [Prediction]
        /// Fraction right (classification) or R² (regression) over the rows with a truth; nil when none had one.
        public let accuracy: Double?
        public let r2: Double?
    }

    /// Predicts every row of the CSV files and every PNG image in `inputs`.
    public static func run(model path: String, inputs: [String]) throws -> Report {
        guard !inputs.isEmpty else { throw MLPError("predict needs at least one CSV file or image") }
        let model = try TabularModel(contentsOf: path)
        var features: [Float] = [], sources: [String] = []
        var truthNames: [String?] = []
        for input in inputs {
            if input.lowercased().hasSuffix(".png") {
                features += try imageFeatures(input, model: model, modelPath: path)
                sources.append(input)
                truthNames.append(nil)
                continue
            }
            let table = try CSVTable.read(input)
            let columns = try model.featureNames.map { name -> Int in
                guard let index = table.columns.firstIndex(of: name) else {
                    throw MLPError("\(input) has no column \"\(name)\", which the model reads (it reads "
                                   + "\(model.featureNames.count) columns: \(model.featureNames.prefix(6).joined(separator: ", "))…)")
                }
                return index
            }
            features += try table.numbers(columns: columns)
            sources += (0..<table.rowCount).map { "\(input), row \($0 + 1)" }
            let targets = model.targetNames
            if let truthColumns = try? targets.map({ try table.columnIndex(named: $0) }) {
                if truthColumns.count == 1, !table.isNumeric(column: truthColumns[0]) {
                    truthNames += table.strings(column: truthColumns[0]).map(Optional.some)
                } else {
                    let values = try table.numbers(columns: truthColumns)
                    let width = truthColumns.count
                    for r in 0..<table.rowCount {
                        let row: [String] = values[r * width ..< (r + 1) * width].map(Self.label)
                        truthNames.append(row.joined(separator: ","))
                    }
                }
            } else {
                truthNames += [String?](repeating: nil, count: table.rowCount)
            }
        }
        let net = model.network
        let width = model.featureNames.count
        let outputs = try net.forward(Matrix(rows: features.count / width, columns: width,
                                             values: model.prepare(features))).values
        let size = net.outputSize
        var predictions: [Prediction] = []
        var right = 0, scored = 0
        var truthValues: [Float] = [], predictedValues: [Float] = []
        for (row, source) in sources.enumerated() {
            let out = Array(outputs[row * size ..< (row + 1) * size])
            let truth = truthNames[row]
            switch model.encoding {
            case .classes(let names):
                let ranked = out.enumerated().sorted { $0.element > $1.element }
                let name = names[ranked[0].offset]
                predictions.append(Prediction(source: source, predicted: name,
                                              top: ranked.prefix(3).map { RankedClass(name: names[$0.offset], probability: $0.element) },
                                              values: nil, truth: truth))
                if let truth { scored += 1; if truth == name { right += 1 } }
            case .binary:
                let name = out[0] >= 0.5 ? "1" : "0"
                predictions.append(Prediction(source: source, predicted: name,
                                              top: [RankedClass(name: "1", probability: out[0])], values: nil, truth: truth))
                if let truth { scored += 1; if Float(truth) == Float(name) { right += 1 } }
            case .values:
                predictions.append(Prediction(source: source, predicted: nil, top: nil, values: out, truth: truth))
                if let truth {
                    let numbers = truth.split(separator: ",").compactMap { Float($0) }
                    if numbers.count == size { truthValues += numbers; predictedValues += out }
                }
            }
        }
        let accuracy = model.encoding.isClassification && scored > 0 ? Double(right) / Double(scored) : nil
        let r2 = !truthValues.isEmpty ? TrainScore.rSquared(predictedValues, truthValues, width: size) : nil
        return Report(predictions: predictions, accuracy: accuracy, r2: r2)
    }

    /// A number as a label: "3" for a whole number (as class names are written), else its shortest form.
    static func label(_ value: Float) -> String {
        value == value.rounded() && abs(value) < 1e7 ? String(Int(value)) : "\(value)"
    }

    /// A PNG as the image model's inputs: grey, resized by area averaging to the training images' size, and
    /// flipped (1 − x) when its background (its outer ring: light or dark) is not the training images'.
    static func imageFeatures(_ path: String, model: TabularModel, modelPath: String) throws -> [Float] {
        guard let shape = model.imageShape, shape.count == 2 else {
            throw MLPError("\(path): \(modelPath) was trained on a table, not on images; give CSV rows")
        }
        let image = try PNGFile.readGray(path)
        var values = image.pixels.map { Float($0) / 255 }
        if image.width != shape[1] || image.height != shape[0] {
            values = DigitImage.resize(values, width: image.width, height: image.height, to: shape[1], shape[0])
        }
        if let background = model.imageBackground {
            let paper: Float = DigitImage.ringMean(values, width: shape[1], height: shape[0]) > 0.5 ? 1 : 0
            if paper != background { values = values.map { 1 - $0 } }
        }
        return values
    }
}
