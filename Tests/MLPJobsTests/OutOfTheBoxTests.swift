// Using what the project ships and makes: animated GIFs read back through giflib, `predict` on image files of
// any size and polarity, and `evaluate` agreeing with `classify`.
import Foundation
import Testing
@testable import MLPData
@testable import MLPImaging
@testable import MLPJobs
@testable import MLPKit
import TestSupport

@Suite struct GIFTests {
    /// A 40 × 30 canvas with a few colours and a moving square.
    func frame(_ step: Int) -> Canvas {
        var canvas = Canvas(width: 40, height: 30)
        canvas.fillRect(x: 0, y: 0, width: 40, height: 8, color: .blue)
        canvas.fillRect(x: 5 + step, y: 12, width: 3, height: 2, color: .red)
        return canvas
    }

    @Test func framesLoopAndCarryOnlyWhatChanged() throws {
        let folder = try TemporaryFolder()
        let writer = try GIFWriter(width: 40, height: 30, delay: 7)
        for step in 0..<4 { try writer.append(frame(step)) }
        try writer.finish(to: folder.path + "/a.gif")
        let info = try GIFInfo(contentsOf: folder.path + "/a.gif")
        #expect(info.width == 40 && info.height == 30 && info.frames == 4)
        #expect(info.loopsForever)
        #expect(info.delays == [7, 7, 7, 7])
        // The square moves one pixel right: frames after the first hold the 4 × 2 rectangle that changed.
        #expect(info.rectangles[0] == [0, 0, 40, 30])
        #expect(info.rectangles[1] == [5, 12, 4, 2])
    }

    @Test func aFewColoursAreKeptExactlyAndManyGoToTheCube() throws {
        let few = frame(0)
        let exact = IndexedImage(few.pixels, width: 40, box: (0, 0, 40, 30))
        #expect(exact.exact && exact.colors == 3)
        for (i, index) in exact.indices.enumerated() {
            let c = exact.palette[Int(index)]
            #expect([UInt8(c >> 16), UInt8((c >> 8) & 0xFF), UInt8(c & 0xFF)] == Array(few.pixels[3 * i ..< 3 * i + 3]))
        }
        // 300 distinct colours: the fixed cube, each channel within half a step of its level.
        var many = Canvas(width: 300, height: 1)
        for x in 0..<300 { many[x, 0] = RGB(r: UInt8(x % 256), g: UInt8((x * 7) % 256), b: UInt8(x / 2)) }
        let cube = IndexedImage(many.pixels, width: 300, box: (0, 0, 300, 1))
        #expect(!cube.exact && cube.colors == 252)
        for x in 0..<300 {
            let c = cube.palette[Int(cube.indices[x])]
            let got = [Int(c >> 16), Int((c >> 8) & 0xFF), Int(c & 0xFF)]
            let want = many.pixels[3 * x ..< 3 * x + 3].map(Int.init)
            #expect(abs(got[0] - want[0]) <= 26 && abs(got[1] - want[1]) <= 22 && abs(got[2] - want[2]) <= 26)
        }
    }

    @Test func badSizesAndDelaysAreClearErrors() throws {
        #expect(throws: MLPError("--gif-delay must be between 1 and 65535 hundredths of a second, got 0")) {
            _ = try GIFWriter(width: 10, height: 10, delay: 0)
        }
        let writer = try GIFWriter(width: 10, height: 10, delay: 5)
        #expect(throws: MLPError("GIF frames must all be 10×10, got 40×30")) { try writer.append(frame(0)) }
    }
}

@Suite(.serialized) struct PredictAndEvaluateTests {
    /// Network A after one epoch, saved as `classify` saves it, with its final test accuracy.
    nonisolated(unsafe) static let classifier: Result<(path: String, accuracy: Double, folder: TemporaryFolder), any Error> = Result {
        let folder = try TemporaryFolder()
        var options = ClassifyDemo.Options()
        options.networks = [.a]
        options.epochs = 1
        options.threads = 2
        options.output = folder.path
        let summary = try ClassifyDemo.run(options, data: try sharedMNIST.get())
        return (folder.path + "/network-a.safetensors", summary.networks[0].finalTestAccuracy, folder)
    }

    @Test(requires(mnistAvailable, "needs MNIST"))
    func evaluateAgreesWithClassify() throws {
        let model = try Self.classifier.get()
        let output = try TemporaryFolder()
        let summary = try EvaluateJob.run(model: model.path, test: try sharedMNIST.get().test, threads: 2, output: output.path)
        #expect(summary.accuracy == model.accuracy)
        #expect(!summary.inverted && summary.perClassAccuracy.count == 10 && summary.mistakes.count == 36)
        #expect(summary.mistakes.allSatisfy { $0.label != $0.predicted })
        #expect(zip(summary.mistakes, summary.mistakes.dropFirst()).allSatisfy { $0.confidence >= $1.confidence })
        for file in ["summary.json", "confusion.png", "mistakes.png"] {
            #expect(FileManager.default.fileExists(atPath: output.path + "/" + file), "\(file)")
        }
    }

    @Test(requires(mnistAvailable, "needs MNIST"))
    func predictClassifiesTestDigitsAsTheEvaluationDoes() throws {
        let model = try Self.classifier.get()
        let mnist = try sharedMNIST.get()
        let net = try MLP(contentsOf: model.path)
        #expect(net.notes["input_background"] == "1")
        let evaluation = try Evaluator(network: net, threads: 2).evaluate(mnist.test)
        let folder = try TemporaryFolder()
        var files: [String] = [], expected: [Int] = []
        for i in stride(from: 0, to: 10_000, by: 1_250) {
            let bytes = mnist.test.image(i).map { UInt8(($0 * 255).rounded()) }
            // As stored; three times larger (each pixel a 3 × 3 block: area averaging gives it back exactly);
            // and inverted (light ink on dark): predict brings it to the model's polarity.
            let big: [UInt8] = (0..<(84 * 84)).map { (p: Int) -> UInt8 in bytes[(p / 84 / 3) * 28 + (p % 84) / 3] }
            for (name, image) in [("plain", GrayImage(width: 28, height: 28, pixels: bytes)),
                                  ("big", GrayImage(width: 84, height: 84, pixels: big)),
                                  ("inverted", GrayImage(width: 28, height: 28, pixels: bytes.map { 255 - $0 }))] {
                let path = folder.path + "/\(i)-\(name).png"
                try PNGFile.write(image, to: path)
                files.append(path)
                expected.append(Int(evaluation.predictions[i]))
            }
        }
        let predictions = try PredictJob.run(model: model.path, images: files)
        #expect(predictions.map { $0.predicted } == expected)
        #expect(try PredictJob.run(model: model.path, inputs: files) == .digits(predictions))
        #expect(predictions.map(\.inverted) == files.map { $0.hasSuffix("inverted.png") })
        #expect(predictions.allSatisfy { ($0.top ?? []).count == 3 && $0.top![0].digit == $0.predicted })
    }

    @Test func predictGivesAnAutoencodersCodeAndReconstruction() throws {
        let folder = try TemporaryFolder()
        let net = AutoencoderDemo.makeNetwork(seed: 0)
        net.notes["input_background"] = "1"
        try net.write(to: folder.path + "/ae.safetensors")
        let image = GrayImage(width: 28, height: 28, pixels: [UInt8](repeating: 255, count: 784))
        try PNGFile.write(image, to: folder.path + "/blank.png")
        let result = try PredictJob.run(model: folder.path + "/ae.safetensors", images: [folder.path + "/blank.png"],
                                        output: folder.path + "/out")
        let expectedCode = try net.forward([Float](repeating: 1, count: 784), end: "latent")
        #expect(result[0].code == expectedCode)
        let reconstruction = try PNGFile.readGray(try #require(result[0].reconstruction))
        #expect(reconstruction.width == 224 && reconstruction.height == 224)
    }

    @Test func badModelsAndImagesAreOneLineErrors() throws {
        let folder = try TemporaryFolder()
        let wide = MLP(inputSize: 784, loss: .squared)
        wide.addLayer(3, activation: .logistic, name: "latent")
        wide.addLayer(784, activation: .logistic)
        try wide.write(to: folder.path + "/wide.safetensors")
        try "not an image".write(toFile: folder.path + "/note.png", atomically: true, encoding: .utf8)
        try PNGFile.write(GrayImage(width: 28, height: 28, pixels: [UInt8](repeating: 0, count: 784)),
                          to: folder.path + "/ok.png")
        #expect(throws: MLPError("\(folder.path)/wide.safetensors: layer \"latent\" has 3 units; predict shows 2-D codes")) {
            _ = try PredictJob.run(model: folder.path + "/wide.safetensors", images: [folder.path + "/ok.png"])
        }
        let small = MLP(inputSize: 4, loss: .softmaxCrossEntropy)
        small.addLayer(2, activation: .softmax)
        try small.write(to: folder.path + "/small.safetensors")
        #expect(throws: MLPError("\(folder.path)/small.safetensors: the model takes 4 inputs; digit images are 28×28 = 784")) {
            _ = try PredictJob.run(model: folder.path + "/small.safetensors", images: [folder.path + "/ok.png"])
        }
        let classifier = MLP(inputSize: 784, loss: .softmaxCrossEntropy)
        classifier.addLayer(10, activation: .softmax)
        try classifier.write(to: folder.path + "/c.safetensors")
        do {
            _ = try PredictJob.run(model: folder.path + "/c.safetensors", images: [folder.path + "/note.png"])
            Issue.record("a text file was read as a PNG")
        } catch let error as MLPError {
            #expect(error.message.contains("note.png") && !error.message.contains("\n"), "\(error.message)")
        }
    }

    @Test func areaAveragingIsExactForWholeFactorsAndKeepsTheMean() {
        let line: [Float] = [0, 1, 0.5, 0.25]
        #expect(DigitImage.resample(line.flatMap { [$0, $0, $0] }, to: 4) == line)
        let down: [Float] = DigitImage.resample([1, 0, 1, 0, 1, 0, 1], to: 3)
        let mean: Float = down.reduce(0, +) / 3
        #expect(abs(mean - Float(4) / 7) < 1e-6)
    }
}
