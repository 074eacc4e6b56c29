// The engine's contract: shapes, hand-computed forward values, step/zeroGrad, batches, names and errors.
import Foundation
import Testing
@testable import MLPKit
import TestSupport

@Suite struct EngineTests {
    /// The homework's example: 10 inputs, named layers in the middle, one output.
    func homeworkNetwork() -> MLP {
        let net = MLP(inputSize: 10, loss: .logistic)
        net.addLayer(20, activation: .leakyReLU)
        net.addLayer(5, activation: .leakyReLU, name: "special_start")
        net.addLayer(8, activation: .leakyReLU)
        net.addLayer(7, activation: .leakyReLU, name: "special_end")
        net.addLayer(1, activation: .logistic)
        return net
    }

    @Test func homeworkShapes() throws {
        let net = homeworkNetwork()
        let y = try net.forward(randomValues(10, seed: 1))
        #expect(y.count == 1)
        #expect(y[0] > 0 && y[0] < 1)
        let h = try net.forward(randomValues(20, seed: 2), start: "special_start", end: "special_end")
        #expect(h.count == 7)
        #expect(net.parameterCount == (10 * 20 + 20) + (20 * 5 + 5) + (5 * 8 + 8) + (8 * 7 + 7) + (7 + 1))
    }

    @Test func initialisationIsSeededRandnTimesPointOne() {
        let a = homeworkNetwork().parameters, b = homeworkNetwork().parameters
        #expect(a == b)
        let mean = a.reduce(0, +) / Float(a.count)
        let std = (a.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(a.count)).squareRoot()
        #expect(abs(mean) < 0.01)
        #expect(abs(std - 0.1) < 0.01)
        let other = MLP(inputSize: 10, loss: .logistic, seed: 7)
        other.addLayer(20, activation: .leakyReLU)
        #expect(other.parameters != Array(a.prefix(220)))
    }

    @Test func forwardWithConstantWeightsByHand() throws {
        // 2 → 2 (identity) → 1 (logistic), every weight 0.5 and every bias 0.1:
        // hidden = 0.5·1 + 0.5·3 + 0.1 = 2.1 for both units; out = σ(0.5·2.1·2 + 0.1) = σ(2.2).
        let net = MLP(inputSize: 2, loss: .squared)
        net.addLayer(2, activation: .identity, name: "hidden")
        net.addLayer(1, activation: .logistic, name: "out")
        net.parameters = [0.5, 0.5, 0.5, 0.5, 0.1, 0.1, 0.5, 0.5, 0.1]
        let hidden = try net.forward([1, 3], end: "hidden")
        #expect(hidden == [2.1, 2.1])
        let y = try net.forward([1, 3])
        #expect(abs(y[0] - 1 / (1 + expf(-2.2))) < 1e-6)
        // Starting at the output layer: σ(0.5·1 + 0.5·1 + 0.1) = σ(1.1).
        let tail = try net.forward([1, 1], start: "out")
        #expect(abs(tail[0] - 1 / (1 + expf(-1.1))) < 1e-6)
        // Squared loss against 1 is (1 − σ(2.2))².
        let loss = try net.loss([1, 3], target: [1])
        #expect(abs(loss - (1 - y[0]) * (1 - y[0])) < 1e-7)
    }

    @Test func leakyReLUAndReLUAndTanhByHand() throws {
        // One layer, W = [[1, -2]], b = [0]: z = x0 − 2 x1.
        for (activation, z, expected) in [(Activation.leakyReLU, Float(-3), Float(-0.03)),
                                          (.leakyReLU(slope: 0.2), -3, -0.6), (.relu, -3, 0), (.relu, 3, 3),
                                          (.tanh, 0.5, tanhf(0.5)), (.identity, -3, -3)] {
            let net = MLP(inputSize: 2, loss: .squared)
            net.addLayer(1, activation: activation)
            net.parameters = [1, -2, 0]
            let y = try net.forward([z, 0])
            #expect(abs(y[0] - expected) < 1e-6, "\(activation) at \(z)")
        }
        let softmax = MLP(inputSize: 2, loss: .softmaxCrossEntropy)
        softmax.addLayer(2, activation: .softmax)
        softmax.parameters = [1, 0, 0, 1, 0, 0]
        let p = try softmax.forward([0, logf(3)])
        #expect(abs(p[0] - 0.25) < 1e-6 && abs(p[1] - 0.75) < 1e-6)
        #expect(abs(try softmax.loss([0, logf(3)], label: 1) - -logf(0.75)) < 1e-6)
    }

    @Test func stepMovesByExactlyMinusLearningRateTimesGradient() throws {
        let net = homeworkNetwork()
        try net.backward(randomValues(10, seed: 3), target: [1])
        let before = net.parameters, gradients = net.gradients
        #expect(gradients.contains { $0 != 0 })
        net.step(learningRate: 0.25)
        let after = net.parameters
        for i in before.indices { #expect(after[i] == before[i] - 0.25 * gradients[i]) }
        net.zeroGrad()
        #expect(net.gradients.allSatisfy { $0 == 0 })
        #expect(net.parameters == after)
    }

    @Test func backwardAccumulates() throws {
        let net = homeworkNetwork()
        let x = randomValues(10, seed: 4)
        try net.backward(x, target: [0])
        let once = net.gradients
        try net.backward(x, target: [0])
        #expect(maxDifference(net.gradients, once.map { 2 * $0 }) < 1e-6)
    }

    @Test func batchGradientsEqualTheSumOfSingleSampleOnes() throws {
        for loss in [Loss.softmaxCrossEntropy, .squared] {
            let net = MLP(inputSize: 13, loss: loss, seed: 5)
            net.addLayer(17, activation: .tanh)
            net.addLayer(9, activation: .leakyReLU)
            net.addLayer(4, activation: loss == .squared ? .logistic : .softmax)
            let rows = 11
            let x = Matrix(rows: rows, columns: 13, values: randomValues(rows * 13, seed: 6))
            let targets = Matrix(stacking: (0..<rows).map { oneHot($0 % 4, count: 4) })
            var singleLoss: Float = 0
            for r in 0..<rows { singleLoss += try net.backward(x.row(r), target: targets.row(r)) }
            let single = net.gradients
            net.zeroGrad()
            let batchLoss = try net.backward(x, targets: targets)
            #expect(maxDifference(net.gradients, single) < 1e-5)
            #expect(abs(batchLoss - singleLoss) < 1e-4)
            let outputs = try net.forward(x)
            for r in 0..<rows { #expect(maxDifference(outputs.row(r), try net.forward(x.row(r))) < 1e-6) }
        }
    }

    @Test func forwardOnSeveralThreadsGivesTheBitsOfOne() throws {
        // Rows that leave 1 to 3 over a multiple of 4, and threads that do not divide them; a part of the network.
        let net = MLP(inputSize: 50, loss: .softmaxCrossEntropy, seed: 3)
        net.addLayer(40, activation: .relu, name: "hidden")
        net.addLayer(30, activation: .tanh)
        net.addLayer(10, activation: .softmax)
        for rows in [1, 7, 33, 130] {
            let x = Matrix(rows: rows, columns: 50, values: randomValues(rows * 50, seed: UInt64(rows)))
            let one = try net.forward(x), hidden = try net.forward(x, end: "hidden")
            for threads in [2, 3, 5] {
                #expect(firstMismatch(try net.forward(x, threads: threads).values, one.values) == nil,
                        "\(rows) rows on \(threads) threads")
                #expect(firstMismatch(try net.forward(x, end: "hidden", threads: threads).values, hidden.values) == nil)
            }
        }
        // One sample at a time: calls alternate the order they read the weights in, with the same bits.
        let wide = MLP(inputSize: 30, loss: .squared, seed: 4)
        wide.addLayer(130, activation: .tanh)
        wide.addLayer(70, activation: .relu)
        wide.addLayer(3, activation: .identity)
        let samples = Matrix(rows: 4, columns: 30, values: randomValues(120, seed: 5))
        let first = try wide.forward(samples.row(0)), second = try wide.forward(samples.row(0))
        #expect(firstMismatch(first, second) == nil)
        let third = try wide.forward(Matrix(rows: 1, columns: 30, values: samples.row(0))).values
        #expect(firstMismatch(third, first) == nil)
        #expect(throws: MLPError("forward: threads must be at least 1, got 0")) {
            try net.forward(Matrix(rows: 1, columns: 50), threads: 0)
        }
    }

    @Test func unknownNamesAndWrongSizesAreClearErrors() throws {
        let net = homeworkNetwork()
        #expect(throws: MLPError("no layer named \"nope\" (named layers: \"special_start\", \"special_end\")")) {
            try net.forward(randomValues(20, seed: 1), start: "nope")
        }
        #expect(throws: MLPError.self) { try net.forward(randomValues(9, seed: 1)) }
        #expect(throws: MLPError.self) { try net.forward(randomValues(7, seed: 1), start: "special_end", end: "special_start") }
        #expect(throws: MLPError.self) { try net.backward(randomValues(10, seed: 1), target: [1, 0]) }
        #expect(throws: MLPError.self) { try net.backward(randomValues(10, seed: 1), label: 3) }
        #expect(throws: MLPError.self) { try MLP(inputSize: 3, loss: .squared).forward([1, 2, 3]) }
    }

    @Test func activationNamesRoundTrip() {
        for activation in [Activation.logistic, .leakyReLU, .leakyReLU(slope: 0.2), .relu, .tanh, .identity, .softmax] {
            #expect(Activation(name: activation.name) == activation)
        }
        #expect(Activation(name: "swish") == nil)
    }
}
