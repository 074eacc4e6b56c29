// Loading MNIST: synthetic PNG mosaics and IDX files (plain and gzip) read back exactly, every kind of bad
// file gives a clear error, and — when MLP_DATA points at the real mosaics — the real counts and statistics.
import Foundation
import Testing
@testable import MLPData
@testable import MLPImaging
@testable import MLPKit
import TestSupport

/// Debian's dataset-fashion-mnist package: a real IDX set (gzip), Fashion-MNIST.
private let fashionFolder = "/usr/share/datasets/fashion-mnist"
private let fashionPresent: Bool = {
    let present = MNIST.isFile(fashionFolder + "/train-images-idx3-ubyte.gz")
    if !present { print("DatasetTests: \(fashionFolder) is absent (install Debian's dataset-fashion-mnist)") }
    return present
}()

/// An IDX images file: the header, then the pixels.
private func idxImages(_ pixels: [UInt8], count: Int, rows: Int = 28, columns: Int = 28, magic: UInt32 = 0x803) -> [UInt8] {
    bigEndian([magic, UInt32(count), UInt32(rows), UInt32(columns)]) + pixels
}

/// An IDX labels file: the header, then the labels.
private func idxLabels(_ labels: [UInt8], magic: UInt32 = 0x801) -> [UInt8] {
    bigEndian([magic, UInt32(labels.count)]) + labels
}

private func bigEndian(_ words: [UInt32]) -> [UInt8] {
    words.flatMap { word in [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: word >> $0) } }
}

/// Deterministic pixel bytes covering 0…255.
private func pixelPattern(_ count: Int, seed: Int) -> [UInt8] {
    (0..<count).map { UInt8(($0 * 37 + seed * 101 + ($0 / 28) * 11) % 256) }
}

/// Writes the four IDX files for small train/test sets into `folder` (gzip if `gzip`), returning the sets' bytes.
@discardableResult
private func writeIDXSet(in folder: TemporaryFolder, sub: String = "", gzip: Bool, train: Int = 5, test: Int = 3)
    throws -> (trainPixels: [UInt8], trainLabels: [UInt8], testPixels: [UInt8], testLabels: [UInt8])
{
    let trainPixels = pixelPattern(train * 784, seed: 1)
    let testPixels = pixelPattern(test * 784, seed: 2)
    let trainLabels = (0..<train).map { UInt8($0 * 3 % 10) }
    let testLabels = (0..<test).map { UInt8(9 - $0 % 10) }
    let files: [(String, [UInt8])] = [
        ("train-images-idx3-ubyte", idxImages(trainPixels, count: train)),
        ("train-labels-idx1-ubyte", idxLabels(trainLabels)),
        ("t10k-images-idx3-ubyte", idxImages(testPixels, count: test)),
        ("t10k-labels-idx1-ubyte", idxLabels(testLabels)),
    ]
    for (name, bytes) in files {
        let prefix = sub.isEmpty ? "" : sub + "/"
        try folder.write(gzip ? Gzip.compress(bytes) : bytes, to: prefix + name + (gzip ? ".gz" : ""))
    }
    return (trainPixels, trainLabels, testPixels, testLabels)
}

/// A mosaic of `tiles` (each 784 bytes) in a square grid, padded with all-zero tiles.
private func mosaic(_ tiles: [[UInt8]]) -> GrayImage {
    var side = 1
    while side * side < tiles.count { side += 1 }
    var pixels = [UInt8](repeating: 0, count: side * 28 * side * 28)
    for (index, tile) in tiles.enumerated() {
        let top = index / side * 28
        let left = index % side * 28
        for y in 0..<28 {
            for x in 0..<28 { pixels[(top + y) * side * 28 + left + x] = tile[y * 28 + x] }
        }
    }
    return GrayImage(width: side * 28, height: side * 28, pixels: pixels)
}

/// Checks that `message` names `file` and mentions `problem`.
private func expectError(_ problem: String, naming file: String, _ body: () throws -> Void,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    let error = #expect(throws: MLPError.self, sourceLocation: sourceLocation) { try body() }
    let message = error?.message ?? ""
    #expect(message.contains(file), "expected the name \(file) in: \(message)", sourceLocation: sourceLocation)
    #expect(message.contains(problem), "expected “\(problem)” in: \(message)", sourceLocation: sourceLocation)
}

@Suite struct DatasetTests {
    // MARK: Synthetic mosaics

    @Test func mosaicsLoadExactlyWithPaddingSkipped() throws {
        let folder = try TemporaryFolder()
        var expected: [String: (pixels: [UInt8], labels: [UInt8])] = [:]
        for (split, base) in [("train", 2), ("test", 0)] {
            var pixels: [UInt8] = []
            var labels: [UInt8] = []
            for label in 0..<10 {
                // base + label % 4 tiles: some grids are full, most end in padding; the test set's class 0 is empty.
                let tiles = (0..<(base + label % 4)).map { tile -> [UInt8] in
                    var bytes = pixelPattern(784, seed: label * 10 + tile + base)
                    bytes[0] = 0  // digits may contain zeros; only all-zero tiles are padding
                    return bytes
                }
                try PNGFile.write(mosaic(tiles.isEmpty ? [[UInt8](repeating: 0, count: 784)] : tiles),
                                  to: folder.file("\(split)/\(label).png"))
                pixels += tiles.flatMap { $0 }
                labels += repeatElement(UInt8(label), count: tiles.count)
            }
            expected[split] = (pixels, labels)
        }
        #expect(try MNIST.detectFormat(in: folder.path) == .pngMosaics)
        let mnist = try MNIST.load(from: folder.path)
        #expect(mnist.format == .pngMosaics)
        #expect(mnist.format.background == 1)
        for (split, data) in [("train", mnist.train), ("test", mnist.test)] {
            #expect(data.rows == 28 && data.columns == 28)
            #expect(data.labels == expected[split]!.labels)
            #expect(data.images == expected[split]!.pixels.map { Float($0) / 255 })
        }
        #expect(mnist.train.count == 33)
        #expect(try MosaicLoader.load(split: folder.path + "/test").labels == expected["test"]!.labels)
    }

    @Test func mosaicErrorsNameTheFile() throws {
        let folder = try TemporaryFolder()
        for label in 0..<10 {
            try PNGFile.write(mosaic([pixelPattern(784, seed: label)]), to: folder.file("train/\(label).png"))
            try PNGFile.write(mosaic([pixelPattern(784, seed: label)]), to: folder.file("test/\(label).png"))
        }
        try PNGFile.write(GrayImage(width: 30, height: 28, pixels: [UInt8](repeating: 9, count: 30 * 28)),
                          to: folder.file("test/7.png"))
        expectError("30×28", naming: "test/7.png") { _ = try MNIST.load(from: folder.path) }
        expectError("not a grid of 28×28 tiles", naming: "test/7.png") { _ = try MNIST.load(from: folder.path) }
        try FileManager.default.removeItem(atPath: folder.path + "/test/7.png")
        try FileManager.default.removeItem(atPath: folder.path + "/test/3.png")
        expectError("missing", naming: "test/3.png, ") { _ = try MNIST.load(from: folder.path) }
        try folder.write(Array("not a png".utf8), to: "test/3.png")
        try PNGFile.write(mosaic([pixelPattern(784, seed: 1)]), to: folder.file("test/7.png"))
        let error = #expect(throws: MLPError.self) { _ = try MNIST.load(from: folder.path) }
        #expect(error?.message.contains("test/3.png") == true, "\(error?.message ?? "")")
    }

    // MARK: Synthetic IDX

    @Test(arguments: [false, true])
    func idxFilesLoadExactly(gzip: Bool) throws {
        let folder = try TemporaryFolder()
        let written = try writeIDXSet(in: folder, gzip: gzip)
        #expect(try MNIST.detectFormat(in: folder.path) == .idx)
        let mnist = try MNIST.load(from: folder.path)
        #expect(mnist.format == .idx)
        #expect(mnist.format.background == 0)
        #expect(mnist.train.count == 5 && mnist.test.count == 3)
        #expect(mnist.train.labels == written.trainLabels)
        #expect(mnist.test.labels == written.testLabels)
        #expect(mnist.train.images == written.trainPixels.map { Float($0) / 255 })
        #expect(mnist.test.images == written.testPixels.map { Float($0) / 255 })
    }

    @Test func idxAcceptsTheDottedNamesAndMultiMemberGzip() throws {
        let folder = try TemporaryFolder()
        let pixels = pixelPattern(4 * 784, seed: 5)
        let file = idxImages(pixels, count: 4)
        // Two gzip members back to back (what `cat a.gz b.gz` makes) read as one stream.
        try folder.write(Gzip.compress(Array(file[0..<1000])) + Gzip.compress(Array(file[1000...])),
                         to: "train-images.idx3-ubyte.gz")
        try folder.write(idxLabels([1, 2, 3, 4]), to: "train-labels.idx1-ubyte")
        try folder.write(idxImages([], count: 0), to: "t10k-images-idx3-ubyte")
        try folder.write(idxLabels([]), to: "t10k-labels-idx1-ubyte")
        let mnist = try MNIST.load(from: folder.path)
        #expect(mnist.train.images == pixels.map { Float($0) / 255 })
        #expect(mnist.train.labels == [1, 2, 3, 4])
        #expect(mnist.test.count == 0)
    }

    @Test func badIDXFilesGiveClearErrors() throws {
        let folder = try TemporaryFolder()
        let pixels = pixelPattern(3 * 784, seed: 3)
        let images = folder.path + "/images"
        let labels = try folder.write(idxLabels([0, 1, 2]), to: "labels")
        func check(_ bytes: [UInt8], _ problem: String, gzip: Bool = false, labelsFile: Bool = false) throws {
            let name = (labelsFile ? "bad-labels" : "bad-images") + (gzip ? ".gz" : "")
            let path = try folder.write(gzip ? Gzip.compress(bytes) : bytes, to: name)
            expectError(problem, naming: path) {
                _ = labelsFile ? try IDXLoader.load(images: images, labels: path) : try IDXLoader.load(images: path, labels: labels)
            }
        }
        try folder.write(idxImages(pixels, count: 3), to: "images")
        #expect(try IDXLoader.load(images: images, labels: labels).count == 3)

        let good = idxImages(pixels, count: 3)
        try check(Array(good.dropLast(10)), "truncated")
        try check(Array(good.dropLast(10)), "truncated", gzip: true)
        try check(Array(good.prefix(9)), "truncated")
        try check(Array(good.prefix(9)), "truncated", gzip: true)
        try check(good + [1, 2], "2 bytes more than")
        try check(good + [1, 2], "longer than", gzip: true)
        try check(idxImages(pixels, count: 3, magic: 0x801), "magic number is 0x00000801, expected 0x00000803")
        try check(idxLabels([0, 1, 2]), "that is a labels file")
        try check(idxImages(pixels, count: 3, magic: 0x803), "that is an images file", labelsFile: true)
        try check(idxImages(Array(pixels.prefix(3 * 27 * 28)), count: 3, rows: 27), "27×28 images")
        try check(idxImages(pixels, count: 1_000_000_000), "truncated")
        try check(idxImages(pixels, count: 1_000_000_000), "truncated or corrupt", gzip: true)
        try check(idxLabels([0, 1, 12]), "label 12 at index 2 is out of range", labelsFile: true)
        try check(idxLabels([0, 1]), "holds 3 images but", labelsFile: true)
        try check(Gzip.compress(good), "gzip-compressed: give it a .gz name")

        // gzip-specific damage: a cut stream, trailing garbage, not gzip at all, an empty file.
        let compressed = Gzip.compress(good)
        let cut = try folder.write(Array(compressed.prefix(compressed.count / 2)), to: "cut.gz")
        expectError("truncated", naming: cut) { _ = try IDXLoader.load(images: cut, labels: labels) }
        let trailing = try folder.write(compressed + Array("junk".utf8), to: "trailing.gz")
        expectError("unexpected data after the end of the gzip stream", naming: trailing) {
            _ = try IDXLoader.load(images: trailing, labels: labels)
        }
        let plain = try folder.write(good, to: "plain.gz")
        expectError("not valid gzip data", naming: plain) { _ = try IDXLoader.load(images: plain, labels: labels) }
        let empty = try folder.write([], to: "empty.gz")
        expectError("empty", naming: empty) { _ = try IDXLoader.load(images: empty, labels: labels) }
        let corrupt = try folder.write(compressed.enumerated().map { $0.offset == 40 ? $0.element ^ 0xFF : $0.element },
                                       to: "corrupt.gz")
        #expect(throws: MLPError.self) { _ = try IDXLoader.load(images: corrupt, labels: labels) }
        let missing = folder.path + "/nope"
        expectError("cannot open", naming: missing) { _ = try IDXLoader.load(images: missing, labels: labels) }
    }

    @Test func folderErrorsSayWhatWasLookedFor() throws {
        let folder = try TemporaryFolder()
        expectError("does not exist", naming: folder.path + "/absent") { _ = try MNIST.load(from: folder.path + "/absent") }
        expectError("train/0.png", naming: folder.path) { _ = try MNIST.load(from: folder.path) }
        expectError("t10k-labels-idx1-ubyte", naming: folder.path) { _ = try MNIST.load(from: folder.path) }
        try writeIDXSet(in: folder, gzip: true)
        try FileManager.default.removeItem(atPath: folder.path + "/t10k-labels-idx1-ubyte.gz")
        expectError("missing t10k-labels-idx1-ubyte", naming: folder.path) { _ = try MNIST.load(from: folder.path) }
    }

    // MARK: Dataset operations

    @Test func datasetOperations() throws {
        let data = try Dataset(images: [0, 0.25, 1, 0.5], labels: [3, 7], rows: 1, columns: 2)
        #expect(data.count == 2)
        #expect(data.pixelsPerImage == 2)
        #expect(Array(data.image(1)) == [1, 0.5])
        #expect(data.inverted().images == [1, 0.75, 0, 0.5])
        #expect(data.inverted().labels == [3, 7])
        #expect(data.prefix(1).images == [0, 0.25])
        #expect(data.prefix(1).labels == [3])
        #expect(data.prefix(5) == data)
        #expect(data.prefix(0).count == 0)
        #expect(data.classCounts() == [0, 0, 0, 1, 0, 0, 0, 1])
        #expect(throws: MLPError.self) { try Dataset(images: [0, 1, 2], labels: [1], rows: 1, columns: 2) }
    }

    // MARK: Real data

    @Test(requires(mnistAvailable, "set MLP_DATA to the mnist-png folder to run this test"))
    func realMosaicsHaveMNISTsCountsAndStatistics() throws {
        let mnist = try sharedMNIST.get()
        // Counts as published with MNIST; means and background shares from an independent reader (zlib + numpy,
        // References/mnist_png_reference.py).
        let reference = try MosaicReference.load()
        #expect(mnist.format == .pngMosaics)
        #expect(mnist.train.count == 60_000 && reference.train.count == 60_000)
        #expect(mnist.test.count == 10_000 && reference.test.count == 10_000)
        #expect(mnist.train.classCounts() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        #expect(mnist.test.classCounts() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
        #expect(mnist.train.classCounts() == reference.train.class_counts)
        #expect(mnist.test.classCounts() == reference.test.class_counts)
        // Class by class, in order.
        #expect(mnist.train.labels == mnist.train.labels.sorted())
        for (data, expected) in [(mnist.train, reference.train), (mnist.test, reference.test)] {
            let (expectedMean, expectedShare) = (expected.mean_pixel, expected.background_share)
            #expect(data.images.count == data.count * 784)
            var sum = 0.0
            var background = 0
            var outside = 0
            for value in data.images {
                sum += Double(value)
                if value == 1 { background += 1 }
                if !(0...1).contains(value) { outside += 1 }
            }
            let mean = sum / Double(data.images.count)
            let backgroundShare = Double(background) / Double(data.images.count)
            print("MNIST \(data.count) digits: mean pixel \(mean), background share \(backgroundShare)")
            #expect(outside == 0)
            #expect(abs(mean - expectedMean) < 0.000_01, "mean pixel \(mean)")
            #expect(abs(backgroundShare - expectedShare) < 0.000_01, "background share \(backgroundShare)")
        }
    }

    @Test(requires(fashionPresent, "install Debian's dataset-fashion-mnist package to run this test"))
    func realIDXFilesFromFashionMNIST() throws {
        let data = try MNIST.load(from: fashionFolder)
        #expect(data.format == .idx)
        #expect(data.train.count == 60_000)
        #expect(data.test.count == 10_000)
        #expect(data.train.classCounts() == [Int](repeating: 6000, count: 10))
        #expect(data.test.classCounts() == [Int](repeating: 1000, count: 10))
        let mean = data.train.images.reduce(0.0) { $0 + Double($1) } / Double(data.train.images.count)
        #expect(abs(mean - 0.2860) < 0.001, "Fashion-MNIST's mean pixel is 0.2860; got \(mean)")
        #expect(data.train.images.allSatisfy { (0...1).contains($0) })
    }
}
