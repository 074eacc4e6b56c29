// Dropout: the masks' keep rate and scaling, the spec and the model file, backward's gradient against finite
// differences, and masks that follow the samples, not the threads, shards or positions.
import Testing
@testable import MLPKit
import TestSupport

@Suite struct DropoutTests {
    /// `units` mask values of `samples` samples for layer `layer` under `key`.
    func masks(rate: Float, key: UInt64, layer: Int = 1, samples: Range<Int>, units: Int) -> [Float] {
        var mask = [Float](repeating: -1, count: samples.count * units)
        mask.withUnsafeMutableBufferPointer { mask in
            for (row, sample) in samples.enumerated() {
                Dropout.fillMask(mask.baseAddress! + row * units, units: units, rate: rate, key: key, layer: layer,
                                 sample: sample)
            }
        }
        return mask
    }

    @Test(arguments: [Float(0.2), 0.5, 0.8])
    func masksKeepOneMinusTheRateAndScaleWhatTheyKeep(rate: Float) {
        let key = Dropout.key(seed: 7, epoch: 1), count = 200 * 1000
        let mask = masks(rate: rate, key: key, samples: 0..<200, units: 1000)
        let scale = 1 / (1 - rate)
        #expect(mask.allSatisfy { $0 == 0 || $0 == scale }, "every value is 0 or 1 / (1 − rate)")
        let kept = Double(mask.filter { $0 != 0 }.count) / Double(count)
        let sigma = (Double(rate) * Double(1 - rate) / Double(count)).squareRoot()
        #expect(abs(kept - Double(1 - rate)) < 5 * sigma, "kept \(kept) for a rate of \(rate)")
        // The mean of the masked values is 1: inverted dropout keeps each input's expectation.
        let mean = mask.reduce(0.0) { $0 + Double($1) } / Double(count)
        #expect(abs(mean - 1) < 5 * sigma * Double(scale))

        // The same key, layer and sample give the same mask; another epoch, layer or sample another one, with
        // the mismatches of two independent draws (2·p·(1 − p) of the units).
        #expect(masks(rate: rate, key: key, samples: 0..<200, units: 1000) == mask)
        let others = [masks(rate: rate, key: Dropout.key(seed: 7, epoch: 2), samples: 0..<200, units: 1000),
                      masks(rate: rate, key: Dropout.key(seed: 8, epoch: 1), samples: 0..<200, units: 1000),
                      masks(rate: rate, key: key, layer: 2, samples: 0..<200, units: 1000),
                      masks(rate: rate, key: key, samples: 1..<201, units: 1000)]
        for other in others {
            let differ = Double(zip(other, mask).filter { $0 != $1 }.count) / Double(count)
            let expected = 2 * Double(rate) * Double(1 - rate)
            #expect(abs(differ - expected) < 0.01, "\(differ) of the units differ; independent draws: \(expected)")
        }
    }

    @Test func aRateOfZeroKeepsEverything() {
        #expect(masks(rate: 0, key: 3, samples: 0..<10, units: 100).allSatisfy { $0 == 1 })
    }

    @Test func theSpecPlacesDropoutsBeforeTheirLayersAndWritesThemBack() throws {
        let text = "dropout:0.2,800:relu,dropout:0.5,800:relu@hidden,10:softmax"
        let spec = try LayerSpec(parsing: text)
        #expect(spec.entries.map(\.dropout) == [0.2, 0.5, 0])
        #expect(spec.entries.map(\.units) == [800, 800, 10])
        #expect(spec.description == text)
        #expect(try LayerSpec(parsing: spec.description) == spec)
        let net = spec.network(inputSize: 784, loss: .softmaxCrossEntropy, seed: 1)
        #expect(net.layers.map(\.dropout) == [0.2, 0.5, 0])
        #expect(net.hasDropout)
        #expect(net.architecture.hasPrefix("784 → dropout 0.2 → 800 relu → dropout 0.5 → 800 relu \"hidden\""))
        for (bad, problem) in [("dropout:0.5", "before a layer"), ("10:relu,dropout:0.5", "before a layer"),
                               ("dropout:1,10:relu", "[0, 1)"), ("dropout:-0.1,10:relu", "[0, 1)"),
                               ("dropout:half,10:relu", "[0, 1)"), ("dropout:0.1,dropout:0.2,10:relu", "in a row")] {
            #expect { try LayerSpec(parsing: bad) } throws: {
                "\($0)".contains(problem) && ($0 as? MLPError)?.field == "layers"
            }
        }
    }

    /// 6 → dropout 0.3 → 5 tanh → dropout 0.5 → 4 logistic → 3 softmax: dropout on the inputs and above a
    /// layer whose derivative needs its own (undropped) outputs; no kinks for finite differences to cross.
    func network(seed: UInt64 = 21) -> MLP {
        let net = MLP(inputSize: 6, loss: .softmaxCrossEntropy, seed: seed)
        net.addDropout(0.3)
        net.addLayer(5, activation: .tanh)
        net.addDropout(0.5)
        net.addLayer(4, activation: .logistic)
        net.addLayer(3, activation: .softmax)
        return net
    }

    @Test func theModelFileKeepsTheRatesAndInferenceDropsNothing() throws {
        let net = network()
        let read = try MLP(safeTensors: net.safeTensors)
        #expect(read.layers.map(\.dropout) == [0.3, 0.5, 0])
        #expect(net.safeTensors.metadata["layers.0.dropout"] == "0.3")
        #expect(net.safeTensors.metadata["layers.2.dropout"] == nil)
        // forward is the network without dropout: the same weights in a network that has none.
        let plain = MLP(inputSize: 6, loss: .softmaxCrossEntropy)
        for layer in net.layers { plain.addLayer(layer.outputSize, activation: layer.activation) }
        plain.parameters = net.parameters
        let x = randomValues(6, seed: 2)
        #expect(try net.forward(x) == plain.forward(x))
        #expect(try read.forward(x) == plain.forward(x))
    }

    @Test(arguments: [1, 4])
    func backwardsGradientIsTheMaskedNetworksFiniteDifference(rows: Int) throws {
        // backward's first call draws the masks of key (seed 21, 0) for samples (rows) 0..<rows on layers 0 and 1.
        // With those masks fixed, each row's loss is that of the network without dropout fed x ⊙ m₀, with layer
        // 1's weight columns scaled by m₁: the finite differences of their sum are the reference. One row takes
        // the kernels' one-row path, four rows their blocked path.
        let net = network(), x = randomValues(rows * 6, seed: 13)
        let targets = (0..<rows).flatMap { r in (0..<3).map { Float($0 == r % 3 ? 1 : 0) } }
        let key = Dropout.key(seed: 21, epoch: 0)
        let m0 = masks(rate: 0.3, key: key, layer: 0, samples: 0..<rows, units: 6)
        let m1 = masks(rate: 0.5, key: key, layer: 1, samples: 0..<rows, units: 5)
        #expect(m0.contains(0) && m0.contains { $0 > 1 } && m1.contains(0) && m1.contains { $0 > 1 },
                "the masks drop some units and keep others")
        try net.backward(Matrix(rows: rows, columns: 6, values: x), targets: Matrix(rows: rows, columns: 3,
                                                                                   values: targets))
        let twin = MLP(inputSize: 6, loss: .softmaxCrossEntropy)
        for layer in net.layers { twin.addLayer(layer.outputSize, activation: layer.activation) }
        let w1 = net.layers[1]
        let (worst, index) = try GradientCheckTests().check(net, indices: Array(net.parameters.indices)) {
            var loss: Float = 0
            for r in 0..<rows {
                var theta = net.parameters
                for o in 0..<w1.outputSize {
                    for i in 0..<w1.inputSize { theta[w1.weightOffset + o * w1.inputSize + i] *= m1[r * 5 + i] }
                }
                twin.parameters = theta
                let dropped = (0..<6).map { x[r * 6 + $0] * m0[r * 6 + $0] }
                loss += try twin.loss(dropped, target: Array(targets[(r * 3)..<(r * 3 + 3)]))
            }
            return loss
        }
        #expect(worst < 1, "parameter \(index) is \(worst) tolerances off")
        // The next call draws other masks.
        let first = net.gradients
        net.zeroGrad()
        try net.backward(Matrix(rows: rows, columns: 6, values: x), targets: Matrix(rows: rows, columns: 3,
                                                                                   values: targets))
        #expect(net.gradients != first)
    }

    @Test func anEpochDropsAsBackwardsCallOfTheSameNumberBySampleIndex() throws {
        // Two epochs of one batch of all 16 samples, in shuffled order: epoch e's masks are those of backward's
        // call e (its rows in the data's order) for a network of the trainer's seed. Keyed by position in the
        // batch, or by the same key every epoch, the steps would differ.
        let data = randomValues(16 * 6, seed: 4), labels = (0..<16).map { UInt8($0 % 3) }
        var targets = [Float](repeating: 0, count: 16 * 3)
        for (i, label) in labels.enumerated() { targets[i * 3 + Int(label)] = 1 }
        let trained = network(seed: 21)
        try Trainer(network: trained, options: TrainingOptions(epochs: 2, learningRate: 0.1, batchSize: 16, seed: 21))
            .fit(TrainingSet(inputs: data, inputSize: 6, targets: .classes(labels)))
        let reference = network(seed: 21)
        let x = Matrix(rows: 16, columns: 6, values: data), y = Matrix(rows: 16, columns: 3, values: targets)
        try reference.backward(x, targets: y)        // call 0: no epoch has that number
        for _ in 1...2 {
            reference.zeroGrad()
            try reference.backward(x, targets: y)
            reference.step(learningRate: 0.1)
        }
        #expect(maxDifference(trained.parameters, reference.parameters) < 1e-5)
        let plain = MLP(inputSize: 6, loss: .softmaxCrossEntropy)
        for layer in reference.layers { plain.addLayer(layer.outputSize, activation: layer.activation) }
        plain.parameters = network(seed: 21).parameters
        try Trainer(network: plain, options: TrainingOptions(epochs: 2, learningRate: 0.1, batchSize: 16, seed: 21))
            .fit(TrainingSet(inputs: data, inputSize: 6, targets: .classes(labels)))
        #expect(maxDifference(plain.parameters, trained.parameters) > 1e-3, "dropout changes the steps")
    }

    @Test func dropoutTakesMiniBatchStepsAndADenseFirstLayerUnderIt() throws {
        let data = try TrainingSet(inputs: (0..<(50 * 6)).map { $0 % 3 == 0 ? 0.5 : 0 }, inputSize: 6,
                                   targets: .classes((0..<50).map { UInt8($0 % 3) }))
        let plan = try Trainer(network: network(), options: TrainingOptions()).plan(for: data)
        #expect(!plan.perSample && plan.sparseBackground == nil)
        let inner = MLP(inputSize: 6, loss: .softmaxCrossEntropy)
        inner.addLayer(5, activation: .tanh)
        inner.addDropout(0.5)
        inner.addLayer(3, activation: .softmax)
        let innerPlan = try Trainer(network: inner, options: TrainingOptions()).plan(for: data)
        #expect(!innerPlan.perSample && innerPlan.sparseBackground == 0, "dropout above the first layer keeps it sparse")
        let ending = MLP(inputSize: 6, loss: .squared)
        ending.addLayer(3, activation: .identity)
        ending.addDropout(0.5)
        #expect(throws: MLPError.self) { try Trainer(network: ending, options: TrainingOptions()) }
    }

    @Test func dropoutClippingAndSmoothingGiveTheSameBitsOnAnyThreadCount() throws {
        // Trainer.fit with all three on: batches of 48 in three shards and the epoch's last, shorter batch.
        let count = 130
        let inputs = randomValues(count * 6, seed: 31), labels = (0..<count).map { UInt8(($0 * 7) % 3) }
        let data = try TrainingSet(inputs: inputs, inputSize: 6, targets: .classes(labels))
        func train(threads: Int, clip: Float? = 0.05) throws -> [Float] {
            let net = network()
            var options = TrainingOptions(epochs: 2, learningRate: 0.05, batchSize: 48, lossReduction: .mean,
                                          optimizer: .momentum(0.9, nesterov: false), threads: threads, seed: 2)
            options.labelSmoothing = 0.1
            options.clipNorm = clip
            try Trainer(network: net, options: options).fit(data)
            return net.parameters
        }
        let one = try train(threads: 1)
        #expect(maxDifference(one, network().parameters) > 1e-3, "the steps must move the weights")
        for threads in [2, 3] { #expect(firstMismatch(try train(threads: threads), one) == nil, "\(threads) threads") }
        #expect(maxDifference(try train(threads: 1, clip: nil), one) > 1e-5, "the clipping bound is reached")
    }
}
