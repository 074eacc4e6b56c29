// The built `mlp-train` tool: help text, exit codes and error messages, and one end-to-end run.
import Foundation
import Testing
@testable import MLPJobs
@testable import MLPKit
import TestSupport

@Suite(requires(mlpTrainBinary != nil, "needs the built mlp-train")) struct CommandLineTests {
    @Test func helpListsEveryCommand() throws {
        let result = try runTool(["--help"])
        #expect(result.status == 0)
        for command in ["disc", "classify", "autoencoder", "train", "pca", "traverse", "export", "download", "bench"] {
            #expect(result.out.contains("  \(command) "), "missing \(command)")
        }
    }

    @Test func badOptionsExitWithUsageErrors() throws {
        let epochs = try runTool(["disc", "--epochs", "0"])
        #expect(epochs.status == 64)
        #expect(epochs.err.contains("Error: --epochs must be positive, got 0"))
        // --threads before the subcommand is handed to it.
        let threads = try runTool(["--threads", "0", "pca"])
        #expect(threads.status == 64)
        #expect(threads.err.contains("--threads must be between 1 and 1024, got 0"))
        let unknown = try runTool(["classify", "--network", "c"])
        #expect(unknown.status == 64)
        // MLPKit names the field (learningRate, beta1); the command line names the option.
        let rate = try runTool(["classify", "--learning-rate=-1"])
        #expect(rate.status == 64)
        #expect(rate.err.contains("Error: --learning-rate must be a positive number, got -1.0"), "\(rate.err)")
        let beta = try runTool(["train", "--data", "x.csv", "--optimizer", "adam", "--beta1", "1"])
        #expect(beta.err.contains("Error: --beta1 must be in [0, 1), got 1.0"), "\(beta.err)")
        // Every training command takes the shared training options.
        let batch = try runTool(["disc", "--batch-size", "0"])
        #expect(batch.status == 64)
        #expect(batch.err.contains("Error: --batch-size must be positive, got 0"), "\(batch.err)")
    }

    @Test func missingDataIsAClearError() throws {
        let result = try runTool(["classify", "--data", "/nonexistent/mnist"])
        #expect(result.status == 1)
        #expect(result.err.contains("Error: cannot load MNIST: the folder /nonexistent/mnist does not exist"))
        let missing = try runTool(["pca", "--no-download"], environment: ["MLP_DATA": "/nonexistent/data"])
        #expect(missing.status == 1)
        #expect(missing.err.contains("MLP_DATA is set to /nonexistent/data, which does not exist"))
    }

    @Test func discRunsEndToEnd() throws {
        let temporary = try TemporaryFolder()
        let folder = temporary.path + "/disc"
        let result = try runTool(["disc", "--epochs", "2", "--output", folder])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("final accuracy"))
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: folder))
        #expect(files.filter { !$0.hasPrefix("events.out.tfevents.") } == Set([
            "metrics.csv", "summary.json", "frame-0001.png", "frame-0002.png", "model.safetensors",
            "checkpoint.safetensors", "checkpoint-prev.safetensors"]))
        #expect(files.filter { $0.hasPrefix("events.out.tfevents.") }.count == 1, "and one TensorBoard event file")
    }

    @Test(requires(mnistAvailable, "needs MNIST in $MLP_DATA"))
    func trainOnTheWordMNISTReadsTheDigitsFolder() throws {
        let folder = try TemporaryFolder()
        let result = try runTool(["train", "--data", "mnist", "--layers", "16:relu,10:softmax", "--epochs", "1",
                                  "--batch-size", "256", "--optimizer", "adam", "--learning-rate", "0.003",
                                  "--output", folder.path + "/out"], environment: ["MLP_DATA": mnistFolder])
        #expect(result.status == 0, "\(result.err)")
        let summary = try JSONSerialization.jsonObject(with: Data(try folder.bytes(of: "out/summary.json")))
            as? [String: Any]
        #expect(summary?["trainSamples"] as? Int == 60_000 && summary?["testSamples"] as? Int == 10_000)
        let missing = try runTool(["train", "--data", "mnist"], environment: ["MLP_DATA": "/nonexistent/digits"])
        #expect(missing.status != 0 && missing.err.contains("/nonexistent/digits"), "\(missing.err)")
    }

    @Test func trainWithDropoutAndClippingWritesTheSameModelOnAnyThreadCount() throws {
        let folder = try TemporaryFolder()
        let rows = colourBlobs(150, seed: 3).joined(separator: "\n")
        let data = try folder.write(Array(("x,colour,y\n" + rows + "\n").utf8), to: "blobs.csv")
        let train = ["train", "--data", data, "--target", "colour", "--layers", "dropout:0.1,16:relu,dropout:0.5,3:softmax",
                     "--batch-size", "32", "--clip-norm", "0.5", "--label-smoothing", "0.1", "--epochs", "4"]
        for threads in ["1", "2", "3"] {
            let result = try runTool(train + ["--threads", threads, "--output", folder.path + "/t" + threads])
            try #require(result.status == 0, "\(result.err)")
            #expect((result.out + result.err).contains("dropout 0.1 → 16 relu → dropout 0.5 → 3 softmax"))
        }
        let model = try folder.bytes(of: "t1/model.safetensors")
        #expect(try folder.bytes(of: "t2/model.safetensors") == model && folder.bytes(of: "t3/model.safetensors") == model)
        let read = try MLP(contentsOf: folder.path + "/t1/model.safetensors")
        #expect(read.layers.map(\.dropout) == [0.1, 0.5])
        // Checks name the option and say what is wrong.
        let clip = try runTool(train + ["--clip-norm", "0"])
        #expect(clip.status == 64 && clip.err.contains("--clip-norm must be a positive number, got 0.0"), "\(clip.err)")
        let rate = try runTool(["train", "--data", data, "--target", "colour", "--layers", "dropout:1.5,3:softmax"])
        #expect(rate.status == 64 && rate.err.contains("--layers entry 1 \"dropout:1.5\": a dropout rate is a number in [0, 1)"),
                "\(rate.err)")
    }

    @Test func trainAndPredictOnACSVTable() throws {
        let folder = try TemporaryFolder()
        let rows = colourBlobs(120, seed: 6).joined(separator: "\n")
        let data = try folder.write(Array(("x,colour,y\n" + rows + "\n").utf8), to: "blobs.csv")
        let bad = try runTool(["train", "--data", data, "--target", "colour", "--layers", "8:relu,3:swish"])
        #expect(bad.status == 64)
        #expect(bad.err.contains("--layers entry 2 \"3:swish\": unknown activation \"swish\""), "\(bad.err)")
        let output = folder.path + "/out"
        let result = try runTool(["train", "--data", data, "--target", "colour", "--layers", "8:relu,3:softmax",
                                  "--validation-split", "0.25", "--epochs", "5", "--standardize", "--output", output])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.err.contains("target 3 classes"))
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: output)).isSuperset(of:
            ["metrics.csv", "model.safetensors", "summary.json", "curves.png", "confusion.png", "checkpoint.safetensors"]))
        let predicted = try runTool(["predict", "--model", output + "/model.safetensors", data])
        #expect(predicted.status == 0, "\(predicted.err)")
        let lines = predicted.out.split(separator: "\n")
        #expect(lines.count == 121)
        #expect(lines[0].hasPrefix(data + ", row 1: green"), "\(lines[0])")
        #expect(lines.last?.hasPrefix("accuracy ") == true)
    }

    @Test(requires(mnistAvailable, "needs MNIST in $MLP_DATA"))
    func classifyRecordsWhichFirstLayerItUsed() throws {
        let temporary = try TemporaryFolder()
        let folder = temporary.path + "/classify"
        let data = mnistFolder
        for (flags, sparse) in [([String](), true), (["--dense-first-layer"], false)] {
            let result = try runTool(["classify", "--network", "a", "--epochs", "1", "--threads", "2",
                                      "--data", data, "--output", folder] + flags)
            #expect(result.status == 0, "\(result.err)")
            let summary = try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: folder + "/summary.json"))) as? [String: Any]
            #expect(summary?["sparseFirstLayer"] as? Bool == sparse, "\(flags)")
        }
    }

    /// A fresh clone needs no data option, no $MLP_DATA and no network: the digits ship in Data/mnist-png, found
    /// from the checkout's root and, through the binary's location, from anywhere else.
    @Test(requires(mnistAvailable, "needs the digits in Data/mnist-png"))
    func theShippedDigitsAreFoundWithoutOptions() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let temporary = try TemporaryFolder()
        let folder = temporary.path + "/pca"
        for directory in [root, temporary.path] {
            let result = try runTool(["pca", "--no-download", "--threads", "2", "--output", folder], directory: directory)
            #expect(result.status == 0, "\(result.err)")
            #expect(result.err.contains("Data/mnist-png (PNG mosaics"), "from \(directory): \(result.err)")
            #expect(FileManager.default.fileExists(atPath: folder + "/summary.json"))
        }
    }
}
