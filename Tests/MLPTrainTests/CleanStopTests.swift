// Real signals sent to a running `mlp-train`: a clean stop with a checkpoint and the exit status of the signal,
// a resume that ends with the same model bytes, a second signal that quits at once, and the numeric guard.
import Foundation
import Testing
@testable import MLPKit
import TestSupport

@Suite(requires(mlpTrainBinary != nil, "needs the built mlp-train")) struct CleanStopTests {
    /// A started mlp-train, its standard error going to a file.
    struct Child {
        let process: Process
        let errorPath: String
        var errorText: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }
    }

    func start(_ arguments: [String], in folder: String) throws -> Child {
        let binary = try #require(mlpTrainBinary)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        let errorPath = folder + "/stderr.txt"
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return Child(process: process, errorPath: errorPath)
    }

    /// Waits until `path` exists (the run has written its first checkpoint), at most 60 s.
    func waitFor(_ path: String) throws {
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: path) {
            guard Date() < deadline else { throw MLPError("\(path) did not appear within 60 s") }
            usleep(2_000)
        }
    }

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// The disc run every test stops: long enough to be caught mid-run, quick in a debug build.
    let disc = ["disc", "--epochs", "300", "--no-frames", "--checkpoint-every", "250"]

    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
    func aSignalStopsCleanlyAndTheResumedRunEndsWithTheSameBytes(signal: Int32, status: Int32) throws {
        let temporary = try TemporaryFolder()
        let folder = temporary.path
        let whole = try runTool(disc + ["--output", "whole"], directory: folder)
        try #require(whole.status == 0, "\(whole.err)")

        let child = try start(disc + ["--output", "stopped"], in: folder)
        try waitFor(folder + "/stopped/checkpoint.safetensors")
        kill(child.process.processIdentifier, signal)
        child.process.waitUntilExit()
        #expect(child.process.terminationReason == .exit, "it exits, not killed by the signal")
        #expect(child.process.terminationStatus == status, "\(child.errorText)")
        #expect(child.errorText.contains("Resume with:\n"))
        #expect(child.errorText.contains("--resume stopped/checkpoint.safetensors"))

        // What an interrupted run leaves: a checkpoint that reads, the metrics so far, a summary marked as such.
        let checkpoint = try TrainingCheckpoint.read(folder + "/stopped/checkpoint.safetensors")
        #expect(checkpoint.state.completedEpochs < 300)
        let summary = try JSONSerialization.jsonObject(with: bytes(folder + "/stopped/summary.json")) as? [String: Any]
        #expect(summary?["status"] as? String == "interrupted")
        #expect(summary?["completedEpochs"] as? Int == checkpoint.state.completedEpochs)
        let rows = try String(contentsOfFile: folder + "/stopped/metrics.csv", encoding: .utf8)
            .split(separator: "\n").count
        #expect(rows == 1 + checkpoint.state.completedEpochs)

        let resumed = try runTool(disc + ["--output", "stopped", "--resume", "stopped/checkpoint.safetensors"],
                                  directory: folder)
        try #require(resumed.status == 0, "\(resumed.err)")
        for file in ["model.safetensors", "metrics.csv"] {
            #expect(try bytes(folder + "/stopped/" + file) == bytes(folder + "/whole/" + file), "\(file)")
        }
        let done = try JSONSerialization.jsonObject(with: bytes(folder + "/stopped/summary.json")) as? [String: Any]
        #expect(done?["status"] as? String == "complete")
    }

    @Test func aSecondSignalQuitsAtOnceLeavingOnlyWholeFiles() throws {
        let temporary = try TemporaryFolder()
        let folder = temporary.path
        let child = try start(disc + ["--output", "out", "--checkpoint-every", "1"], in: folder)
        try waitFor(folder + "/out/checkpoint.safetensors")
        kill(child.process.processIdentifier, SIGINT)
        kill(child.process.processIdentifier, SIGINT)
        child.process.waitUntilExit()
        #expect(child.process.terminationStatus == 130, "\(child.errorText)")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder + "/out")
        #expect(files.filter { $0.hasPrefix(".") }.isEmpty, "temporary files left: \(files)")
        _ = try TrainingCheckpoint.read(folder + "/out/checkpoint.safetensors")
        if files.contains("checkpoint-prev.safetensors") {
            _ = try TrainingCheckpoint.read(folder + "/out/checkpoint-prev.safetensors")
        }
    }

    @Test func aDivergingRunFailsNamingTheStepAndKeepsTheLastGoodFiles() throws {
        let temporary = try TemporaryFolder()
        let folder = temporary.path
        let good = try runTool(["disc", "--epochs", "2", "--no-frames", "--output", "out"], directory: folder)
        try #require(good.status == 0, "\(good.err)")
        let model = try bytes(folder + "/out/model.safetensors")
        let checkpoint = try bytes(folder + "/out/checkpoint.safetensors")
        let bad = try runTool(["disc", "--epochs", "4", "--no-frames", "--output", "out", "--learning-rate", "1e9"],
                              directory: folder)
        #expect(bad.status == 1)
        #expect(bad.err.contains("training diverged at epoch 1, step "))
        #expect(bad.err.contains("learning rate 1e+09: the loss became NaN"))
        #expect(bad.err.contains("try a lower --learning-rate, such as 1e+08"))
        #expect(try bytes(folder + "/out/model.safetensors") == model, "the last good model stays")
        #expect(try bytes(folder + "/out/checkpoint.safetensors") == checkpoint, "the last good checkpoint stays")
    }

    @Test func resumingWithOtherSettingsIsRefusedListingThem() throws {
        let temporary = try TemporaryFolder()
        let folder = temporary.path
        let first = try runTool(["disc", "--epochs", "2", "--no-frames", "--output", "out"], directory: folder)
        try #require(first.status == 0, "\(first.err)")
        let other = try runTool(["disc", "--epochs", "4", "--no-frames", "--output", "out", "--learning-rate", "0.002",
                                 "--seed", "5", "--resume", "out/checkpoint.safetensors"], directory: folder)
        #expect(other.status == 1)
        #expect(other.err.contains("cannot resume from out/checkpoint.safetensors: it was made by a different run"))
        #expect(other.err.contains("--learning-rate: 0.001 in the checkpoint, 0.002 now"))
        #expect(other.err.contains("--seed: 0 in the checkpoint, 5 now"))
        let missing = try runTool(["disc", "--resume", "nowhere.safetensors"], directory: folder)
        #expect(missing.status == 1 && missing.err.contains("nowhere.safetensors"))
        // Continuing a finished run to more epochs (constant schedule) appends to its metrics.
        let more = try runTool(["disc", "--epochs", "3", "--no-frames", "--output", "out",
                                "--resume", "out/checkpoint.safetensors"], directory: folder)
        try #require(more.status == 0, "\(more.err)")
        let rows = try String(contentsOfFile: folder + "/out/metrics.csv", encoding: .utf8).split(separator: "\n")
        #expect(rows.map { $0.split(separator: ",").first ?? "" } == ["epoch", "1", "2", "3"])
    }

    @Test func trainStopsCleanlyAndResumesToTheSameModel() throws {
        let temporary = try TemporaryFolder()
        let folder = temporary.path
        let rows = colourBlobs(300, seed: 8).joined(separator: "\n")
        _ = FileManager.default.createFile(atPath: folder + "/blobs.csv", contents: Data(("x,colour,y\n" + rows).utf8))
        let train = ["train", "--data", "blobs.csv", "--target", "colour", "--layers", "8:tanh,3:softmax",
                     "--validation-split", "0.2", "--epochs", "600", "--standardize", "--threads", "1"]
        let whole = try runTool(train + ["--output", "whole"], directory: folder)
        try #require(whole.status == 0, "\(whole.err)")
        let child = try start(train + ["--output", "stopped"], in: folder)
        try waitFor(folder + "/stopped/checkpoint.safetensors")
        kill(child.process.processIdentifier, SIGINT)
        child.process.waitUntilExit()
        #expect(child.process.terminationStatus == 130, "\(child.errorText)")
        let summary = try JSONSerialization.jsonObject(with: bytes(folder + "/stopped/summary.json")) as? [String: Any]
        #expect(summary?["status"] as? String == "interrupted")
        #expect(child.errorText.contains("--resume stopped/checkpoint.safetensors"))
        let resumed = try runTool(train + ["--output", "stopped", "--threads", "2",
                                           "--resume", "stopped/checkpoint.safetensors"], directory: folder)
        try #require(resumed.status == 0, "\(resumed.err)")
        #expect(try bytes(folder + "/stopped/model.safetensors") == bytes(folder + "/whole/model.safetensors"))

        try expectTheSameBoard(folder + "/stopped", as: folder + "/whole", epochs: 600, samples: 240)
    }

    /// TensorBoard's own reader finds in `resumed` (a stopped or killed run, resumed: two event files) every
    /// scalar, image and histogram of the uninterrupted run in `whole`, at the same steps, each once, with the same
    /// values (but the speed). Skipped without a Python that has tensorboard, except under CI.
    /// The x-axis is the samples trained on: epoch e ends at e × `samples` (the training samples per epoch).
    func expectTheSameBoard(_ resumed: String, as whole: String, epochs: Int, samples: Int) throws {
        guard pythonTools != nil || underCI else { return }
        let python = try #require(pythonTools, "no Python with tensorboard")
        func board(_ folder: String) throws -> [String: [String: [[Double]]]] {
            let result = try runPython(python, [checkoutRoot + "/scripts/read-tensorboard.py", folder])
            try #require(result.status == 0, "\(result.err)")
            return try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8))
                                as? [String: [String: [[Double]]]])
        }
        let uninterrupted = try board(whole), continued = try board(resumed)
        let files = try FileManager.default.contentsOfDirectory(atPath: resumed)
        #expect(files.filter { $0.hasPrefix("events.out.tfevents.") }.count == 2, "one file before the stop, one after")
        #expect(uninterrupted["scalars"]?["epoch"] == (1...epochs).map { [Double($0 * samples), Double($0)] })
        #expect(uninterrupted["histograms"]?["weights/layers.0"]?.count == epochs)
        let every = (epochs + 19) / 20   // the figure at 20 evenly spaced epochs and the last
        #expect(uninterrupted["images"]?["figure"]?.count == epochs / every + (epochs % every == 0 ? 0 : 1))
        for kind in ["scalars", "images", "histograms"] {
            let expected = uninterrupted[kind] ?? [:], got = continued[kind] ?? [:]
            #expect(Set(got.keys) == Set(expected.keys), "\(kind)")
            for (tag, events) in expected {
                let steps = (got[tag] ?? []).map { $0[0] }
                #expect(steps == events.map { $0[0] }, "\(kind) \(tag): the same steps, each once")
                if tag != "samples_per_second" {
                    #expect((got[tag] ?? []).map { Array($0.dropFirst()) } == events.map { Array($0.dropFirst()) },
                            "\(kind) \(tag): the same values")
                }
            }
        }
    }

    @Test func aRunResumedFromAnEarlierCheckpointShowsEachStepOnce() throws {
        // A crash after the last checkpoint leaves events of steps after it; here they are certain: a finished
        // run is resumed from its next-to-last checkpoint (the end of epoch 39 of 40), so its first event file
        // holds epoch 40 already. The resumed run's file starts at that checkpoint, and TensorBoard drops the
        // first file's epoch 40: each step once, with the uninterrupted run's values.
        let temporary = try TemporaryFolder()
        let folder = temporary.path
        let rows = colourBlobs(240, seed: 5).joined(separator: "\n")
        _ = FileManager.default.createFile(atPath: folder + "/blobs.csv", contents: Data(("x,colour,y\n" + rows).utf8))
        let train = ["train", "--data", "blobs.csv", "--target", "colour", "--layers", "8:tanh,3:softmax",
                     "--validation-split", "0.2", "--epochs", "40", "--batch-size", "8", "--optimizer", "adam",
                     "--learning-rate", "0.003", "--threads", "1"]
        let whole = try runTool(train + ["--output", "whole"], directory: folder)
        try #require(whole.status == 0, "\(whole.err)")
        try FileManager.default.copyItem(atPath: folder + "/whole", toPath: folder + "/rerun")
        sleep(1)   // the second event file's name (its second) sorts after the first's
        let resumed = try runTool(train + ["--output", "rerun", "--resume", "rerun/checkpoint-prev.safetensors"],
                                  directory: folder)
        try #require(resumed.status == 0, "\(resumed.err)")
        #expect(try bytes(folder + "/rerun/model.safetensors") == bytes(folder + "/whole/model.safetensors"))
        try expectTheSameBoard(folder + "/rerun", as: folder + "/whole", epochs: 40, samples: 192)
    }
}
