// Every training job's TensorBoard run, read back by TensorBoard's own reader: the job's scalars at each epoch's
// end on the samples axis, its figure, and each layer's histograms.
import Foundation
import Testing
import MLPData
@testable import MLPJobs
import MLPKit
import TestSupport

@Suite(.serialized) struct TrainingBoardTests {
    /// What `scripts/read-tensorboard.py` finds in `folder`.
    func board(_ folder: String) throws -> [String: [String: [[Double]]]] {
        let python = try #require(pythonTools, "no Python with tensorboard")
        let result = try runPython(python, [checkoutRoot + "/scripts/read-tensorboard.py", folder])
        try #require(result.status == 0, "\(result.err)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8))
                            as? [String: [String: [[Double]]]])
    }

    /// The board of a run of `epochs` over `samples` training samples per epoch with `layers` layers holds
    /// `scalars` at every epoch's end, a figure at its last, and each layer's histograms.
    func expectBoard(_ board: [String: [String: [[Double]]]], epochs: Int, samples: Int, layers: Int,
                     scalars: [String]) {
        let ends = (1...epochs).map { Double($0 * samples) }
        for tag in scalars + ["epoch", "learning_rate", "samples_per_second"] {
            #expect(board["scalars"]?[tag]?.map { $0[0] } == ends, "\(tag)")
        }
        #expect(board["images"]?["figure"]?.last?[0] == ends.last)
        for l in 0..<layers {
            for kind in ["weights/layers.\(l)", "biases/layers.\(l)", "gradients/layers.\(l).weight"] {
                #expect(board["histograms"]?[kind]?.map { $0[0] } == ends, "\(kind)")
            }
        }
    }

    @Test(requires(pythonTools != nil && mnistAvailable, "needs tensorboard and MNIST"))
    func classifyAndAutoencoderWriteTheirRuns() throws {
        let mnist = try sharedMNIST.get()
        let small = MNIST(train: mnist.train.prefix(600), test: mnist.test.prefix(200), format: mnist.format)
        let folder = try TemporaryFolder()
        var classify = ClassifyDemo.Options()
        classify.epochs = 2
        classify.threads = 2
        classify.output = folder.path + "/classify"
        _ = try ClassifyDemo.run(classify, data: small)
        for network in ["a", "b"] {
            let board = try board(folder.path + "/classify/" + network)
            expectBoard(board, epochs: 2, samples: 600, layers: network == "a" ? 2 : 3,
                        scalars: ["loss/train", "accuracy/train", "loss/test", "accuracy/test"])
            #expect(board["scalars"]?["loss/running_mean"]?.isEmpty == false, "per-sample SGD's running mean")
        }
        var autoencoder = AutoencoderDemo.Options()
        autoencoder.epochs = 2
        autoencoder.threads = 2
        autoencoder.output = folder.path + "/autoencoder"
        _ = try AutoencoderDemo.run(autoencoder, data: small)
        let board = try board(folder.path + "/autoencoder")
        expectBoard(board, epochs: 2, samples: 600, layers: 8, scalars: ["loss/train", "loss/test"])
        #expect(board["scalars"]?["loss/step"]?.count == 2 * ((600 + 15) / 16), "one per step of 16 (the last short)")
    }

    @Test(requires(pythonTools != nil, "needs tensorboard"))
    func discWritesItsRun() throws {
        let folder = try TemporaryFolder()
        var options = DiscDemo.Options()
        options.epochs = 3
        options.output = folder.path + "/disc"
        _ = try DiscDemo.run(options)
        expectBoard(try board(folder.path + "/disc"), epochs: 3, samples: options.samples, layers: 3,
                    scalars: ["loss/train", "accuracy/train"])
    }
}
