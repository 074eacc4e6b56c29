// `pack`: any data `train --data` reads, converted into one packed safetensors file that training maps.
import Foundation
import MLPData
import MLPKit

/// Converts a CSV file, IDX images and labels, a folder of PNGs per class or the MNIST mosaics into a packed file
/// (`PackedDataWriter`): `x` [n, features…] as U8, F16 or F32, `y` class indices (names in the metadata) or
/// numbers, and the features' standardization statistics. A CSV file is read a stretch of rows at a time, so
/// memory does not grow with its size; images are read whole, as bytes.
public enum PackJob {
    /// What to pack and how.
    public struct Options: Sendable {
        /// The data to read (as `train --data` takes it).
        public var data: String
        /// The packed file to write.
        public var output: String
        /// x's stored type; nil: U8 for images (pixels stay bytes), F32 for tables.
        public var type: PackedDataWriter.ElementType?
        /// The CSV column(s) to predict (default the last).
        public var targets: [String]?
        /// Which split of a folder holding two (MNIST's): train or test.
        public var role: LabeledData.Role = .train
        /// The size of the stretches a CSV file is read in, in bytes.
        public var chunkBytes = 1 << 24

        public init(data: String, output: String) {
            self.data = data
            self.output = output
        }
    }

    /// What was written.
    public struct Summary: Sendable, Codable {
        public let rows: Int
        public let features: Int
        public let dtype: String
        public let classes: Int?
        /// Bytes read (a CSV file's text; an image set's pixels), and the packed file's size.
        public let bytesRead: Int
        public let bytesWritten: Int
        public let seconds: Double
    }

    /// Progress while packing: rows done and input bytes read so far.
    public typealias Progress = (_ rows: Int, _ bytesRead: Int) -> Void

    /// Packs `options.data` into `options.output`; errors name the file and the row.
    public static func run(_ options: Options, progress: Progress = { _, _ in }) throws -> Summary {
        let clock = Stopwatch()
        let isCSV = options.data.lowercased().hasSuffix(".csv")
        if !isCSV && options.targets != nil {
            throw MLPError("--target applies to CSV files; \(options.data) has a fixed target")
        }
        let written: Written
        if isCSV {
            written = try packCSV(options, progress: progress)
        } else if let idx = try LabeledData.idxFiles(options.data, role: options.role) {
            written = try packIDX(idx.images, labels: idx.labels, options, progress: progress)
        } else {
            written = try packWhole(options, progress: progress)
        }
        let outputBytes = (try? FileManager.default.attributesOfItem(atPath: options.output)[.size] as? Int) ?? 0
        return Summary(rows: written.rows, features: written.width, dtype: written.type.rawValue,
                       classes: written.classes, bytesRead: written.bytesRead, bytesWritten: outputBytes,
                       seconds: clock.seconds)
    }

    private typealias Written = (rows: Int, width: Int, type: PackedDataWriter.ElementType, classes: Int?, bytesRead: Int)

    /// IDX images, a stretch of images at a time (the labels read whole), as bytes read as byte / 255.
    private static func packIDX(_ images: String, labels: String, _ options: Options, progress: Progress) throws -> Written {
        let (labelShape, labelBytes) = try IDXLoader.readBytes(labels)
        var writer: PackedDataWriter?, imageShape: [Int] = []
        let type = options.type ?? .u8
        try IDXLoader.readBytes(images, inPiecesOf: options.chunkBytes, shape: { shape in
            guard shape.count >= 2, labelShape.count == 1, labelShape[0] == shape[0] else {
                throw MLPError("\(images) holds \(shape) and \(labels) holds \(labelShape): expected images "
                               + "[n, height, width] and labels [n]")
            }
            imageShape = Array(shape.dropFirst())
            writer = try PackedDataWriter(path: options.output, type: type, width: max(1, imageShape.reduce(1, *)),
                                          divisor: 255)
        }) { stretch in
            try writer!.appendBytes(stretch)
            progress(writer!.rows, writer!.rows * writer!.width)
        }
        guard let writer else { throw MLPError("\(images) holds no images") }
        let (y, _, classes) = targets(.labels(labelBytes.map { String($0) }))
        let names = LabeledData.featureNames(imageShape: imageShape)
        try writer.finish(y: y, columns: 1, classes: classes, shape: imageShape,
                          metadata: metadata(fitting: writer.rowsWritten(), features: names, targets: ["class"]))
        return (writer.rows, writer.width, type, classes?.count, writer.rows * writer.width)
    }

    /// PNG folders, the mosaics and safetensors: read as `train` reads them, then written.
    private static func packWhole(_ options: Options, progress: Progress) throws -> Written {
        let data = try LabeledData.load(options.data, role: options.role)
        let byteDivisor = divisor(of: data.rows.encoding)
        let type = options.type ?? (byteDivisor != nil ? .u8 : .f32)
        let writer = try PackedDataWriter(path: options.output, type: type, width: data.featureCount,
                                          divisor: type == .u8 ? byteDivisor ?? 1 : 1)
        for first in stride(from: 0, to: data.count, by: 4096) {
            try writer.append(data.rows, first ..< min(data.count, first + 4096))
            progress(writer.rows, writer.rows * data.featureCount)
        }
        let (y, columns, classes) = targets(data.target)
        try writer.finish(y: y, columns: columns, classes: classes, shape: data.imageShape ?? [data.featureCount],
                          metadata: metadata(fitting: data.rows, features: data.featureNames, targets: data.targetNames))
        return (writer.rows, data.featureCount, type, classes?.count, data.count * data.featureCount)
    }

    /// A CSV file, a stretch of rows at a time: the features as written, the target as class indices in the order
    /// the names first appear (text) or as numbers.
    private static func packCSV(_ options: Options, progress: Progress) throws -> Written {
        let chunks = try CSVChunks(path: options.data, chunkBytes: options.chunkBytes)
        var writer: PackedDataWriter?
        var featureColumns: [Int] = [], targetColumns: [Int] = [], names: [String] = [], targetNames: [String] = []
        var labels: Bool?
        var classes = ClassIndices()
        var y: [Float] = []
        var bytesRead = 0
        while let table = try chunks.next() {
            if writer == nil {
                targetNames = options.targets ?? [table.columns.last!]
                for name in targetNames {
                    let index = try table.columnIndex(named: name)
                    guard !targetColumns.contains(index) else { throw MLPError("--target names column \"\(name)\" twice") }
                    targetColumns.append(index)
                }
                featureColumns = table.columns.indices.filter { !targetColumns.contains($0) }
                guard !featureColumns.isEmpty else {
                    throw MLPError("\(options.data): every column is a target; the network needs at least one feature column")
                }
                names = featureColumns.map { table.columns[$0] }
                labels = targetColumns.count == 1 && !table.isNumeric(column: targetColumns[0])
                writer = try PackedDataWriter(path: options.output, type: options.type ?? .f32,
                                              width: featureColumns.count)
            }
            let features = try InputRows(floats: table.numbers(columns: featureColumns), width: featureColumns.count)
            try writer!.append(features, 0 ..< features.count)
            if labels == true {
                for name in table.strings(column: targetColumns[0]) { y.append(classes.index(of: name)) }
            } else {
                y += try table.numbers(columns: targetColumns)
            }
            bytesRead += table.byteCount
            progress(writer!.rows, bytesRead)
        }
        guard let writer else { throw MLPError("\(options.data) has a header but no rows") }
        try writer.finish(y: y, columns: labels == true ? 1 : targetColumns.count,
                          classes: labels == true ? classes.names : nil, shape: [names.count],
                          metadata: metadata(fitting: writer.rowsWritten(), features: names, targets: targetNames))
        return (writer.rows, names.count, writer.type, labels == true ? classes.names.count : nil, bytesRead)
    }

    /// The divisor (255 or 1) by which bytes read through `encoding`'s table are a byte divided, when one is.
    static func divisor(of encoding: InputRows.Encoding) -> Float? {
        guard case .byte(let table) = encoding else { return nil }
        for divisor: Float in [255, 1] where table.allSatisfy({ value in
            let byte = (value * divisor).rounded()
            return byte >= 0 && byte <= 255 && Float(UInt8(byte)) / divisor == value
        }) {
            return divisor
        }
        return nil
    }

    /// A data set's target as `y`: class indices and names for labels, else numbers.
    private static func targets(_ target: LabeledData.RawTarget) -> (y: [Float], columns: Int, classes: [String]?) {
        switch target {
        case .numbers(let values, let columns): return (values, columns, nil)
        case .labels(let labels):
            var classes = ClassIndices()
            let y = labels.map { classes.index(of: $0) }
            return (y, 1, classes.names)
        }
    }

    /// Class names numbered in the order they first appear.
    private struct ClassIndices {
        private(set) var names: [String] = []
        private var numbers: [String: Int] = [:]

        /// The number of class `name` (a new one when it is new), as a target value.
        mutating func index(of name: String) -> Float {
            if let known = numbers[name] { return Float(known) }
            names.append(name)
            numbers[name] = names.count - 1
            return Float(names.count - 1)
        }
    }

    /// The metadata beside the rows: the features' and targets' names, and the standardization statistics of `rows`
    /// (`standardize.mean`, `standardize.scale`), all as JSON lists.
    private static func metadata(fitting rows: InputRows, features: [String], targets: [String]) throws
        -> [String: String] {
        let standardizer = Standardizer(fitting: rows)
        return ["features": try JobCheckpoints.encode(features), "targets": try JobCheckpoints.encode(targets),
                "standardize.mean": try JobCheckpoints.encode(standardizer.mean),
                "standardize.scale": try JobCheckpoints.encode(standardizer.scale)]
    }
}
