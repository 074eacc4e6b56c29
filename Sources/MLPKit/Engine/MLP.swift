// The multilayer perceptron: layers over one flat parameter buffer, with addLayer, forward, backward, zeroGrad, step.

/// A multilayer perceptron built layer by layer, trained by backpropagation and SGD.
///
/// ```swift
/// let net = MLP(inputSize: 2, loss: .logistic)
/// net.addLayer(100, activation: .leakyReLU, name: "layer1")
/// net.addLayer(1, activation: .logistic)
/// try net.backward(x, target: [1])   // accumulates into `gradients`
/// net.step(learningRate: 0.001)
/// net.zeroGrad()
/// ```
/// Parameters and gradients each live in one contiguous buffer, layer by layer: W (out × in, row-major), then b.
public final class MLP {
    /// Inputs per sample of the first layer.
    public let inputSize: Int
    /// The loss `backward` and `loss` use.
    public let loss: Loss
    /// The layers, first to last.
    public private(set) var layers: [Layer] = []
    /// Facts about the network that travel with its model file (stored as `note.KEY` in the safetensors
    /// metadata), such as `input_background`, the value of a blank input pixel in the data it was trained on.
    public var notes: [String: String] = [:]
    /// How `addLayer` starts a layer when it is not told: randn × 0.1 unless set.
    public var initializer: Initializer = .classic
    /// How each layer started, in order (model files record those that are not `.classic`).
    public private(set) var initializers: [Initializer] = []
    /// The dropout rate `addDropout` set for the inputs of the next layer added (0: none).
    public private(set) var pendingDropout: Float = 0

    var parameterBuffer = FloatBuffer(count: 0)
    var gradientBuffer = FloatBuffer(count: 0)
    /// Draws the initial weights; seeded, so the same construction gives the same network.
    var generator: SplitMix64
    /// The seed of `backward`'s dropout masks, and the calls it has made (each call draws new masks).
    private let dropoutSeed: UInt64
    private var backwardCalls = 0
    /// Scratch memory for the convenience (Array and Matrix) API: one workspace per thread it has used.
    private var scratch: [Workspace] = []
    private var scratchRunner: (runner: StepRunner, layers: [Layer])?
    /// Whether the next single-sample `forward` reads each layer's rows last block first: the passes alternate, so
    /// each starts with the rows the one before read last, still in cache when the weights are larger than it.
    private var nextSampleDescends = false
    private var backwardRows: [Int] = []
    /// A trainer holding some parameters in another form while it trains (the sparse first layer); it writes
    /// them back whenever the network is read (`synchronize`).
    package weak var mirror: (any ParameterMirror)?

    /// Creates an empty network taking `inputSize` inputs. `seed` fixes the initial weights of the layers added.
    public init(inputSize: Int, loss: Loss, seed: UInt64 = 0) {
        precondition(inputSize > 0, "MLP(inputSize:) must be positive, got \(inputSize)")
        self.inputSize = inputSize
        self.loss = loss
        generator = SplitMix64(seed: seed)
        dropoutSeed = seed
    }

    /// Appends a dense layer of `size` outputs. Its parameters start as `initializer` says (nil: the network's
    /// `initializer`, by default randn × 0.1 for weights and biases), drawn from the network's seeded generator.
    /// A rate set by `addDropout` just before applies to its inputs.
    public func addLayer(_ size: Int, activation: Activation, name: String? = nil, initializer: Initializer? = nil) {
        precondition(size > 0, "addLayer: size must be positive, got \(size)")
        let layer = Layer(name: name, inputSize: layers.last?.outputSize ?? inputSize, outputSize: size,
                          activation: activation, weightOffset: parameterBuffer.count, dropout: pendingDropout)
        pendingDropout = 0
        let grown = FloatBuffer(count: parameterBuffer.count + layer.parameterCount)
        grown.pointer.update(from: parameterBuffer.pointer, count: parameterBuffer.count)
        let start = initializer ?? self.initializer
        start.fill(grown.pointer + parameterBuffer.count, fanIn: layer.inputSize, fanOut: size, generator: &generator)
        initializers.append(start)
        let grownGradients = FloatBuffer(count: grown.count)
        grownGradients.pointer.update(from: gradientBuffer.pointer, count: gradientBuffer.count)
        parameterBuffer = grown
        gradientBuffer = grownGradients
        layers.append(layer)
    }

    /// Drops a fraction `rate` (in [0, 1)) of the next layer's inputs while training: of the inputs when no layer
    /// has been added yet, else of the last layer's outputs. Inverted dropout (`Dropout`): kept inputs are scaled
    /// by 1 / (1 − rate) while training, and `forward`, `loss`, evaluation and model files never drop anything.
    /// `backward` and the trainers do, with masks drawn afresh for every call or epoch.
    public func addDropout(_ rate: Float) {
        precondition(rate.isFinite && rate >= 0 && rate < 1, "addDropout: the rate must be in [0, 1), got \(rate)")
        pendingDropout = rate
    }

    /// Whether any layer drops some of its inputs while training.
    public var hasDropout: Bool { layers.contains { $0.dropout > 0 } }

    /// Outputs per sample of the last layer.
    public var outputSize: Int { layers.last?.outputSize ?? inputSize }

    /// Total number of weights and biases.
    public var parameterCount: Int { parameterBuffer.count }

    /// All parameters, layer by layer: weights (out × in, row-major) then biases. Setting requires the same count.
    public var parameters: [Float] {
        get { synchronize(); return parameterBuffer.array }
        set {
            parameterBuffer.assign(newValue)
            mirror?.reload()
        }
    }

    /// The accumulated gradients, in the layout of `parameters`.
    public var gradients: [Float] {
        get { gradientBuffer.array }
        set { gradientBuffer.assign(newValue) }
    }

    /// Calls `body` with the parameters and the gradients in place (up to date), without copying them.
    package func withParametersAndGradients<R>(_ body: (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>) throws -> R)
        rethrows -> R {
        synchronize()
        return try body(UnsafeBufferPointer(start: parameterBuffer.pointer, count: parameterCount),
                        UnsafeBufferPointer(start: gradientBuffer.pointer, count: parameterCount))
    }

    /// parameters −= learningRate × gradients.
    public func step(learningRate: Float) {
        synchronize()
        let p = parameterBuffer.pointer, g = gradientBuffer.pointer
        for i in 0..<parameterBuffer.count { p[i] -= learningRate * g[i] }
        mirror?.reload()
    }

    /// Sets every gradient to zero.
    public func zeroGrad() { gradientBuffer.zero() }

    // MARK: Single samples

    /// The network's output for one sample, or for a part of the network: `start` feeds `x` to the named
    /// layer, `end` returns the named layer's output. Throws if a name is unknown or `x` has the wrong size.
    public func forward(_ x: [Float], start: String? = nil, end: String? = nil) throws -> [Float] {
        try forward(Matrix(rows: 1, columns: x.count, values: x), start: start, end: end).values
    }

    /// Runs a forward pass, then backpropagates the loss against `target`, ADDING to `gradients`.
    /// Returns the loss of this sample.
    @discardableResult
    public func backward(_ x: [Float], target: [Float]) throws -> Float {
        try backward(Matrix(rows: 1, columns: x.count, values: x),
                     targets: Matrix(rows: 1, columns: target.count, values: target))
    }

    /// `backward` with a class index as the target (a one-hot row), for softmax cross-entropy.
    @discardableResult
    public func backward(_ x: [Float], label: Int) throws -> Float {
        try backward(x, target: try oneHot(label))
    }

    /// The loss of one sample against `target`, without touching the gradients.
    public func loss(_ x: [Float], target: [Float]) throws -> Float {
        try loss(Matrix(rows: 1, columns: x.count, values: x),
                 targets: Matrix(rows: 1, columns: target.count, values: target))
    }

    /// The loss of one sample against class `label` (a one-hot target).
    public func loss(_ x: [Float], label: Int) throws -> Float {
        try loss(x, target: try oneHot(label))
    }

    // MARK: Batches (rows = samples)

    /// Outputs for every row of `x`, optionally from layer `start` to layer `end` (names, inclusive). With
    /// `threads` > 1 the rows are split into that many blocks, each run on its own thread; every row's outputs
    /// are the same bits whatever the number of threads. Single samples alternate the order they read each layer's
    /// weights in (same bits), so a network larger than the cache finds more of them still cached.
    public func forward(_ x: Matrix, start: String? = nil, end: String? = nil, threads: Int = 1) throws -> Matrix {
        let range = try layerRange(start: start, end: end)
        let first = range.lowerBound, last = range.upperBound - 1
        guard x.columns == layers[first].inputSize else {
            throw MLPError("forward: layer \(describe(first)) takes \(layers[first].inputSize) inputs, got \(x.columns)")
        }
        guard threads >= 1 else { throw MLPError("forward: threads must be at least 1, got \(threads)") }
        synchronize()
        var output = Matrix(rows: x.rows, columns: layers[last].outputSize)
        guard x.rows > 0 else { return output }
        // Blocks of a multiple of 4 rows, so each row takes the kernel path it takes in one pass, and of at most
        // `keptRows`, so the workspaces kept between calls stay small whatever the batch.
        let blockRows = min(((x.rows + threads - 1) / threads + 3) / 4 * 4, Self.keptRows)
        let blocks = (x.rows + blockRows - 1) / blockRows
        let descending = x.rows == 1 && nextSampleDescends
        if x.rows == 1 { nextSampleDescends.toggle() }
        // One workspace per thread at work (the kept ones may be more, from a call on more threads).
        let workers = min(blocks, threads), kept = scratchWorkspaces(workers, rows: blockRows)
        copyForward(x, into: &output, layers: range, workspaces: kept.count > workers ? Array(kept.prefix(workers)) : kept,
                    chunkRows: blockRows, descending: descending)
        return output
    }

    /// Forward then backward over a batch, ADDING the summed gradients of all rows. Returns the summed loss.
    /// Layers with dropout drop their inputs, with masks drawn afresh for each call (row r is sample r).
    @discardableResult
    public func backward(_ x: Matrix, targets: Matrix) throws -> Float {
        try checkBatch(x, targets)
        guard pendingDropout == 0 else {
            throw MLPError("the network ends in a dropout: addDropout drops the inputs of the layer added after it")
        }
        guard x.rows > 0 else { return 0 }
        let dropoutKey = Dropout.key(seed: dropoutSeed, epoch: backwardCalls)
        backwardCalls += 1
        synchronize()
        // A step plan of one shard and one thread that adds the gradient instead of stepping.
        let runner = backwardRunner(rows: x.rows)
        let plan = runner.plan(rows: x.rows, network: self, update: .accumulate, exchange: nil, shared: false)
        let loss = x.values.withUnsafeBufferPointer { input in
            targets.values.withUnsafeBufferPointer { target in
                backwardRows.withUnsafeBufferPointer { rows in
                    var loss = 0.0
                    runner.run(plan, steps: 1, workers: 1, exchange: nil, prepare: { _ in
                        StepRunner.Step(network: self, indices: rows.baseAddress!,
                                        inputs: RowReader(floats: input.baseAddress!, width: inputSize),
                                        targets: RowReader(floats: target.baseAddress!, width: outputSize),
                                        learningRate: 0, rule: .sgd(0),
                                        gradient: gradientBuffer.pointer, dropoutKey: dropoutKey)
                    }, finished: { _, stepLoss in
                        loss = stepLoss
                        return false
                    })
                    return loss
                }
            }
        }
        return Float(loss)
    }

    /// The summed loss of a batch against `targets`, without touching the gradients.
    public func loss(_ x: Matrix, targets: Matrix) throws -> Float {
        try checkBatch(x, targets)
        guard x.rows > 0 else { return 0 }
        synchronize()
        let workspace = scratchWorkspaces(1, rows: x.rows)[0]
        return x.values.withUnsafeBufferPointer { input in
            targets.values.withUnsafeBufferPointer { target in
                forwardPass(input.baseAddress!, rows: x.rows, layers: 0..<layers.count, workspace: workspace)
                return loss.value(workspace.activations[layers.count - 1].pointer, target.baseAddress!,
                                  count: x.rows * outputSize)
            }
        }
    }

    // MARK: Names and checks

    /// The index of the layer called `name`; throws, listing the names there are, when there is none.
    public func layerIndex(named name: String) throws -> Int {
        guard let index = layers.firstIndex(where: { $0.name == name }) else {
            let names = layers.compactMap(\.name)
            let known = names.isEmpty ? "this network has no named layers"
                                      : "named layers: " + names.map { "\"\($0)\"" }.joined(separator: ", ")
            throw MLPError("no layer named \"\(name)\" (\(known))")
        }
        return index
    }

    /// The layers a pass from `start` to `end` (inclusive, by name; nil = first / last) runs through.
    func layerRange(start: String?, end: String?) throws -> Range<Int> {
        guard !layers.isEmpty else { throw MLPError("the network has no layers: call addLayer first") }
        let first = try start.map(layerIndex(named:)) ?? 0
        let last = try end.map(layerIndex(named:)) ?? layers.count - 1
        guard first <= last else {
            throw MLPError("layer \(describe(first)) comes after layer \(describe(last)): a pass cannot run backwards")
        }
        return first..<(last + 1)
    }

    private func checkBatch(_ x: Matrix, _ targets: Matrix) throws {
        guard !layers.isEmpty else { throw MLPError("the network has no layers: call addLayer first") }
        guard x.columns == inputSize else {
            throw MLPError("the network takes \(inputSize) inputs per sample, got \(x.columns)")
        }
        guard targets.columns == outputSize, targets.rows == x.rows else {
            throw MLPError("targets must be \(x.rows) × \(outputSize) (one row of \(outputSize) per sample), "
                           + "got \(targets.rows) × \(targets.columns)")
        }
    }

    private func oneHot(_ label: Int) throws -> [Float] {
        guard (0..<outputSize).contains(label) else {
            throw MLPError("label \(label) is out of range: the network has \(outputSize) outputs")
        }
        var target = [Float](repeating: 0, count: outputSize)
        target[label] = 1
        return target
    }

    /// "2 (\"latent\")" — how errors name a layer.
    func describe(_ index: Int) -> String {
        layers[index].name.map { "\(index) (\"\($0)\")" } ?? "\(index)"
    }

    /// The runner of `backward(_:targets:)`'s plans, made again when a batch is larger or the network has changed;
    /// `backwardRows` numbers its rows (0, 1, …).
    private func backwardRunner(rows: Int) -> StepRunner {
        if let scratchRunner, scratchRunner.layers == layers, scratchRunner.runner.shardRows >= rows {
            return scratchRunner.runner
        }
        let capacity = max(rows, scratchRunner?.runner.shardRows ?? 1)
        let runner = StepRunner(network: self, shardRows: capacity, shardCount: 1, sparse: nil)
        scratchRunner = (runner, layers)
        backwardRows = Array(0..<capacity)
        return runner
    }

    /// The convenience API's workspaces, the first `count` of them regrown when a batch is larger or the network
    /// has changed (any after them are left as they are; a pass of `count` blocks uses only the first `count`).
    /// Returns the kept array itself, so a call allocates nothing once they fit.
    /// The most rows a workspace `forward` keeps between calls holds.
    static let keptRows = 256

    private func scratchWorkspaces(_ count: Int, rows: Int) -> [Workspace] {
        for t in 0..<count {
            if t < scratch.count, scratch[t].fits(inputSize: inputSize, layers: layers, rows: rows) { continue }
            let fresh = makeWorkspace(capacity: max(rows, t < scratch.count ? scratch[t].capacity : 1), forwardOnly: true)
            if t < scratch.count { scratch[t] = fresh } else { scratch.append(fresh) }
        }
        return scratch
    }

    /// Brings every parameter up to date in the network's own buffer (a trainer may hold some elsewhere).
    package func synchronize() { mirror?.store() }

    /// A workspace for this network and batches of up to `capacity` rows (forward passes only: no dL/dz buffers).
    package func makeWorkspace(capacity: Int, forwardOnly: Bool = false) -> Workspace {
        Workspace(inputSize: inputSize, layers: layers, capacity: capacity, forwardOnly: forwardOnly)
    }
}

/// A trainer that holds some of a network's parameters in another form while it trains (the sparse first layer
/// keeps W as V + u·1ᵀ). The network calls it before it is read and after its parameters are set.
package protocol ParameterMirror: AnyObject {
    /// Writes the parameters it holds back into the network (cheap when nothing changed since the last time).
    func store()
    /// Takes the network's parameters over again, after they were set from outside.
    func reload()
}
