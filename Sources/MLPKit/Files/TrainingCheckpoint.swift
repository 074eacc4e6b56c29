// A training run saved between two steps, as one safetensors file: network, trainer state, settings, job records.

/// A training run saved between two steps: the network's parameters, the `TrainingState` that continues it bit
/// for bit, the settings that shaped it (`run`, compared before resuming) and the job's own records (`job`).
///
/// It is one safetensors file that Python's `safetensors` reads: the network's tensors and metadata exactly as a
/// model file has them (so `MLP(contentsOf:)` loads a checkpoint too), plus `optimizer.first`/`.second` and,
/// mid-epoch, `sparse_first_layer.*` tensors, and `training.*`, `run.*` and `job.*` metadata.
public struct TrainingCheckpoint: Sendable {
    /// The network, as `MLP.safeTensors` gives it.
    public var model: SafeTensors
    /// Where the run stands.
    public var state: TrainingState
    /// The settings that shape the weights, by name (`TrainingOptions.shapingValues` plus the caller's own).
    public var run: [String: String]
    /// The job's records (metrics so far, finished parts), free-form.
    public var job: [String: String]

    /// The format tag written to `checkpoint.format`.
    public static let format = "mlp-train checkpoint 1"

    /// A checkpoint of `network` as it is now (read through its public API, so it is up to date).
    public init(network: MLP, state: TrainingState, run: [String: String], job: [String: String] = [:]) {
        model = network.safeTensors
        self.state = state
        self.run = run
        self.job = job
    }

    /// The network saved in the checkpoint.
    public func makeNetwork(path: String = "checkpoint") throws -> MLP {
        try MLP(safeTensors: model, path: path)
    }

    /// `checkpoint-prev.safetensors` beside `checkpoint.safetensors`: where `write(to:)` keeps the previous one.
    public static func previousPath(for path: String) -> String {
        let suffix = ".safetensors"
        return path.hasSuffix(suffix) ? String(path.dropLast(suffix.count)) + "-prev" + suffix : path + "-prev"
    }

    /// Writes the checkpoint atomically (temporary file, fsync, rename, fsync of the folder), keeping the one it
    /// replaces as `previousPath(for: path)`.
    public func write(to path: String) throws {
        try AtomicFile.write(safeTensors.encoded(), to: path, keepingPreviousAs: Self.previousPath(for: path))
    }

    /// Reads a checkpoint; throws an error naming the file and the problem.
    public static func read(_ path: String) throws -> TrainingCheckpoint {
        try TrainingCheckpoint(safeTensors: SafeTensors.read(path), path: path)
    }

    /// Refuses to resume when `run` (the new run's settings) differs from the checkpoint's: the error lists every
    /// difference. `path` names the checkpoint in the message.
    public func check(against run: [String: String], path: String) throws {
        // The job first (when it differs, the rest follows from it), then the options by name.
        let keys = Set(run.keys).union(self.run.keys).sorted { ($0 == "job" ? 0 : 1, $0) < ($1 == "job" ? 0 : 1, $1) }
        let differences = keys.compactMap { key -> String? in
            let saved = self.run[key] ?? "(not set)", now = run[key] ?? "(not set)"
            return saved == now ? nil : "  \(key): \(saved) in the checkpoint, \(now) now"
        }
        guard differences.isEmpty else {
            throw MLPError("cannot resume from \(path): it was made by a different run:\n"
                           + differences.joined(separator: "\n")
                           + "\nRun with the checkpoint's settings, or start afresh instead of resuming.")
        }
    }

    // MARK: File form

    /// The checkpoint as safetensors.
    public var safeTensors: SafeTensors {
        var file = model
        var metadata = file.metadata
        metadata["checkpoint.format"] = Self.format
        metadata["training.epoch"] = String(state.epoch)
        metadata["training.position"] = String(state.position)
        metadata["training.steps"] = String(state.steps)
        metadata["training.shuffle_state"] = String(state.shuffleState)
        metadata["training.epoch_loss"] = String(state.epochLoss)
        metadata["training.epoch_seconds"] = String(state.epochSeconds)
        metadata["training.optimizer_steps"] = String(state.optimizerSteps)
        for (key, value) in run { metadata["run." + key] = value }
        for (key, value) in job { metadata["job." + key] = value }
        file.metadata = metadata
        if !state.optimizerFirst.isEmpty {
            file.tensors.append(.init(name: "optimizer.first", shape: [state.optimizerFirst.count],
                                      values: state.optimizerFirst))
        }
        if !state.optimizerSecond.isEmpty {
            file.tensors.append(.init(name: "optimizer.second", shape: [state.optimizerSecond.count],
                                      values: state.optimizerSecond))
        }
        if let sparse = state.sparseFirstLayer {
            file.tensors.append(.init(name: "sparse_first_layer.v_t",
                                      shape: [sparse.vTransposed.count / max(sparse.stride, 1), sparse.stride],
                                      values: sparse.vTransposed))
            file.tensors.append(.init(name: "sparse_first_layer.u", shape: [sparse.u.count], values: sparse.u))
            file.tensors.append(.init(name: "sparse_first_layer.row_sums", shape: [sparse.rowSums.count],
                                      values: sparse.rowSums))
        }
        return file
    }

    /// Reads the checkpoint from its safetensors form; `path` names the source in errors.
    public init(safeTensors file: SafeTensors, path: String) throws {
        func fail(_ problem: String) -> MLPError { MLPError("\(path) is not an mlp-train checkpoint: \(problem)") }
        let metadata = file.metadata
        guard metadata["checkpoint.format"] == Self.format else {
            throw fail(metadata["checkpoint.format"].map { "its format is \"\($0)\", expected \"\(Self.format)\"" }
                       ?? "metadata \"checkpoint.format\" is missing (is it a model file?)")
        }
        func value<T: LosslessStringConvertible>(_ key: String, _ type: T.Type) throws -> T {
            guard let text = metadata["training." + key], let value = T(text) else {
                throw fail("metadata \"training.\(key)\" is missing or not a \(type)")
            }
            return value
        }
        func tensor(_ name: String) -> [Float] { file[name]?.values ?? [] }
        var sparse: SparseLayerState?
        if let vT = file["sparse_first_layer.v_t"] {
            guard vT.shape.count == 2, let u = file["sparse_first_layer.u"],
                  let rowSums = file["sparse_first_layer.row_sums"] else {
                throw fail("the sparse first layer needs tensors v_t (2-D), u and row_sums")
            }
            sparse = SparseLayerState(vTransposed: vT.values, stride: vT.shape[1], u: u.values, rowSums: rowSums.values)
        }
        state = TrainingState(
            epoch: try value("epoch", Int.self), position: try value("position", Int.self),
            steps: try value("steps", Int.self), shuffleState: try value("shuffle_state", UInt64.self),
            epochLoss: try value("epoch_loss", Double.self), epochSeconds: try value("epoch_seconds", Double.self),
            optimizerSteps: try value("optimizer_steps", Int.self), optimizerFirst: tensor("optimizer.first"),
            optimizerSecond: tensor("optimizer.second"), sparseFirstLayer: sparse)
        guard state.epoch >= 1, state.position >= 0, state.steps >= 0, state.optimizerSteps >= 0 else {
            throw fail("the training position is out of range (epoch \(state.epoch), position \(state.position))")
        }
        var run: [String: String] = [:], job: [String: String] = [:], modelMetadata: [String: String] = [:]
        for (key, value) in metadata {
            if key.hasPrefix("run.") { run[String(key.dropFirst(4))] = value }
            else if key.hasPrefix("job.") { job[String(key.dropFirst(4))] = value }
            else if !key.hasPrefix("training.") && !key.hasPrefix("checkpoint.") { modelMetadata[key] = value }
        }
        self.run = run
        self.job = job
        let extra: Set<String> = ["optimizer.first", "optimizer.second", "sparse_first_layer.v_t",
                                  "sparse_first_layer.u", "sparse_first_layer.row_sums"]
        model = SafeTensors(tensors: file.tensors.filter { !extra.contains($0.name) }, metadata: modelMetadata)
        // The network must load; errors name the checkpoint.
        _ = try MLP(safeTensors: model, path: path)
    }
}
