// `pack`: every source format packs into a file that reads back as the data it came from, in every stored type,
// that the reference safetensors reader reads, and that refuses corruption with errors naming the file.
import Foundation
import Testing
@testable import MLPData
@testable import MLPJobs
import MLPImaging
import MLPKit
import TestSupport

@Suite struct PackTests {
    /// A CSV of `rows` rows: three integer features 0…255 (exact in every stored type), a label (text, one of them
    /// quoted with a comma and a line break in it, or the numbers 0…2) and, when `value`, a number r / 8.
    func writeCSV(in folder: TemporaryFolder, rows: Int = 300, text labels: Bool = true, value: Bool = true,
                  name: String = "table.csv") throws -> String {
        var text = "a,b,c,label" + (value ? ",value\n" : "\n")
        for r in 0..<rows {
            let label = !labels ? "\(r % 3)" : r % 3 == 0 ? "\"cat, big\none\"" : r % 3 == 1 ? "dog" : "bird"
            text += "\(r % 256),\((r * 7) % 256),\((r * 13 + 5) % 256),\(label)" + (value ? ",\(Double(r) / 8)\n" : "\n")
        }
        return try folder.write(Array(text.utf8), to: name)
    }

    /// Packs `data` into `folder/name` in stretches of 512 bytes for CSV (many stretches, rows cut across them).
    @discardableResult
    func pack(_ data: String, into folder: TemporaryFolder, name: String = "packed.safetensors",
              type: PackedDataWriter.ElementType? = nil, targets: [String]? = nil) throws -> PackJob.Summary {
        var options = PackJob.Options(data: data, output: folder.path + "/" + name)
        options.type = type
        options.targets = targets
        options.chunkBytes = 512
        return try PackJob.run(options)
    }

    /// Expects two data sets to hold the same features (bit for bit), targets, names and shape.
    func expectSame(_ packed: LabeledData, _ source: LabeledData) {
        #expect(packed.count == source.count)
        #expect(firstMismatch(packed.features, source.features) == nil, "features")
        #expect(packed.target == source.target, "targets")
        #expect(packed.featureNames == source.featureNames && packed.targetNames == source.targetNames)
        #expect(packed.imageShape == source.imageShape)
    }

    @Test(arguments: [PackedDataWriter.ElementType.u8, .f16, .f32])
    func aCSVPacksInStretchesToTheDataItHolds(type: PackedDataWriter.ElementType) throws {
        let folder = try TemporaryFolder()
        // U8 holds the integer features only: the table without its r / 8 column.
        let csv = try writeCSV(in: folder, value: type != .u8)
        let summary = try pack(csv, into: folder, type: type, targets: ["label"])
        #expect(summary.rows == 300 && summary.classes == 3 && summary.dtype == type.rawValue)
        let packed = try LabeledData.load(folder.path + "/packed.safetensors")
        #expect(packed.rows.encoding.size == [PackedDataWriter.ElementType.u8: 1, .f16: 2, .f32: 4][type])
        expectSame(packed, try LabeledData.load(csv, targets: ["label"]))
        if type == .u8 {
            // r / 8 is not a byte: packing it as U8 fails, naming the row and the value, and leaves no file.
            let fractions = try writeCSV(in: folder, name: "fractions.csv")
            do {
                try pack(fractions, into: folder, name: "bad.safetensors", type: .u8, targets: ["label"])
                Issue.record("r / 8 was packed as bytes")
            } catch let error as MLPError {
                #expect(error.message.contains("row 2, value 4 is 0.125"), "\(error.message)")
            }
            #expect(!FileManager.default.fileExists(atPath: folder.path + "/bad.safetensors"))
            #expect(!FileManager.default.fileExists(atPath: folder.path + "/bad.safetensors.partial"))
        }
    }

    @Test func numbersAndSeveralTargetColumnsPackAsNumbers() throws {
        let folder = try TemporaryFolder()
        let csv = try writeCSV(in: folder, text: false)
        // Two numeric targets (a and value) are y [n, 2].
        try pack(csv, into: folder, targets: ["a", "value"])
        let source = try LabeledData.load(csv, targets: ["a", "value"])
        expectSame(try LabeledData.load(folder.path + "/packed.safetensors"), source)
    }

    @Test func aHeaderLargerThanItsReserveMovesTheDataBehindIt() throws {
        // 600 class names of 40 characters: a header of about 25 KB, beyond the room kept for it.
        let folder = try TemporaryFolder()
        var text = "x,label\n"
        for r in 0..<1200 { text += "\(r % 256),class-\(String(repeating: "n", count: 30))-\(r % 600)\n" }
        let csv = try folder.write(Array(text.utf8), to: "many.csv")
        try pack(csv, into: folder, type: .u8)
        expectSame(try LabeledData.load(folder.path + "/packed.safetensors"), try LabeledData.load(csv))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["many.csv", "packed.safetensors"])
    }

    @Test func aBadCellInALaterStretchNamesItsLineInTheFile() throws {
        let folder = try TemporaryFolder()
        var text = "x,y\n"
        for r in 0..<200 { text += r == 150 ? "oops,1\n" : "\(r),\(r % 2)\n" }
        let csv = try folder.write(Array(text.utf8), to: "bad.csv")
        do {
            try pack(csv, into: folder)
            Issue.record("a bad cell was packed")
        } catch let error as MLPError {
            #expect(error.message.contains("bad.csv, line 152"), "\(error.message)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["bad.csv"])
    }

    @Test(arguments: [false, true])
    func idxImagesPackAsBytesThatReadAsTheirPixels(gzip: Bool) throws {
        let folder = try TemporaryFolder()
        let count = 37, pixels = (0 ..< count * 6 * 5).map { UInt8(($0 * 89 + 7) % 256) }
        var images: [UInt8] = [0, 0, 8, 3]
        for size in [count, 6, 5] { images += withUnsafeBytes(of: UInt32(size).bigEndian) { Array($0) } }
        var labels: [UInt8] = [0, 0, 8, 1] + withUnsafeBytes(of: UInt32(count).bigEndian) { Array($0) }
        labels += (0..<count).map { UInt8($0 % 4) }
        let suffix = gzip ? ".gz" : ""
        let path = try folder.write(gzip ? Gzip.compress(images + pixels) : images + pixels,
                                    to: "train-images-idx3-ubyte" + suffix)
        try folder.write(gzip ? Gzip.compress(labels) : labels, to: "train-labels-idx1-ubyte" + suffix)
        let summary = try pack(path, into: folder)
        #expect(summary.dtype == "u8" && summary.classes == 4)
        let packed = try LabeledData.load(folder.path + "/packed.safetensors")
        #expect(packed.rows.encoding == .unitBytes, "pixels read as byte / 255")
        expectSame(packed, try LabeledData.load(path))
    }

    @Test func pngFoldersAndTheMosaicsPackToTheirImages() throws {
        let folder = try TemporaryFolder()
        for (c, name) in ["ant", "bee"].enumerated() {
            for i in 0..<3 {
                let image = GrayImage(width: 4, height: 3, pixels: (0..<12).map { UInt8(($0 * 20 + i * 3 + c * 50) % 256) })
                try PNGFile.write(image, to: try folder.file("images/\(name)/\(i).png"))
            }
        }
        try pack(folder.path + "/images", into: folder)
        expectSame(try LabeledData.load(folder.path + "/packed.safetensors"), try LabeledData.load(folder.path + "/images"))

        // The mosaics (dark ink on white, read as ink 1 on 0): the bytes packed read as the loader reads them.
        guard mnistAvailable || underCI else { return }
        let mnist = mnistFolder
        var options = PackJob.Options(data: mnist, output: folder.path + "/mnist-test.safetensors")
        options.role = .test
        _ = try PackJob.run(options)
        let packed = try LabeledData.load(folder.path + "/mnist-test.safetensors")
        #expect(packed.count == 10_000)
        expectSame(packed, try LabeledData.load(mnist, role: .test))
    }

    @Test func theReferenceReaderReadsAPackedFile() throws {
        guard pythonTools != nil || underCI else { return }
        let python = try #require(pythonTools, "no Python with safetensors")
        let folder = try TemporaryFolder()
        let csv = try writeCSV(in: folder)
        for type in [PackedDataWriter.ElementType.f16, .f32] {
            try pack(csv, into: folder, name: "\(type).safetensors", type: type, targets: ["label"])
        }
        let script = """
            import json, sys, numpy as np
            from safetensors.numpy import load_file
            from safetensors import safe_open
            folder = sys.argv[1]
            rows = [line.split(",") for line in open(folder + "/table.csv").read().replace('"cat, big\\none"', "cat").splitlines()[1:]]
            want = np.array([[float(r[0]), float(r[1]), float(r[2]), float(r[4])] for r in rows])
            for name, dtype in [("f16", np.float16), ("f32", np.float32)]:
                path = f"{folder}/{name}.safetensors"
                tensors = load_file(path)
                x, y = tensors["x"], tensors["y"]
                assert x.dtype == dtype and x.shape == (300, 4), (name, x.dtype, x.shape)
                assert np.array_equal(x.astype(np.float64), want), name
                meta = safe_open(path, "np").metadata()
                classes = json.loads(meta["y.classes"])
                assert [classes[i] for i in y[:3]] == ["cat, big\\none", "dog", "bird"], (classes, y[:3])
                print(name, "ok")
            """
        let result = try runPython(python, ["-c", script, folder.path])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.split(separator: "\n") == ["f16 ok", "f32 ok"])
    }

    @Test func corruptPackedFilesGiveErrorsNamingTheFile() throws {
        let folder = try TemporaryFolder()
        let csv = try writeCSV(in: folder)
        try pack(csv, into: folder, type: .f32, targets: ["label"])
        let good = try folder.bytes(of: "packed.safetensors")
        let headerEnd = 8 + Int(good[0]) + Int(good[1]) << 8
        func expectRefused(_ bytes: [UInt8], _ problem: String) throws {
            let path = try folder.write(bytes, to: "broken.safetensors")
            do {
                _ = try LabeledData.load(path)
                Issue.record("\(problem): read without an error")
            } catch let error as MLPError {
                #expect(error.message.contains("broken.safetensors"), "\(problem): \(error.message)")
            }
        }
        try expectRefused(Array(good.dropLast(7)), "truncated")
        try expectRefused(Array(good.prefix(5)), "cut inside the header length")
        let header = String(decoding: good[8 ..< headerEnd], as: UTF8.self)
        func edited(_ from: String, _ to: String) -> [UInt8] {
            let text = header.replacingOccurrences(of: from, with: to)
            return Array(good[0..<8]) + Array(text.utf8) + Array(good[headerEnd...])
        }
        try expectRefused(edited("\"dtype\":\"F32\",\"shape\":[300,4]", "\"dtype\":\"F16\",\"shape\":[300,4]"),
                          "a dtype that does not match the data")
        try expectRefused(edited("\"shape\":[300,4]", "\"shape\":[301,4]"), "a shape that does not match")
        try expectRefused(edited("y.classes\":\"[", "y.classes\":\"{"), "a class list that is not JSON")
        var lying = good
        lying[headerEnd + 300 * 4 * 4 + 4 * 7 + 3] = 0x7F  // y[7] (little-endian I32) becomes a huge class index
        try expectRefused(lying, "a class index out of range")
    }
}
