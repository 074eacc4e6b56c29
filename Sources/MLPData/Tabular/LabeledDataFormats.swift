// Reading `--data`: a CSV file, IDX images with their labels, a folder of PNGs per class, or safetensors x/y.
import Foundation
import MLPImaging
import MLPKit

extension LabeledData {
    /// The formats `load` tells apart.
    public enum Format: String, Sendable {
        case csv, idx, pngFolders = "png-folders", safetensors
        /// The MNIST mosaics the project ships (`train/0.png` … `test/9.png`), with their own train and test split.
        case mnistMosaics = "mnist-mosaics"
    }

    /// Reads `path`, telling the format from it: a `.csv` file (a header row; `targets` names the columns to
    /// predict, default the last), a `.safetensors` file (tensors `x` [n, …] and `y` [n] or [n, k]), an IDX images
    /// file (its labels file is found by name: `images` → `labels`, `idx3` → `idx1`), or a folder holding either
    /// one subfolder of PNGs per class or one IDX images/labels pair (`role` picks `train-…` or `t10k-…`/`test-…`
    /// when there are several), or the MNIST mosaics (`role` picks the train or the test split). Errors name the
    /// file and what is wrong.
    public static func load(_ path: String, targets: [String]? = nil, role: Role = .train) throws -> LabeledData {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw MLPError("\(path) does not exist")
        }
        let format = try detectFormat(path, isFolder: isFolder.boolValue)
        if format != .csv, let targets {
            throw MLPError("--target \(targets.joined(separator: ",")) applies to CSV files; \(path) is "
                           + "\(format.rawValue) data, whose target is fixed")
        }
        switch format {
        case .csv: return try loadCSV(path, targets: targets)
        case .safetensors: return try loadSafeTensors(path)
        case .idx: return try loadIDX(isFolder.boolValue ? try idxImages(in: path, role: role) : path)
        case .pngFolders: return try loadPNGFolders(path)
        case .mnistMosaics: return try loadMosaics(path, role: role)
        }
    }

    /// Whether `path` is a folder that holds its own test split besides the training data: the MNIST mosaics,
    /// or IDX files with both `train-…` and `t10k-…` images.
    public static func holdsTestSplit(_ path: String) -> Bool {
        guard MNIST.isFolder(path) else { return false }
        if MNIST.isFile(path + "/train/0.png") { return MNIST.isFile(path + "/test/0.png") }
        return IDXLoader.locate(IDXLoader.trainImages, in: path) != nil
            && IDXLoader.locate(IDXLoader.testImages, in: path) != nil
    }

    /// Which pair of IDX files a folder's `train-…`/`t10k-…` names are read for.
    public enum Role: Sendable { case train, test }

    static func detectFormat(_ path: String, isFolder: Bool) throws -> Format {
        let name = (path as NSString).lastPathComponent.lowercased()
        if isFolder {
            if MNIST.isFile(path + "/train/0.png") { return .mnistMosaics }
            let entries = try FileManager.default.contentsOfDirectory(atPath: path)
            if entries.contains(where: { $0.contains("idx") && $0.contains("images") }) { return .idx }
            if entries.contains(where: { MNIST.isFolder(path + "/" + $0) }) { return .pngFolders }
            throw MLPError("\(path) is a folder without IDX files (…-images-idx3-ubyte), class subfolders of PNGs, or "
                           + "the MNIST mosaics (train/0.png … test/9.png)")
        }
        if name.hasSuffix(".csv") { return .csv }
        if name.hasSuffix(".safetensors") { return .safetensors }
        if name.contains("idx") { return .idx }
        throw MLPError("\(path): unknown data format; give a .csv file, a .safetensors file (tensors x and y), an "
                       + "IDX images file, or a folder of IDX files or of one PNG subfolder per class")
    }

    // MARK: CSV

    static func loadCSV(_ path: String, targets: [String]?) throws -> LabeledData {
        let table = try CSVTable.read(path)
        let targetNames = targets ?? [table.columns.last!]
        guard !targetNames.isEmpty else { throw MLPError("--target is empty") }
        var targetColumns: [Int] = []
        for name in targetNames {
            let index = try table.columnIndex(named: name)
            guard !targetColumns.contains(index) else { throw MLPError("--target names column \"\(name)\" twice") }
            targetColumns.append(index)
        }
        let featureColumns = table.columns.indices.filter { !targetColumns.contains($0) }
        guard !featureColumns.isEmpty else {
            throw MLPError("\(path): every column is a target; the network needs at least one feature column")
        }
        let features = try table.numbers(columns: featureColumns)
        let target: RawTarget
        if targetColumns.count == 1, !table.isNumeric(column: targetColumns[0]) {
            target = .labels(table.strings(column: targetColumns[0]))
        } else {
            target = .numbers(try table.numbers(columns: targetColumns), columns: targetColumns.count)
        }
        return try LabeledData(features: features, featureNames: featureColumns.map { table.columns[$0] },
                               targetNames: targetNames, target: target, source: "\(path), \(table.rowCount) rows")
    }

    // MARK: safetensors

    /// Reads `x` and `y` from a safetensors file mapped into memory: `x` stays in the file when it is U8, F16 or
    /// F32 (read in place, a row at a time, as training needs it), and other types are decoded to floats. U8 values
    /// read as v, or v / 255 when the metadata's `x.divisor` is 255 (as `pack` writes pixels); `y` holds class
    /// indices into the metadata's `y.classes` (a JSON list of names) when it is there, numbers otherwise.
    static func loadSafeTensors(_ path: String) throws -> LabeledData {
        let file = try MappedFile(path: path)
        let layout = try file.withBytes(0..<file.size) { try SafeTensors.Layout(parsing: $0, path: path) }
        guard let x = layout["x"], let y = layout["y"] else {
            throw MLPError("\(path): a data file needs tensors \"x\" (samples × features) and \"y\" (the targets); "
                           + "it has \(layout.entries.map { "\"\($0.name)\"" }.joined(separator: ", "))")
        }
        guard let count = x.shape.first, count > 0, x.shape.count >= 2, y.shape.first == count, y.shape.count <= 2 else {
            throw MLPError("\(path): x must be [samples, features…] and y [samples] or [samples, k] with the same "
                           + "number of samples; x is \(x.shape), y is \(y.shape)")
        }
        let width = x.count / count
        guard width > 0 else { throw MLPError("\(path): x is \(x.shape), rows without values") }
        let offset = layout.dataStart + x.begin
        let rows: InputRows
        switch x.type {
        case .U8:
            let divisor = layout.metadata["x.divisor"] ?? "1"
            guard divisor == "1" || divisor == "255" else {
                throw MLPError("\(path): metadata x.divisor is \"\(divisor)\"; U8 values are divided by 1 or 255")
            }
            rows = try InputRows(mapped: file, offset: offset, count: count, width: width,
                                 encoding: divisor == "255" ? .unitBytes : .plainBytes)
        case .F32 where offset % 4 == 0:
            rows = try InputRows(mapped: file, offset: offset, count: count, width: width, encoding: .float32)
        case .F16 where offset % 2 == 0:
            rows = try InputRows(mapped: file, offset: offset, count: count, width: width, encoding: .float16)
        default:
            rows = try InputRows(floats: decode(x, of: file, layout: layout), width: width)
        }
        let columns = y.shape.count == 2 ? y.shape[1] : 1
        let values = decode(y, of: file, layout: layout)
        let target: RawTarget
        if let names = layout.metadata["y.classes"] {
            guard let classes = try? JSONDecoder().decode([String].self, from: Data(names.utf8)), columns == 1 else {
                throw MLPError("\(path): metadata y.classes must be a JSON list of class names, for a y of one column")
            }
            let labels = try values.enumerated().map { i, value in
                guard value >= 0, value < Float(classes.count), value == value.rounded() else {
                    throw MLPError("\(path): y[\(i)] is \(value), not a class index below \(classes.count) (y.classes)")
                }
                return classes[Int(value)]
            }
            target = .labels(labels)
        } else {
            target = .numbers(values, columns: columns)
        }
        // `pack` records the names of the features and targets.
        func names(_ key: String, count: Int) -> [String]? {
            let names = layout.metadata[key].flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
            return names?.count == count ? names : nil
        }
        return try LabeledData(rows: rows, featureNames: names("features", count: width) ?? (0..<width).map { "x\($0)" },
                               targetNames: names("targets", count: columns)
                                   ?? (columns == 1 ? ["y"] : (0..<columns).map { "y\($0)" }),
                               target: target, source: "\(path), \(count) samples",
                               imageShape: x.shape.count == 3 ? Array(x.shape.dropFirst()) : nil)
    }

    /// A tensor's values as floats.
    private static func decode(_ entry: SafeTensors.Layout.Entry, of file: MappedFile, layout: SafeTensors.Layout)
        -> [Float] {
        [Float](unsafeUninitializedCapacity: entry.count) { buffer, initialized in
            file.withBytes(layout.dataStart + entry.begin ..< layout.dataStart + entry.end) {
                entry.type.decode(entry.count, from: $0, into: buffer.baseAddress!)
            }
            initialized = entry.count
        }
    }

    // MARK: IDX

    /// The images file of a folder's pair for `role`.
    static func idxImages(in folder: String, role: Role) throws -> String {
        let images = try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { $0.contains("idx") && $0.contains("images") }.sorted()
        let prefixes = role == .train ? ["train"] : ["t10k", "test"]
        let matching = images.filter { name in prefixes.contains { name.hasPrefix($0) } }
        guard let chosen = matching.first ?? (images.count == 1 ? images.first : nil) else {
            throw MLPError("\(folder): no \(prefixes.joined(separator: "- or "))-… IDX images file among "
                           + images.joined(separator: ", "))
        }
        return folder + "/" + chosen
    }

    /// The images and labels files `path` names: an IDX images file and the labels file beside it (`images` →
    /// `labels`, `idx3` → `idx1`), or a folder's pair for `role`; nil when `path` is not IDX data.
    package static func idxFiles(_ path: String, role: Role) throws -> (images: String, labels: String)? {
        let isFolder = MNIST.isFolder(path)
        guard try detectFormat(path, isFolder: isFolder) == .idx else { return nil }
        let imagesPath = isFolder ? try idxImages(in: path, role: role) : path
        return (imagesPath, try labelsPath(beside: imagesPath))
    }

    private static func labelsPath(beside imagesPath: String) throws -> String {
        let folder = (imagesPath as NSString).deletingLastPathComponent
        let name = (imagesPath as NSString).lastPathComponent
        var labelsName = name.replacingOccurrences(of: "images", with: "labels")
        if let range = labelsName.range(of: #"idx[2-4]"#, options: .regularExpression) {
            labelsName.replaceSubrange(range, with: "idx1")
        }
        let labelsPath = folder.isEmpty ? labelsName : folder + "/" + labelsName
        guard labelsName != name, FileManager.default.fileExists(atPath: labelsPath) else {
            throw MLPError("\(imagesPath): no labels file beside it (looked for \(labelsPath))")
        }
        return labelsPath
    }

    static func loadIDX(_ imagesPath: String) throws -> LabeledData {
        let labelsPath = try labelsPath(beside: imagesPath)
        let (shape, pixels) = try IDXLoader.readBytes(imagesPath)
        let (labelShape, labels) = try IDXLoader.readBytes(labelsPath)
        guard shape.count >= 2, labelShape.count == 1, labelShape[0] == shape[0] else {
            throw MLPError("\(imagesPath) holds \(shape) and \(labelsPath) holds \(labelShape): expected images "
                           + "[n, height, width] and labels [n]")
        }
        let imageShape = Array(shape.dropFirst())
        let width = imageShape.reduce(1, *)
        guard width > 0 else { throw MLPError("\(imagesPath) holds images of \(imageShape) values: none to learn from") }
        return try LabeledData(rows: InputRows(bytes: pixels, width: width),
                               featureNames: featureNames(imageShape: imageShape),
                               targetNames: ["class"], target: .labels(labels.map { String($0) }),
                               source: "\(imagesPath), \(shape[0]) images", imageShape: imageShape)
    }

    /// `pixel_Y_X` names for an image's values (or `pixel_I` for other shapes).
    package static func featureNames(imageShape: [Int]) -> [String] {
        if imageShape.count == 2 {
            return (0..<imageShape[0]).flatMap { y in (0..<imageShape[1]).map { x in "pixel_\(y)_\(x)" } }
        }
        return (0..<imageShape.reduce(1, *)).map { "pixel_\($0)" }
    }

    // MARK: MNIST mosaics

    /// The mosaics' train or test split: 28×28 grey digits, labels 0…9, with the values MNIST has everywhere
    /// else (its IDX files, PyTorch's and Keras's loaders): ink 1 on a background of 0, byte v as v / 255. The
    /// mosaics store dark ink on white, so each stored byte b is read as 255 − b.
    static func loadMosaics(_ folder: String, role: Role) throws -> LabeledData {
        let split = role == .train ? "train" : "test"
        let digits = try MosaicLoader.load(split: folder + "/" + split)
        let shape = [digits.rows, digits.columns]
        let ink = (0..<256).map { Float(255 - $0) / 255 }
        return try LabeledData(rows: digits.pixels.mapValues { ink[Int(($0 * 255).rounded())] },
                               featureNames: featureNames(imageShape: shape),
                               targetNames: ["class"], target: .labels(digits.labels.map { String($0) }),
                               source: "\(folder) (MNIST mosaics, \(split) split, ink 1 on 0), \(digits.count) images",
                               imageShape: shape)
    }

    // MARK: PNG folders

    static func loadPNGFolders(_ folder: String) throws -> LabeledData {
        let manager = FileManager.default
        let classes = try manager.contentsOfDirectory(atPath: folder)
            .filter { !$0.hasPrefix(".") && MNIST.isFolder(folder + "/" + $0) }.sorted()
        var files: [(path: String, label: String)] = []
        for name in classes {
            let pngs = try manager.contentsOfDirectory(atPath: folder + "/" + name)
                .filter { $0.lowercased().hasSuffix(".png") }.sorted()
            files += pngs.map { (folder + "/" + name + "/" + $0, name) }
        }
        guard !files.isEmpty else { throw MLPError("\(folder): its class subfolders hold no .png files") }
        let images = try concurrentMap(files.count) { try PNGFile.readGray(files[$0].path) }
        let width = images[0].width, height = images[0].height
        if let odd = images.firstIndex(where: { $0.width != width || $0.height != height }) {
            throw MLPError("\(files[odd].path) is \(images[odd].width)×\(images[odd].height); the other images are "
                           + "\(width)×\(height) (all images must have the same size)")
        }
        var pixels = [UInt8]()
        pixels.reserveCapacity(files.count * width * height)
        for image in images { pixels += image.pixels }
        return try LabeledData(rows: InputRows(bytes: pixels, width: width * height),
                               featureNames: featureNames(imageShape: [height, width]),
                               targetNames: ["class"], target: .labels(files.map(\.label)),
                               source: "\(folder), \(files.count) images in \(classes.count) classes",
                               imageShape: [height, width])
    }
}
