// The update-rule kernels against a scalar twin of each rule, on awkward lengths and block cuts: the same bits for
// every element whatever the block, the lane or the number of shards.
import Foundation
import Testing
@testable import MLPKit
import TestSupport

@Suite struct UpdateKernelTests {
    /// Lengths around the 8-float vector (and primes), so every padded last vector runs.
    static let lengths = [1, 2, 7, 8, 9, 13, 16, 17, 31, 33, 61]

    /// The optimizers with and without weight decay.
    static let rules: [(Optimizer, Float)] = [
        (.sgd, 0), (.sgd, 0.01), (.momentum(0.9, nesterov: false), 0), (.momentum(0.8, nesterov: true), 0.01),
        (.defaultAdam, 0), (.adam(beta1: 0.8, beta2: 0.99, epsilon: 1e-6), 0.02),
    ]

    /// The rule's step on θ, its state and g, element by element in scalar Float arithmetic, in the order the
    /// rule's documentation writes it.
    func scalarStep(_ optimizer: Optimizer, decay lambda: Float, eta: Float, step t: Int, theta: inout [Float],
                    first: inout [Float], second: inout [Float], g: [Float]) {
        for i in theta.indices {
            theta[i] -= (eta * lambda) * theta[i]
            switch optimizer {
            case .sgd:
                theta[i] -= eta * g[i]
            case .momentum(let mu, let nesterov):
                first[i] = mu * first[i] + g[i]
                theta[i] -= nesterov ? eta * (g[i] + mu * first[i]) : eta * first[i]
            case .adam(let beta1, let beta2, let epsilon):
                first[i] = beta1 * first[i] + (1 - beta1) * g[i]
                second[i] = beta2 * second[i] + (1 - beta2) * g[i] * g[i]
                let mHat = first[i] / (1 - powf(beta1, Float(t))), vHat = second[i] / (1 - powf(beta2, Float(t)))
                theta[i] -= eta * mHat / (vHat.squareRoot() + epsilon)
            }
        }
    }

    /// A state for `count` parameters at step 3, with nonzero moments.
    func state(_ optimizer: Optimizer, decay: Float, count: Int, seed: UInt64) throws -> OptimizerState {
        let state = OptimizerState(optimizer: optimizer, weightDecay: decay, parameters: count)
        let buffers = optimizer.stateBuffers
        try state.restore(steps: 2, first: buffers >= 1 ? randomValues(count, seed: seed, scale: 0.1) : [],
                          second: buffers >= 2 ? randomValues(count, seed: seed + 1).map { $0 * $0 * 0.01 } : [])
        state.beginStep()
        return state
    }

    @Test(arguments: 0..<rules.count)
    func everyRuleMatchesItsScalarTwinOnAnyCut(rule index: Int) throws {
        let (optimizer, decay) = Self.rules[index]
        for count in Self.lengths {
            let theta0 = randomValues(count, seed: 1), g = randomValues(count, seed: 2, scale: 0.5)
            // The twin.
            let reference = try state(optimizer, decay: decay, count: count, seed: 3)
            var theta = theta0, first = reference.first.array, second = reference.second.array
            scalarStep(optimizer, decay: decay, eta: 0.05, step: 3, theta: &theta, first: &first, second: &second, g: g)
            // The kernel, over the whole range and cut in two at every point.
            for cut in 0...count {
                let kernel = try state(optimizer, decay: decay, count: count, seed: 3)
                let rule = kernel.rule(learningRate: 0.05)
                let parameters = FloatBuffer(theta0)
                g.withUnsafeBufferPointer { g in
                    applyUpdate(rule, parameters.pointer, range: 0..<cut, gradient: g.baseAddress!)
                    applyUpdate(rule, parameters.pointer, range: cut..<count, gradient: g.baseAddress! + cut)
                }
                #expect(firstMismatch(parameters.array, theta) == nil, "\(optimizer), \(count) cut at \(cut)")
                #expect(firstMismatch(kernel.first.array, first) == nil, "state, \(optimizer), \(count) at \(cut)")
                #expect(firstMismatch(kernel.second.array, second) == nil, "state 2, \(optimizer), \(count) at \(cut)")
            }
            #expect(maxDifference(theta, theta0) > 1e-4, "the step must move the parameters")
        }
    }

    @Test(arguments: 0..<rules.count)
    func shardsAreSummedInOrderBeforeTheRule(rule index: Int) throws {
        let (optimizer, decay) = Self.rules[index]
        for count in Self.lengths {
            let shards = (0..<3).map { FloatBuffer(randomValues(count, seed: 10 + UInt64($0), scale: 0.3)) }
            let summed = (0..<count).map { i in (shards[0].pointer[i] + shards[1].pointer[i]) + shards[2].pointer[i] }
            let theta0 = randomValues(count, seed: 4)
            let one = try state(optimizer, decay: decay, count: count, seed: 5)
            let expected = FloatBuffer(theta0)
            summed.withUnsafeBufferPointer {
                applyUpdate(one.rule(learningRate: 0.1), expected.pointer, range: 0..<count, gradient: $0.baseAddress!)
            }
            let three = try state(optimizer, decay: decay, count: count, seed: 5)
            let actual = FloatBuffer(theta0)
            withExtendedLifetime(shards) {
                shards.map(\.pointer).withUnsafeBufferPointer { g in
                    let rule = three.rule(learningRate: 0.1), middle = count / 2
                    applyUpdate(rule, actual.pointer, range: middle..<count, shards: g.baseAddress!, count: 3)
                    applyUpdate(rule, actual.pointer, range: 0..<middle, shards: g.baseAddress!, count: 3)
                }
            }
            #expect(firstMismatch(actual.array, expected.array) == nil, "\(optimizer), \(count) parameters")
            #expect(firstMismatch(three.first.array, one.first.array) == nil, "\(optimizer), \(count): state")
        }
    }
}
