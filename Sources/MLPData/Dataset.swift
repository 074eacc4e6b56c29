// Labelled images in memory, and the MNIST digits (training and test sets) loaded from a folder in either format.
import Foundation
import MLPKit
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Labelled grayscale images, as the network consumes them: `count` images of `rows × columns` values each,
/// row-major, one after another. Loaded from files, the pixels stay bytes in memory (a quarter of the floats'
/// size), each read as the stored pixel divided by 255 (in [0, 1]), with no other change. Which value is
/// background depends on the source (see `MNIST.Format`).
public struct Dataset: Sendable, Equatable {
    /// The images, one row of `rows × columns` values each, kept as stored (bytes when loaded from files).
    public let pixels: InputRows
    /// One class label per image (0…9 for digits).
    public var labels: [UInt8]
    /// Image height in pixels.
    public let rows: Int
    /// Image width in pixels.
    public let columns: Int

    /// `count × rows × columns` pixel values in [0, 1], image after image, each row-major: a decoded copy of
    /// `pixels` (made on each call when the pixels are bytes).
    public var images: [Float] { pixels.floats }

    /// Creates a data set, checking that `images` holds exactly `labels.count` images of `rows × columns`.
    public init(images: [Float], labels: [UInt8], rows: Int = 28, columns: Int = 28) throws {
        try Self.check(values: images.count, labels: labels.count, rows: rows, columns: columns)
        self.init(unchecked: try InputRows(floats: images, width: rows * columns), labels: labels, rows: rows,
                  columns: columns)
    }

    /// Creates a data set from pixel rows, checking that there is one row of `rows × columns` values per label.
    public init(pixels: InputRows, labels: [UInt8], rows: Int = 28, columns: Int = 28) throws {
        try Self.check(values: pixels.count * pixels.width, labels: labels.count, rows: rows, columns: columns)
        guard pixels.width == rows * columns else {
            throw MLPError("invalid data set: rows of \(pixels.width) values are not \(rows)×\(columns) images")
        }
        self.init(unchecked: pixels, labels: labels, rows: rows, columns: columns)
    }

    /// Checks a size of images and a number of values.
    private static func check(values: Int, labels: Int, rows: Int, columns: Int) throws {
        guard rows > 0, columns > 0 else {
            throw MLPError("invalid data set: images must be at least 1×1 pixel, not \(rows)×\(columns)")
        }
        guard values == labels * rows * columns else {
            throw MLPError(
                "invalid data set: \(labels) labels need \(labels * rows * columns) pixel values "
                    + "(\(rows)×\(columns) each), but there are \(values)")
        }
    }

    /// Creates a data set whose sizes the caller has already checked.
    init(unchecked pixels: InputRows, labels: [UInt8], rows: Int, columns: Int) {
        self.pixels = pixels
        self.labels = labels
        self.rows = rows
        self.columns = columns
    }

    /// Images of `bytes` (`labels.count` images of `rows × columns` pixels), read as pixel / 255.
    init(unchecked bytes: [UInt8], labels: [UInt8], rows: Int, columns: Int) {
        self.init(unchecked: try! InputRows(bytes: bytes, width: rows * columns), labels: labels, rows: rows,
                  columns: columns)
    }

    /// The number of images.
    public var count: Int { labels.count }

    /// The number of values in one image (`rows × columns`).
    public var pixelsPerImage: Int { rows * columns }

    /// The pixel values of image `index` (0 ≤ index < count).
    public func image(_ index: Int) -> ArraySlice<Float> {
        pixels.floats(rows: index..<index + 1)[...]
    }

    /// The same images with every value `x` replaced by `1 − x` (swaps dark-on-light and light-on-dark). Bytes
    /// stay bytes: only the table they are read through changes.
    public func inverted() -> Dataset {
        Dataset(unchecked: pixels.mapValues { 1 - $0 }, labels: labels, rows: rows, columns: columns)
    }

    /// The first `n` images (all of them if there are fewer than `n`).
    public func prefix(_ n: Int) -> Dataset {
        let kept = max(0, min(n, count))
        return Dataset(unchecked: pixels.prefix(kept), labels: Array(labels[0..<kept]), rows: rows, columns: columns)
    }

    /// How many images each class has: element `k` counts the images labelled `k`, for k in 0…max label.
    public func classCounts() -> [Int] {
        var counts = [Int](repeating: 0, count: Int(labels.max() ?? 0) + 1)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }
}

/// The MNIST handwritten digits: 60,000 training and 10,000 test images of 28×28 pixels, labels 0…9.
public struct MNIST: Sendable {
    /// How the digits are stored on disk; the two formats have opposite polarity.
    public enum Format: String, Sendable {
        /// A `train/` and a `test/` folder, each with `0.png` … `9.png`: one class per file, 28×28 tiles in a grid.
        /// Dark ink on white: 255 is background, so loaded values have background 1.0.
        case pngMosaics = "PNG mosaics"
        /// The original IDX files (`train-images-idx3-ubyte` …, plain or `.gz`).
        /// White ink on black: 0 is background, so loaded values have background 0.0.
        case idx = "IDX"

        /// The loaded value of a background pixel in this format: 1.0 for the mosaics, 0.0 for IDX.
        public var background: Float { self == .pngMosaics ? 1 : 0 }
    }

    /// The 60,000 training digits.
    public var train: Dataset
    /// The 10,000 test digits.
    public var test: Dataset
    /// The format the digits were read from (it tells their polarity).
    public var format: Format

    /// Creates the pair from already loaded data sets.
    public init(train: Dataset, test: Dataset, format: Format) {
        self.train = train
        self.test = test
        self.format = format
    }

    /// Loads MNIST from `folder`, whichever format it holds (see `detectFormat`). Values are the stored
    /// pixels divided by 255, so the polarity of the format is kept: check `format.background`, and use
    /// `Dataset.inverted()` to match a model trained on the other polarity.
    public static func load(from folder: String) throws -> MNIST {
        switch try detectFormat(in: folder) {
        case .pngMosaics:
            let (train, test) = try MosaicLoader.load(from: folder)
            return MNIST(train: train, test: test, format: .pngMosaics)
        case .idx:
            let (train, test) = try IDXLoader.load(from: folder)
            return MNIST(train: train, test: test, format: .idx)
        }
    }

    /// Loads only the test set from `folder` (for the jobs that only look at test digits), and its format.
    public static func loadTest(from folder: String) throws -> (test: Dataset, format: Format) {
        switch try detectFormat(in: folder) {
        case .pngMosaics:
            return (try MosaicLoader.load(split: folder + "/test"), .pngMosaics)
        case .idx:
            return (try IDXLoader.loadTest(from: folder), .idx)
        }
    }

    /// Which format `folder` holds: PNG mosaics when it has `train/0.png`, IDX when it has
    /// `train-images-idx3-ubyte` (or `.gz`). Throws an error listing what was looked for otherwise.
    public static func detectFormat(in folder: String) throws -> Format {
        guard isFolder(folder) else {
            throw MLPError("cannot load MNIST: the folder \(folder) does not exist")
        }
        if isFile(folder + "/train/0.png") { return .pngMosaics }
        if IDXLoader.locate(IDXLoader.trainImages, in: folder) != nil { return .idx }
        throw MLPError(
            "cannot load MNIST: \(folder) holds neither PNG mosaics (train/0.png … train/9.png and "
                + "test/0.png … test/9.png) nor IDX files (\(IDXLoader.allNames.joined(separator: ", ")), "
                + "each plain or .gz)")
    }

    /// True when `path` is an existing regular file (or a link to one).
    static func isFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// True when `path` is an existing folder (or a link to one).
    static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}

extension Dataset {
    /// The images as inputs and their labels as class targets, for training or scoring a classifier.
    public var classification: TrainingSet {
        // Dataset's own initialiser guarantees whole images and one label per image.
        try! TrainingSet(rows: pixels, targets: .classes(labels))
    }

    /// The images as their own targets, for an autoencoder.
    public var autoencoding: TrainingSet {
        try! TrainingSet(rows: pixels, targets: .inputs)
    }
}

extension Evaluator {
    /// Classifier figures over a labelled image set (see `evaluate(_: TrainingSet)`).
    public func evaluate(_ data: Dataset) throws -> Evaluation { try evaluate(data.classification) }

    /// Mean reconstruction loss per image, Σ (ŷ − x)² with the image as target (for autoencoders).
    public func reconstructionLoss(_ data: Dataset) throws -> Double { try meanLoss(data.autoencoding) }
}

extension MNIST {
    /// The project's `Data` folder: the first `Data` that holds `mnist` or `mnist-png`, looked for in the current
    /// folder and then beside and above the running program (so `.build/release/mlp-train` finds the checkout's
    /// `Data` from anywhere). nil when there is none.
    public static func projectDataFolder() -> String? {
        var candidates = [FileManager.default.currentDirectoryPath]
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(folder.path)
            folder = folder.deletingLastPathComponent()
        }
        for candidate in candidates {
            let data = candidate + "/Data"
            if isFolder(data + "/mnist") || isFolder(data + "/mnist-png") { return data }
        }
        return nil
    }

    /// Where MNIST is read from when no folder is given, in the project's `Data` folder: the downloaded IDX files
    /// (`Data/mnist`) if they are there, else the digits that ship with the project (`Data/mnist-png`). nil when
    /// neither holds a data set.
    public static func defaultFolder() -> String? {
        guard let data = projectDataFolder() else { return nil }
        return [data + "/mnist", data + "/mnist-png"].first { (try? detectFormat(in: $0)) != nil }
    }
}
