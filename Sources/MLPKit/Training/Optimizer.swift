// How a training step turns the batch's summed gradient into a change of the parameters.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The update rule a `Trainer` applies to the summed gradient g of each step, with learning rate η.
///
/// Every rule works element by element on flat buffers laid out like the parameters, so a step can be split
/// into blocks across threads without changing a bit. Weight decay (`TrainingOptions.weightDecay`, λ) is
/// decoupled from the gradient, as in AdamW: θ −= η·λ·θ before the rule's own update.
public enum Optimizer: Sendable, Equatable, CustomStringConvertible {
    /// θ −= η·g: plain stochastic gradient descent. The only rule with the per-sample update inside
    /// backpropagation (batch 1) and the sparse first layer.
    case sgd
    /// Heavy-ball momentum μ, PyTorch's convention: v = μ·v + g, then θ −= η·v; with Nesterov,
    /// θ −= η·(g + μ·v).
    case momentum(Float, nesterov: Bool)
    /// Adam (Kingma & Ba, 2015): m = β₁·m + (1 − β₁)·g, v = β₂·v + (1 − β₂)·g², then
    /// θ −= η·m̂ / (√v̂ + ε) with m̂ = m / (1 − β₁ᵗ) and v̂ = v / (1 − β₂ᵗ) at step t (1, 2, …).
    case adam(beta1: Float, beta2: Float, epsilon: Float)

    /// Momentum 0.9 without Nesterov.
    public static let defaultMomentum = Optimizer.momentum(0.9, nesterov: false)
    /// Adam with β₁ = 0.9, β₂ = 0.999, ε = 1e-8 (the paper's defaults).
    public static let defaultAdam = Optimizer.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)

    /// Buffers of state per parameter: 0 for SGD, 1 for momentum (v), 2 for Adam (m and v).
    public var stateBuffers: Int {
        switch self {
        case .sgd: 0
        case .momentum: 1
        case .adam: 2
        }
    }

    /// The rule's name as the command line spells it: sgd, momentum or adam.
    public var name: String {
        switch self {
        case .sgd: "sgd"
        case .momentum: "momentum"
        case .adam: "adam"
        }
    }

    /// The rule with its constants, as the command line spells them: "sgd", "momentum 0.9 (nesterov)",
    /// "adam beta1 0.9 beta2 0.999 epsilon 1e-08".
    public var description: String {
        switch self {
        case .sgd: "sgd"
        case .momentum(let mu, let nesterov): "momentum \(mu)" + (nesterov ? " (nesterov)" : "")
        case .adam(let beta1, let beta2, let epsilon): "adam beta1 \(beta1) beta2 \(beta2) epsilon \(epsilon)"
        }
    }

    /// Checks the rule's constants; errors name the constant (`MLPError.field`).
    func validate() throws {
        switch self {
        case .sgd:
            break
        case .momentum(let mu, _):
            guard mu.isFinite, (0..<1).contains(mu) else { throw MLPError(field: "momentum", "must be in [0, 1), got \(mu)") }
        case .adam(let beta1, let beta2, let epsilon):
            guard beta1.isFinite, (0..<1).contains(beta1) else { throw MLPError(field: "beta1", "must be in [0, 1), got \(beta1)") }
            guard beta2.isFinite, (0..<1).contains(beta2) else { throw MLPError(field: "beta2", "must be in [0, 1), got \(beta2)") }
            guard epsilon.isFinite, epsilon > 0 else { throw MLPError(field: "epsilon", "must be positive, got \(epsilon)") }
        }
    }
}

/// An optimizer's memory between steps: flat buffers with the parameters' layout (momentum's v, Adam's m and
/// v) and the step count, so the state can be saved, restored and updated block by block.
package final class OptimizerState: @unchecked Sendable {
    /// The rule.
    let optimizer: Optimizer
    /// Decoupled weight decay λ.
    let weightDecay: Float
    /// Momentum's v, or Adam's m.
    let first: FloatBuffer
    /// Adam's v (empty otherwise).
    let second: FloatBuffer
    /// Steps taken so far; `beginStep` advances it.
    private(set) var steps = 0

    /// Zeroed state for `parameters` parameters.
    package init(optimizer: Optimizer, weightDecay: Float, parameters: Int) {
        self.optimizer = optimizer
        self.weightDecay = weightDecay
        first = FloatBuffer(count: optimizer.stateBuffers >= 1 ? parameters : 0)
        second = FloatBuffer(count: optimizer.stateBuffers >= 2 ? parameters : 0)
    }

    /// Continues from a saved step count and buffers, after checking that they fit.
    func restore(steps: Int, first: [Float], second: [Float]) throws {
        guard steps >= 0, first.count == self.first.count, second.count == self.second.count else {
            throw MLPError("the saved \(optimizer.name) state does not fit: \(first.count) and \(second.count) values "
                           + "for \(self.first.count) and \(self.second.count), step \(steps)")
        }
        self.steps = steps
        self.first.assign(first)
        self.second.assign(second)
    }

    /// Starts a step: call once per step, before `update` runs on its blocks.
    func beginStep() { steps += 1 }

    /// This step's rule at learning rate η, its constants worked out (Adam's bias corrections for the step
    /// `beginStep` began), for the update kernels (`applyUpdate`) to apply block by block.
    func rule(learningRate eta: Float) -> UpdateRule {
        let decay = eta * weightDecay
        switch optimizer {
        case .sgd:
            return UpdateRule(kind: .sgd, eta: eta, decay: decay)
        case .momentum(let mu, let nesterov):
            return UpdateRule(kind: nesterov ? .nesterov : .momentum, eta: eta, decay: decay, mu: mu,
                              first: first.pointer)
        case .adam(let beta1, let beta2, let epsilon):
            let t = Float(max(steps, 1))
            return UpdateRule(kind: .adam, eta: eta, decay: decay, beta1: beta1, beta2: beta2,
                              oneMinusBeta1: 1 - beta1, oneMinusBeta2: 1 - beta2,
                              correction1: 1 - powf(beta1, t), correction2: 1 - powf(beta2, t), epsilon: epsilon,
                              first: first.pointer, second: second.pointer)
        }
    }
}
