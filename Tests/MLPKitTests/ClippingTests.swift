// Clipping by the global norm: the step against a hand-computed norm, a bound not reached changes nothing, the
// plan's phases, per-sample steps, and the option's checks.
import Testing
@testable import MLPKit
import TestSupport

@Suite struct ClippingTests {
    typealias Shape = DataParallelTrainerTests.Shape
    let helper = DataParallelTrainerTests()

    /// The summed gradient of the first `rows` samples the helper's trainer visits, from `backward`.
    func batchGradient(_ shape: Shape, data: [Float], rows: Int) throws -> [Float] {
        let net = shape.network(), k = shape.inputs
        let batch = Matrix(stacking: helper.visitingOrder().prefix(rows).map { Array(data[$0 * k ..< ($0 + 1) * k]) })
        try net.backward(batch, targets: batch)
        return net.gradients
    }

    @Test(arguments: [(48, Int?(16)), (16, nil)])
    func aClippedStepIsTheRuleOnTheGradientScaledToTheBound(batch: Int, shardRows: Int?) throws {
        // Three shards, or one (whose update is then not fused): θ − η · c / (‖g‖ + 10⁻⁶) · g, with ‖g‖ summed
        // by hand in Double over every parameter's gradient.
        let shape = Shape.firstLayerWidest, data = helper.smooth(shape), bound: Float = 0.1
        let g = try batchGradient(shape, data: data, rows: batch)
        let norm = g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(norm > 10 * Double(bound), "the bound must be reached (‖g‖ = \(norm))")
        let factor = Float(Double(bound) / (norm + 1e-6))
        let start = shape.network().parameters
        let expected = zip(start, g).map { $0 - 0.01 * factor * $1 }
        let trained = helper.train(shape, data: data, threads: 2, shardRows: shardRows, batchSize: batch, steps: 1,
                                   clipNorm: bound).parameters
        #expect(maxDifference(trained, expected) < 1e-7, "max difference \(maxDifference(trained, expected))")
        // The step's length is η times the bound.
        let length = zip(trained, start).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
        #expect(abs(length - 0.01 * Double(bound)) < 1e-3 * 0.01 * Double(bound), "step length \(length)")
    }

    @Test(arguments: [Optimizer.sgd, .defaultAdam])
    func aBoundNotReachedLeavesTheStepsBits(optimizer: Optimizer) {
        // Several shards: the gathered sum is the one the update would form, times exactly 1.
        let shape = Shape.wide, data = helper.smooth(shape)
        let plain = helper.train(shape, data: data, threads: 2, shardRows: 16, batchSize: 48,
                                 optimizer: optimizer).parameters
        let clipped = helper.train(shape, data: data, threads: 2, shardRows: 16, batchSize: 48,
                                   optimizer: optimizer, clipNorm: 1e30).parameters
        #expect(firstMismatch(clipped, plain) == nil)
    }

    @Test func aClippedPlanGathersEveryLayerThenTakesTheNormThenUpdates() {
        let net = Shape.firstLayerWidest.network()
        for rows in [[16], [16, 16, 16]] {
            let plan = StepPlan(layers: net.layers, inputSize: net.inputSize, rows: rows, computed: 0..<rows.count,
                                sparse: false, update: .rule, exchanged: false, clipped: true)
            #expect(!plan.fused)
            let kinds = plan.tasks.map(\.kind)
            let gathers = kinds.indices.filter { kinds[$0] == .gather }, updates = kinds.indices.filter { kinds[$0] == .update }
            let norm = try! #require(kinds.firstIndex(of: .norm))
            #expect(gathers.count == net.layers.count && updates.count == net.layers.count)
            #expect(kinds.filter { $0 == .norm }.count == 1)
            #expect(gathers.allSatisfy { $0 < norm } && updates.allSatisfy { $0 > norm })
            let waits = plan.dependencies[plan.tasks[norm].after]
            #expect(Set(waits) == Set(gathers), "the norm waits for every layer's gradient")
            for u in updates { #expect(Array(plan.dependencies[plan.tasks[u].after]) == [norm]) }
        }
    }

    @Test func perSampleStepsAreClippedOneSampleAtATime() throws {
        // Batch 1 with a bound: each sample's gradient is clipped on its own (mini-batch steps of one row).
        let net = DropoutTests().network(seed: 3)
        let plain = MLP(inputSize: 6, loss: .softmaxCrossEntropy, seed: 3)
        for layer in net.layers { plain.addLayer(layer.outputSize, activation: layer.activation) }
        let inputs = randomValues(5 * 6, seed: 9), labels: [UInt8] = [0, 2, 1, 1, 0]
        var options = TrainingOptions(learningRate: 0.5, seed: 4)
        options.clipNorm = 0.2
        let data = try TrainingSet(inputs: inputs, inputSize: 6, targets: .classes(labels))
        #expect(try !Trainer(network: plain, options: options).plan(for: data).perSample)
        let reference = MLP(inputSize: 6, loss: .softmaxCrossEntropy)
        for layer in net.layers { reference.addLayer(layer.outputSize, activation: layer.activation) }
        reference.parameters = plain.parameters
        try Trainer(network: plain, options: options).fit(data)
        var order = Array(0..<5)
        var generator = SplitMix64(seed: 4)
        generator.shuffle(&order)
        var clipped = 0
        for i in order {
            reference.zeroGrad()
            var target = [Float](repeating: 0, count: 3)
            target[Int(labels[i])] = 1
            try reference.backward(Array(inputs[(i * 6)..<(i * 6 + 6)]), target: target)
            let norm = reference.gradients.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            let factor: Float = norm > 0.2 ? Float(0.2 / (norm + 1e-6)) : 1
            if factor < 1 { clipped += 1 }
            reference.gradients = reference.gradients.map { $0 * factor }
            reference.step(learningRate: 0.5)
        }
        #expect(clipped >= 3, "most samples' gradients must be clipped")
        #expect(maxDifference(plain.parameters, reference.parameters) < 1e-6)
    }

    @Test func theBoundMustBeAPositiveNumberAndShapesTheRun() {
        for bad in [Float(0), -1, .infinity, .nan] {
            var options = TrainingOptions()
            options.clipNorm = bad
            #expect { try options.validate() } throws: { ($0 as? MLPError)?.field == "clipNorm" }
        }
        var options = TrainingOptions()
        #expect(options.shapingValues["clipNorm"] == nil)
        options.clipNorm = 1.5
        #expect(options.shapingValues["clipNorm"] == "1.5")
    }
}
