// `train` on the digits that ship with the project: the mosaic folder read with its own train and test split.
import Foundation
import Testing
@testable import MLPData
@testable import MLPJobs
import MLPImaging
import MLPKit
import TestSupport

@Suite(.serialized) struct TrainOnMNISTTests {
    @Test(requires(mnistAvailable, "needs MNIST in $MLP_DATA"))
    func theMosaicFolderIsReadAsMNISTWithItsSplits() throws {
        let mnist = try sharedMNIST.get()
        try #require(mnist.format == .pngMosaics, "MLP_DATA holds the mosaics")
        let train = try LabeledData.load(mnistFolder, role: .train)
        let test = try LabeledData.load(mnistFolder, role: .test)
        #expect(try LabeledData.detectFormat(mnistFolder, isFolder: true) == .mnistMosaics)
        #expect(train.count == mnist.train.count && test.count == mnist.test.count)
        #expect(train.imageShape == [28, 28] && train.featureCount == 784)
        // Ink 1 on 0, as MNIST's IDX files hold it: the mosaics' byte b (dark on white) as (255 − b) / 255.
        let stored = mnist.train.images.prefix(784 * 3).map { Int(($0 * 255).rounded()) }
        #expect(firstMismatch(Array(train.features.prefix(784 * 3)), stored.map { Float(255 - $0) / 255 }) == nil)
        #expect(train.features.prefix(784).filter { $0 == 0 }.count > 500, "a digit is mostly background, 0")
        #expect(test.target == .labels(mnist.test.labels.map { String($0) }))
        #expect(LabeledData.holdsTestSplit(mnistFolder))
        #expect(!LabeledData.holdsTestSplit(mnistFolder + "/train"))
    }

    @Test(requires(mnistAvailable, "needs MNIST in $MLP_DATA"))
    func trainLearnsTheDigitsAndScoresTheirTestSplit() throws {
        let folder = try TemporaryFolder()
        var options = TrainJob.Options(data: mnistFolder)
        options.layers = try LayerSpec(parsing: "32:relu,10:softmax")
        options.epochs = 1
        options.batchSize = 64
        options.optimizer = .defaultAdam
        options.learningRate = 3e-3
        options.threads = 2
        options.output = folder.path + "/out"
        let summary = try TrainJob.run(options)
        #expect(summary.testSamples == 10_000, "the mosaics' own test split is scored")
        #expect((summary.testAccuracy ?? 0) > 0.93, "test accuracy \(summary.testAccuracy ?? 0)")
        #expect(summary.classes == (0...9).map(String.init))
        // The model knows its images' background; a digit as the mosaics store it (dark on white) is flipped.
        let model = try TabularModel(contentsOf: folder.path + "/out/model.safetensors")
        #expect(model.imageBackground == 0)
        let mnist = try sharedMNIST.get()
        var right = 0
        for i in 0..<20 {
            let pixels = mnist.test.images[(i * 784)..<((i + 1) * 784)].map { UInt8(($0 * 255).rounded()) }
            let path = folder.path + "/digit-\(i).png"
            try PNGFile.write(GrayImage(width: 28, height: 28, pixels: Array(pixels)), to: path)
            let features = try TabularPredictJob.imageFeatures(path, model: model, modelPath: "model")
            #expect(features.first == 0, "the white paper is read as background 0")
            let outputs = try model.network.forward(features)
            if outputs.indices.max(by: { outputs[$0] < outputs[$1] }) == Int(mnist.test.labels[i]) { right += 1 }
        }
        #expect(right >= 17, "\(right) of 20 digits as stored predicted right")
    }
}
