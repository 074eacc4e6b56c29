// Reading MNIST stored as PNG mosaics: one PNG per class, 28×28 digit tiles in a grid, decoded in parallel.
import MLPImaging
import MLPKit

/// Reads digits stored as PNG mosaics: a split folder (`train/`, `test/`) holds `0.png` … `9.png`, one class
/// per file; each is an 8-bit grayscale image whose width and height are multiples of 28, cut into 28×28 tiles
/// read row by row. Tiles whose pixels are all 0 are padding (they fill the end of the grid) and are skipped.
///
/// Polarity: the mosaics are dark ink on white, 255 being background, so loaded values have background 1.0
/// (the inverse of the IDX files). Samples come class by class: class 0's tiles in grid order, then class 1's…
public enum MosaicLoader {
    /// The side of one tile, in pixels.
    public static let tileSize = 28

    /// Loads `folder/train` and `folder/test`; all 20 files are decoded in parallel.
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

    /// Loads several split folders at once, so every file of every split is decoded concurrently.
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

        // Pass 1: decode every file and find its digit tiles.
        let paths = folders.flatMap { folder in (0..<10).map { folder + "/\($0).png" } }
        let mosaics = try concurrentMap(paths.count) { try decode(paths[$0]) }

        // Pass 2: per split, convert the tiles through a lookup table straight into the final buffer.
        let table = (0..<256).map { Float($0) / 255 }
        var datasets: [Dataset] = []
        for split in 0..<folders.count {
            let classes = Array(mosaics[split * 10..<split * 10 + 10])
            var offsets: [Int] = []
            var total = 0
            for mosaic in classes {
                offsets.append(total)
                total += mosaic.tiles.count
            }
            let starts = offsets
            let tileValues = tileSize * tileSize
            let images = [Float](unsafeUninitializedCapacity: max(1, total * tileValues)) { buffer, initialized in
                let output = UncheckedSendable(value: buffer.baseAddress!)
                forEachWorker(10) { label in
                    convert(classes[label], table: table, into: output.value + starts[label] * tileValues)
                }
                initialized = total * tileValues
            }
            var labels: [UInt8] = []
            labels.reserveCapacity(total)
            for (label, mosaic) in classes.enumerated() {
                labels += repeatElement(UInt8(label), count: mosaic.tiles.count)
            }
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

    /// Writes the mosaic's digit tiles, one after another, as pixel / 255.
    private static func convert(_ mosaic: Mosaic, table: [Float], into output: UnsafeMutablePointer<Float>) {
        let width = mosaic.image.width
        let across = width / tileSize
        table.withUnsafeBufferPointer { lookup in
            mosaic.image.pixels.withUnsafeBufferPointer { pixels in
                var out = output
                for tile in mosaic.tiles {
                    let origin = (tile / across) * tileSize * width + (tile % across) * tileSize
                    for y in 0..<tileSize {
                        let row = origin + y * width
                        for x in 0..<tileSize { out[x] = lookup[Int(pixels[row + x])] }
                        out += tileSize
                    }
                }
            }
        }
    }
}
