// Reading MNIST stored as PNG mosaics: one PNG per class, 28×28 digit tiles in a grid, decoded in parallel.
import MLPImaging
import MLPKit

/// Reads digits stored as PNG mosaics, keeping their pixels as bytes: a split folder (`train/`, `test/`) holds `0.png` … `9.png`, one class
/// per file; each is an 8-bit grayscale image whose width and height are multiples of 28, cut into 28×28 tiles
/// read row by row. Tiles whose pixels are all 0 are padding (they fill the end of the grid) and are skipped.
///
/// Polarity: the mosaics are dark ink on white, 255 being background, so loaded values have background 1.0
/// (the inverse of the IDX files). Samples come class by class: class 0's tiles in grid order, then class 1's…
public enum MosaicLoader {
    /// The side of one tile, in pixels.
    public static let tileSize = 28

    /// Loads `folder/train` and `folder/test`; each folder's 10 files are decoded in parallel.
    public static func load(from folder: String) throws -> (train: Dataset, test: Dataset) {
        let splits = try load(splits: [folder + "/train", folder + "/test"])
        return (splits[0], splits[1])
    }

    /// Loads one split folder holding `0.png` … `9.png`.
    public static func load(split folder: String) throws -> Dataset {
        try load(splits: [folder])[0]
    }

    /// One decoded mosaic and the grid positions of its digit (non-padding) tiles.
    private struct Mosaic {
        var image: GrayImage
        var tiles: [Int]
    }

    /// Loads several split folders, one after another.
    static func load(splits folders: [String]) throws -> [Dataset] {
        var missing: [String] = []
        for folder in folders {
            guard MNIST.isFolder(folder) else {
                throw MLPError("cannot load PNG mosaics: the folder \(folder) does not exist")
            }
            for label in 0..<10 where !MNIST.isFile(folder + "/\(label).png") {
                missing.append("\(folder)/\(label).png")
            }
        }
        guard missing.isEmpty else {
            throw MLPError(
                "cannot load PNG mosaics: missing \(missing.joined(separator: ", ")) "
                    + "(each split folder needs 0.png … 9.png)")
        }

        // Each split's bytes are written in place while its files are decoded (a few at a time, so memory holds
        // the images and only the mosaics being converted): class c's tiles go first to a slot as large as its
        // grid (read from the PNG header), then the classes close up in order.
        let tileValues = tileSize * tileSize
        var datasets: [Dataset] = []
        for folder in folders {
            let paths = (0..<10).map { folder + "/\($0).png" }
            let slots = try paths.map { path in
                guard let (width, height) = PNGFile.size(of: path) else {
                    _ = try decode(path)  // says what is wrong with the file
                    throw MLPError("\(path) is not a PNG file")
                }
                return (width / tileSize) * (height / tileSize)
            }
            var starts = [0]
            for slot in slots { starts.append(starts.last! + slot) }
            let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: 10)
            defer { counts.deallocate() }
            var failures = [MLPError?](repeating: nil, count: 10)
            let slotStarts = starts
            let images = [UInt8](unsafeUninitializedCapacity: max(1, starts[10] * tileValues)) { buffer, initialized in
                let output = UncheckedSendable(value: buffer.baseAddress!), tiles = UncheckedSendable(value: counts)
                failures.withUnsafeMutableBufferPointer { failures in
                let failed = UncheckedSendable(value: failures)
                forEachWorker(10) { label in
                    do {
                        let mosaic = try decode(paths[label])
                        guard mosaic.tiles.count <= slots[label] else {
                            throw MLPError("\(paths[label]) has more tiles than its header's size holds")
                        }
                        convert(mosaic, into: output.value + slotStarts[label] * tileValues)
                        tiles.value[label] = mosaic.tiles.count
                    } catch {
                        failed.value[label] = error as? MLPError ?? MLPError("\(paths[label]): \(error)")
                        tiles.value[label] = 0
                    }
                }
                }
                var end = 0
                for label in 0..<10 {
                    let count = counts[label] * tileValues
                    if end != slotStarts[label] * tileValues {
                        (buffer.baseAddress! + end).update(from: buffer.baseAddress! + slotStarts[label] * tileValues,
                                                           count: count)
                    }
                    end += count
                }
                initialized = end
            }
            if let failure = failures.first(where: { $0 != nil }) { throw failure! }
            var labels: [UInt8] = []
            labels.reserveCapacity(images.count / tileValues)
            for label in 0..<10 { labels += repeatElement(UInt8(label), count: counts[label]) }
            datasets.append(Dataset(unchecked: images, labels: labels, rows: tileSize, columns: tileSize))
        }
        return datasets
    }

    /// Decodes one mosaic, checks its size, and lists its non-padding tiles in grid order.
    private static func decode(_ path: String) throws -> Mosaic {
        let image = try PNGFile.readGray(path)
        guard image.width % tileSize == 0, image.height % tileSize == 0, image.width > 0, image.height > 0 else {
            throw MLPError(
                "\(path) is \(image.width)×\(image.height) pixels, which is not a grid of \(tileSize)×\(tileSize) "
                    + "tiles (both sides must be positive multiples of \(tileSize))")
        }
        guard image.pixels.count == image.width * image.height else {
            throw MLPError("\(path): decoded \(image.pixels.count) pixels for a \(image.width)×\(image.height) image")
        }
        let across = image.width / tileSize
        let down = image.height / tileSize
        var tiles: [Int] = []
        tiles.reserveCapacity(across * down)
        image.pixels.withUnsafeBufferPointer { pixels in
            for tile in 0..<across * down {
                let origin = (tile / across) * tileSize * image.width + (tile % across) * tileSize
                var blank = true
                rows: for y in 0..<tileSize {
                    let row = origin + y * image.width
                    for x in 0..<tileSize where pixels[row + x] != 0 {
                        blank = false
                        break rows
                    }
                }
                if !blank { tiles.append(tile) }
            }
        }
        return Mosaic(image: image, tiles: tiles)
    }

    /// Writes the mosaic's digit tiles' pixels, one tile after another.
    private static func convert(_ mosaic: Mosaic, into output: UnsafeMutablePointer<UInt8>) {
        let width = mosaic.image.width
        let across = width / tileSize
        mosaic.image.pixels.withUnsafeBufferPointer { pixels in
            var out = output
            for tile in mosaic.tiles {
                let origin = (tile / across) * tileSize * width + (tile % across) * tileSize
                for y in 0..<tileSize {
                    out.update(from: pixels.baseAddress! + origin + y * width, count: tileSize)
                    out += tileSize
                }
            }
        }
    }
}
