// The latent traversal: the circle, the decoder checks, the files written, and that a frame shows the decode.
import Foundation
import Testing
@testable import MLPData
@testable import MLPImaging
@testable import MLPJobs
@testable import MLPKit
import TestSupport

@Suite struct TraverseTests {
    /// An autoencoder-shaped network small enough to run in a blink:
    /// 784 → 8 → 2 ("latent") → 8 ("up128") → 784.
    static func tinyAutoencoder(latent: Int = 2, latentLast: Bool = false, name: String = "latent") -> MLP {
        let net = MLP(inputSize: 784, loss: .squared, seed: 7)
        net.addLayer(8, activation: .leakyReLU, name: "down8")
        net.addLayer(latent, activation: .logistic, name: name)
        if !latentLast {
            net.addLayer(8, activation: .leakyReLU, name: "up128")
            net.addLayer(784, activation: .logistic, name: "output")
        }
        // Larger decoder weights than the default 0.1 so the decodes vary visibly from point to point.
        net.parameters = net.parameters.map { $0 * 10 }
        return net
    }

    /// `count` synthetic 28 × 28 digits on a white background (1), labels cycling through 0…9.
    static func syntheticDigits(_ count: Int) throws -> Dataset {
        var generator = SplitMix64(seed: 3)
        var images: [Float] = []
        for _ in 0..<count {
            images += (0..<784).map { i in
                let r = i / 28, c = i % 28
                return (8..<20).contains(r) && (10..<18).contains(c) ? Float(generator.nextUniform()) : 1
            }
        }
        return try Dataset(images: images, labels: (0..<count).map { UInt8($0 % 10) })
    }

    @Test func circlePointsLieOnTheCircle() {
        for frames in [1, 5, 300] {
            for i in 0..<frames {
                let p = TraverseDemo.circlePoint(i, of: frames)
                let r = ((p.x - 0.5) * (p.x - 0.5) + (p.y - 0.5) * (p.y - 0.5)).squareRoot()
                #expect(abs(r - 0.4) < 1e-12)
            }
        }
        let first = TraverseDemo.circlePoint(0, of: 300)
        #expect(abs(first.x - 0.9) < 1e-12 && abs(first.y - 0.5) < 1e-12)
        let quarter = TraverseDemo.circlePoint(75, of: 300)          // a quarter turn on: straight up
        #expect(abs(quarter.x - 0.5) < 1e-12 && abs(quarter.y - 0.9) < 1e-12)
        let cell = TraverseDemo.latticePoint(column: 0, row: 2, of: 3)
        #expect(abs(cell.x - 0.5 / 3) < 1e-12 && abs(cell.y - 2.5 / 3) < 1e-12)
    }

    @Test func writesFramesAndGridShowingTheDecodes() throws {
        let folder = try TemporaryFolder()
        let net = Self.tinyAutoencoder()
        let modelPath = try folder.file("model.safetensors")
        try net.write(to: modelPath)
        let decoder = try TraverseDemo.Decoder(contentsOf: modelPath)
        #expect(decoder.firstLayer == 2 && decoder.latentLayer == 1)

        var options = TraverseDemo.Options()
        options.frames = 5
        options.grid = 3
        options.threads = 3
        options.output = folder.path + "/out"
        var lines: [String] = []
        let summary = try TraverseDemo.run(options, model: decoder, digits: try Self.syntheticDigits(40),
                                           background: 1) { lines.append($0) }
        #expect(summary.frames == 5 && summary.grid == 3 && summary.scatterDigits == 40 && summary.background == 1)
        #expect(lines.last == "frames 5/5")
        #expect(folder.contents("out") == (1...5).map(TraverseDemo.frameName) + ["grid.png"])

        let size = TraverseDemo.frameSize
        #expect((summary.frameWidth, summary.frameHeight) == (size.width, size.height))
        #expect(size.width % 2 == 0 && size.height % 2 == 0 && size.width <= 1100 && size.height <= 620)
        let scale = TraverseDemo.digitScale, origin = TraverseDemo.digitOrigin
        for frame in 1...5 {
            let image = try PNGFile.readRGB(options.output + "/" + TraverseDemo.frameName(frame))
            #expect(image.width == size.width && image.height == size.height)
            // The enlarged digit is the network's output at the frame's point, dark ink on white (background 1).
            let p = TraverseDemo.circlePoint(frame - 1, of: 5)
            let decoded = try net.forward([Float(p.x), Float(p.y)], start: "up128")
            for (r, c) in [(0, 0), (5, 9), (14, 14), (20, 3), (27, 27)] {
                let x = origin.x + c * scale + scale / 2, y = origin.y + r * scale + scale / 2
                let pixel = Int(image.pixels[(y * image.width + x) * 3])
                let expected = Int((255 * decoded[r * 28 + c] + 0.5).rounded(.down))
                #expect(abs(pixel - expected) <= 1, "frame \(frame), value (\(r), \(c))")
            }
        }

        // grid.png: cell (column, row) of the lattice, row 0 at the bottom, holds that point's decode.
        let grid = try PNGFile.readRGB(options.output + "/grid.png")
        let (frame, gridScale) = TraverseDemo.gridLayout(3)
        #expect(grid.width >= frame.x + frame.width && grid.height == frame.y + frame.height + 12)
        for (column, row) in [(0, 0), (2, 0), (0, 2), (1, 1)] {
            let p = TraverseDemo.latticePoint(column: column, row: row, of: 3)
            let decoded = try net.forward([Float(p.x), Float(p.y)], start: "up128")
            let (r, c) = (13, 11)
            let x = frame.plotArea.x + (column * 28 + c) * gridScale
            let y = frame.plotArea.y + ((2 - row) * 28 + r) * gridScale
            let pixel = Int(grid.pixels[(y * grid.width + x) * 3])
            #expect(abs(pixel - Int((255 * decoded[r * 28 + c] + 0.5).rounded(.down))) <= 1)
        }
        #expect(folder.contents("out").filter { $0.hasPrefix(".") }.isEmpty)
    }

    @Test func framesDoNotDependOnTheNumberOfThreads() throws {
        let folder = try TemporaryFolder()
        let decoder = try TraverseDemo.Decoder(network: Self.tinyAutoencoder())
        var bytes: [[UInt8]] = []
        for threads in [1, 2] {
            var options = TraverseDemo.Options()
            options.frames = 4
            options.threads = threads
            options.output = folder.path + "/t\(threads)"
            try TraverseDemo.run(options, model: decoder, digits: try Self.syntheticDigits(10), background: 1)
            bytes.append(try Array(Data(contentsOf: URL(fileURLWithPath: options.output + "/frame-0003.png"))))
        }
        #expect(bytes[0] == bytes[1])
    }

    @Test func withoutDigitsTheDecodedLatticeIsDrawnAndStaleFramesGo() throws {
        let folder = try TemporaryFolder()
        let decoder = try TraverseDemo.Decoder(network: Self.tinyAutoencoder())
        var options = TraverseDemo.Options()
        options.frames = 5
        options.output = folder.path
        var lines: [String] = []
        let first = try TraverseDemo.run(options, model: decoder) { lines.append($0) }
        #expect(first.scatterDigits == 0 && (first.background == 0 || first.background == 1))
        #expect(lines.contains { $0.contains("No data set to tell the polarity") })
        #expect(folder.contents() == (1...5).map(TraverseDemo.frameName))

        options.frames = 3
        let second = try TraverseDemo.run(options, model: decoder)
        #expect(second.staleFramesRemoved == 2)
        #expect(folder.contents() == (1...3).map(TraverseDemo.frameName))
    }

    @Test func modelsWithoutATwoDimensionalLatentLayerAndADecoderAreRefused() throws {
        let folder = try TemporaryFolder()
        let cases: [(String, MLP, String)] = [
            ("unnamed.safetensors", Self.tinyAutoencoder(name: "code"), "no layer named \"latent\""),
            ("wide.safetensors", Self.tinyAutoencoder(latent: 3), "has 3 units"),
            ("last.safetensors", Self.tinyAutoencoder(latentLast: true), "is the last layer"),
        ]
        for (name, net, problem) in cases {
            let path = try folder.file(name)
            try net.write(to: path)
            do {
                _ = try TraverseDemo.Decoder(contentsOf: path)
                Issue.record("\(name) was accepted")
            } catch let error as MLPError {
                #expect(error.message.hasPrefix(path + ":"), "\(error.message)")
                #expect(error.message.contains("latent") && error.message.contains(problem), "\(error.message)")
            }
        }
        let missing = folder.path + "/none.safetensors"
        #expect(throws: MLPError("no model at \(missing): run `mlp-train autoencoder` first (it writes "
                                 + "Output/autoencoder/model.safetensors), or pass --model FILE")) {
            try TraverseDemo.Decoder(contentsOf: missing)
        }
        let classifier = MLP(inputSize: 784, loss: .softmaxCrossEntropy)
        classifier.addLayer(2, activation: .logistic, name: "latent")
        classifier.addLayer(10, activation: .softmax)
        #expect(throws: MLPError.self) { try TraverseDemo.Decoder(network: classifier, source: "c.safetensors") }
    }

    @Test func badOptionsAreClearErrors() throws {
        let decoder = try TraverseDemo.Decoder(network: Self.tinyAutoencoder())
        let folder = try TemporaryFolder()
        func run(_ change: (inout TraverseDemo.Options) -> Void) throws {
            var options = TraverseDemo.Options()
            options.output = folder.path
            change(&options)
            try TraverseDemo.run(options, model: decoder)
        }
        #expect(throws: MLPError("--frames must be between 1 and 9999 (frame names have four digits), got 0")) {
            try run { $0.frames = 0 }
        }
        #expect(throws: MLPError("--grid must be between 1 and 64, got 0")) { try run { $0.grid = 0 } }
        #expect(throws: MLPError("--grid must be between 1 and 64, got 65")) { try run { $0.grid = 65 } }
        #expect(throws: MLPError(field: "threads", "must be between 1 and 1024, got 0")) { try run { $0.threads = 0 } }
        #expect(folder.contents().isEmpty)
    }
}

@Suite struct SequenceEncoderTests {
    /// A busy base image: a gradient with noise, so every piece compresses differently.
    static func base(width: Int, height: Int) -> Canvas {
        var canvas = Canvas(width: width, height: height)
        var generator = SplitMix64(seed: 11)
        for y in 0..<height {
            for x in 0..<width where generator.nextInt(below: 3) == 0 {
                canvas[x, y] = RGB(r: UInt8(x % 256), g: UInt8(y % 256), b: UInt8(generator.nextInt(below: 256)))
            }
        }
        return canvas
    }

    @Test func framesDecodeToExactlyTheirPixels() throws {
        let folder = try TemporaryFolder()
        let base = Self.base(width: 61, height: 40)
        let encoder = try PNGFile.SequenceEncoder(base: base, columnSplits: [20, 45, 45, 0, 99])
        var frames: [Canvas] = [base]
        var changed = base
        changed.fillRect(x: 0, y: 0, width: 3, height: 1, color: .red)             // first row, first piece
        changed.fillRect(x: 50, y: 39, width: 11, height: 1, color: .blue)         // last row, last piece
        changed.drawPoint(x: 30, y: 20, radius: 6, color: .green)                  // across the middle pieces
        frames.append(changed)
        var everywhere = base
        everywhere.fillRect(x: 0, y: 0, width: 61, height: 40, color: .black)
        frames.append(everywhere)
        for (i, frame) in frames.enumerated() {
            let path = folder.path + "/f\(i).png"
            try encoder.write(frame, to: path)
            let read = try PNGFile.readRGB(path)
            #expect(read.width == 61 && read.height == 40 && read.pixels == frame.pixels, "frame \(i)")
        }
        #expect(throws: MLPError.self) { try encoder.encode(Canvas(width: 60, height: 40)) }
    }
}
