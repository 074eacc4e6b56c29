// `--optimizer` and its constants, shared by the training commands.
import ArgumentParser
import MLPJobs
import MLPKit

struct OptimizerOptions: ParsableArguments {
    enum Rule: String, ExpressibleByArgument, CaseIterable { case sgd, momentum, adam }

    @Option(help: ArgumentHelp("Update rule: sgd (the homework's; the only one with the per-sample fused update "
                               + "and the sparse first layer), momentum or adam."))
    var optimizer: Rule = .sgd

    @Option(help: "Momentum μ for --optimizer momentum: v = μ·v + g, θ −= η·v (default 0.9).")
    var momentum: Float?

    @Flag(help: "Nesterov momentum for --optimizer momentum: θ −= η·(g + μ·v).")
    var nesterov = false

    @Option(help: "Adam's β₁, the decay of the mean of the gradients (default 0.9).")
    var beta1: Float?

    @Option(help: "Adam's β₂, the decay of the mean of their squares (default 0.999).")
    var beta2: Float?

    @Option(help: "Decoupled weight decay λ for any rule: θ −= η·λ·θ every step.")
    var weightDecay: Float = 0

    /// The rule the options describe.
    var rule: Optimizer {
        switch optimizer {
        case .sgd: .sgd
        case .momentum: .momentum(momentum ?? 0.9, nesterov: nesterov)
        case .adam: .adam(beta1: beta1 ?? 0.9, beta2: beta2 ?? 0.999, epsilon: 1e-8)
        }
    }

    /// Constants given for a rule that does not use them are a mistake worth saying.
    func validate() throws {
        if optimizer != .momentum, momentum != nil || nesterov {
            throw ValidationError("--momentum and --nesterov apply to --optimizer momentum, not \(optimizer.rawValue)")
        }
        if optimizer != .adam, beta1 != nil || beta2 != nil {
            throw ValidationError("--beta1 and --beta2 apply to --optimizer adam, not \(optimizer.rawValue)")
        }
    }
}

/// Runs a library check and reports its error as a usage error (exit 64), as ArgumentParser's own checks are,
/// naming the option where the library names a field.
func usage(_ check: () throws -> Void) throws {
    do { try check() } catch let error as MLPError { throw ValidationError(error.inCommandLineTerms.message) }
}

extension MLPError {
    /// The error with the setting at fault named by its option (`--learning-rate`) rather than its field.
    var inCommandLineTerms: MLPError {
        field.map { MLPError(optionName(forField: $0) + " " + problem) } ?? self
    }
}
