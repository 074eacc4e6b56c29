// PNG encoding and decoding round trips, and the promise that failures name the file and never damage
// an existing one.
import Testing
@testable import MLPImaging
@testable import MLPKit
import TestSupport

@Suite struct PNGFileTests {
    @Test func canvasRoundTripIsExact() throws {
        let folder = try TemporaryFolder()
        var canvas = Canvas(width: 37, height: 23, background: .black)
        for y in 0..<canvas.height {
            for x in 0..<canvas.width {
                canvas[x, y] = RGB(r: UInt8(x * 7 % 256), g: UInt8(y * 11 % 256), b: UInt8((x * y + 3) % 256))
            }
        }
        let exact: [(Int, Int, RGB)] = [(0, 0, .white), (36, 22, .black), (5, 9, RGB(hex: 0x1F77B4)), (20, 1, RGB(hex: 0xFE0102))]
        for (x, y, c) in exact { canvas[x, y] = c }
        let path = folder.path + "/canvas.png"
        try PNGFile.write(canvas, to: path)
        let back = try PNGFile.readRGB(path)
        #expect(back.width == 37)
        #expect(back.height == 23)
        #expect(back.pixels == canvas.pixels)
    }

    @Test func grayRoundTripIsExact() throws {
        let folder = try TemporaryFolder()
        let image = GrayImage(width: 31, height: 17, pixels: (0..<(31 * 17)).map { UInt8($0 * 13 % 256) })
        let path = folder.path + "/gray.png"
        try PNGFile.write(image, to: path)
        let back = try PNGFile.readGray(path)
        #expect(back.width == 31)
        #expect(back.height == 17)
        #expect(back.pixels == image.pixels)
    }

    @Test func encodedGrayBytesDecodeToSamePixels() throws {
        let folder = try TemporaryFolder()
        let pixels: [UInt8] = [0, 255, 128, 1, 254, 77]
        let bytes = try PNGFile.encode(gray: pixels, width: 3, height: 2)
        #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let path = folder.path + "/tiny.png"
        try AtomicFile.write(bytes, to: path)
        let back = try PNGFile.readGray(path)
        #expect(back.width == 3 && back.height == 2)
        #expect(back.pixels == pixels)
    }

    @Test func readersConvertBetweenGrayAndColour() throws {
        let folder = try TemporaryFolder()
        var canvas = Canvas(width: 2, height: 1, background: .white)
        canvas[1, 0] = .black
        try PNGFile.write(canvas, to: folder.path + "/rgb.png")
        #expect(try PNGFile.readGray(folder.path + "/rgb.png").pixels == [255, 0])

        try PNGFile.write(GrayImage(width: 2, height: 1, pixels: [10, 200]), to: folder.path + "/gray.png")
        #expect(try PNGFile.readRGB(folder.path + "/gray.png").pixels == [10, 10, 10, 200, 200, 200])
    }

    @Test func largeIncompressibleImageEncodes() throws {
        // Noise does not compress, which exercises the worst-case output buffer.
        var state: UInt32 = 12345
        let pixels = (0..<(300 * 200 * 3)).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        let folder = try TemporaryFolder()
        try AtomicFile.write(try PNGFile.encode(rgb: pixels, width: 300, height: 200), to: folder.path + "/noise.png")
        #expect(try PNGFile.readRGB(folder.path + "/noise.png").pixels == pixels)
    }

    @Test func writeIntoMissingFolderNamesThePath() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/no-such-folder/figure.png"
        let error = try #require(throws: MLPError.self) { try PNGFile.write(Canvas(width: 4, height: 4), to: path) }
        #expect(error.message.contains(path))
    }

    @Test func writeUnderARegularFileNamesThePath() throws {
        let folder = try TemporaryFolder()
        try AtomicFile.write(text: "not a folder", to: folder.path + "/file")
        let path = folder.path + "/file/figure.png"
        let error = try #require(throws: MLPError.self) {
            try PNGFile.write(GrayImage(width: 1, height: 1, pixels: [0]), to: path)
        }
        #expect(error.message.contains(path))
    }

    @Test func readingMissingFileSaysSo() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/missing.png"
        let error = try #require(throws: MLPError.self) { try PNGFile.readGray(path) }
        #expect(error.message.contains(path))
        #expect(error.message.contains("no such file"))
    }

    @Test func readingNonPNGSaysSo() throws {
        let folder = try TemporaryFolder()
        for (name, contents) in [("text.png", "hello, this is not an image"), ("empty.png", "")] {
            let path = folder.path + "/" + name
            try AtomicFile.write(text: contents, to: path)
            let error = try #require(throws: MLPError.self) { try PNGFile.readRGB(path) }
            #expect(error.message.contains(path))
            #expect(error.message.contains("not a PNG"))
        }
    }

    @Test func readingTruncatedPNGFailsWithPath() throws {
        let folder = try TemporaryFolder()
        let whole = try PNGFile.encode(gray: [UInt8](repeating: 9, count: 400), width: 20, height: 20)
        let path = folder.path + "/cut.png"
        try AtomicFile.write(whole.prefix(whole.count / 2), to: path)
        let error = try #require(throws: MLPError.self) { try PNGFile.readGray(path) }
        #expect(error.message.contains(path))
    }

    @Test func failedWriteLeavesExistingFileIntact() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/keep.png"
        try PNGFile.write(GrayImage(width: 2, height: 2, pixels: [1, 2, 3, 4]), to: path)
        let before = try folder.bytes(of: "keep.png")

        let empty = try #require(throws: MLPError.self) {
            try PNGFile.write(GrayImage(width: 0, height: 5, pixels: []), to: path)
        }
        #expect(empty.message.contains(path))
        let mismatched = try #require(throws: MLPError.self) {
            try PNGFile.write(GrayImage(width: 3, height: 3, pixels: [1, 2]), to: path)
        }
        #expect(mismatched.message.contains(path))
        #expect(throws: MLPError.self) { try PNGFile.write(Canvas(width: 0, height: 0), to: path) }

        #expect(try folder.bytes(of: "keep.png") == before)
        #expect(folder.contents() == ["keep.png"])
        #expect(try PNGFile.readGray(path).pixels == [1, 2, 3, 4])
    }

    @Test func encodeRejectsBadSizes() {
        #expect(throws: MLPError.self) { try PNGFile.encode(rgb: [], width: 0, height: 1) }
        #expect(throws: MLPError.self) { try PNGFile.encode(gray: [0], width: -1, height: -1) }
        #expect(throws: MLPError.self) { try PNGFile.encode(gray: [0], width: Int.max, height: 2) }
        #expect(throws: MLPError.self) { try PNGFile.encode(rgb: [0, 0], width: 1, height: 1) }
    }
}
