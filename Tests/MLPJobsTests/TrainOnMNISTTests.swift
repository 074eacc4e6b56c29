// `train` on the digits that ship with the project: the mosaic folder read with its own train and test split.
import Foundation
import Testing
@testable import MLPData
@testable import MLPJobs
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
        #expect(firstMismatch(Array(train.features.prefix(784 * 3)), Array(mnist.train.images.prefix(784 * 3))) == nil)
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
        options.learningRate = 1e-3
        options.threads = 2
        options.standardize = true          // the mosaics are dark on white: centred inputs learn faster
        options.output = folder.path + "/out"
        let summary = try TrainJob.run(options)
        #expect(summary.testSamples == 10_000, "the mosaics' own test split is scored")
        #expect((summary.testAccuracy ?? 0) > 0.93, "test accuracy \(summary.testAccuracy ?? 0)")
        #expect(summary.classes == (0...9).map(String.init))
    }
}
