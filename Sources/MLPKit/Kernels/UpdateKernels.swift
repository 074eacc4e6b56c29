// The optimizers' rules as kernels: the summed gradient of a block of parameters turned into their step, with
// the rule's state (momentum's v, Adam's m and v) read and written in the same pass.
//
// Every rule works element by element, and each element's arithmetic is the same whatever the block and whatever
// the lane it falls in: the last vector of a range that is not a multiple of 8 runs as a padded vector (lanes are
// independent IEEE operations). So a step may be cut into blocks of any bounds, on any thread, with the same bits.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One step of an update rule with its constants worked out (`OptimizerState.rule(learningRate:)`), and the
/// state buffers it moves, laid out like the parameters.
struct UpdateRule {
    enum Kind { case sgd, momentum, nesterov, adam }
    let kind: Kind
    /// η.
    let eta: Float
    /// η·λ, the decoupled weight decay's factor (0: none).
    let decay: Float
    /// Momentum's μ; Adam's β₁ and β₂ with 1 − β₁, 1 − β₂, the bias corrections 1 − βᵗ and ε.
    var mu: Float = 0
    var beta1: Float = 0, beta2: Float = 0, oneMinusBeta1: Float = 0, oneMinusBeta2: Float = 0
    var correction1: Float = 1, correction2: Float = 1, epsilon: Float = 0
    /// Momentum's v or Adam's m; Adam's v.
    var first: UnsafeMutablePointer<Float>? = nil
    var second: UnsafeMutablePointer<Float>? = nil

    /// Plain SGD at rate `eta` (θ −= η·g), without state.
    static func sgd(_ eta: Float) -> UpdateRule { UpdateRule(kind: .sgd, eta: eta, decay: 0) }
}

/// Where a rule reads the summed gradient of parameter i.
protocol GradientSource {
    /// The gradient of parameters i ..< i + 8.
    func vector(_ i: Int) -> SIMD8<Float>
    /// The gradient of parameters i ..< i + lanes (lanes < 8), zero-padded.
    func partial(_ i: Int, lanes: Int) -> SIMD8<Float>
}

/// One gradient for the block alone: `values[0]` is the gradient of parameter `origin`.
struct BlockGradient: GradientSource {
    let values: UnsafePointer<Float>
    let origin: Int

    @inline(__always) func vector(_ i: Int) -> SIMD8<Float> { load8(values + (i &- origin)) }
    @inline(__always) func partial(_ i: Int, lanes: Int) -> SIMD8<Float> {
        loadPartial(values + (i &- origin), lanes: lanes)
    }
}

/// The shards' gradients (each laid out like the parameters), summed left to right, g₀ + g₁ + …, per element.
struct ShardGradients: GradientSource {
    let shards: UnsafePointer<UnsafeMutablePointer<Float>>
    let count: Int

    @inline(__always) func vector(_ i: Int) -> SIMD8<Float> {
        var sum = load8(shards[0] + i)
        var s = 1
        while s < count {
            sum += load8(shards[s] + i)
            s &+= 1
        }
        return sum
    }

    @inline(__always) func partial(_ i: Int, lanes: Int) -> SIMD8<Float> {
        var sum = loadPartial(shards[0] + i, lanes: lanes)
        var s = 1
        while s < count {
            sum += loadPartial(shards[s] + i, lanes: lanes)
            s &+= 1
        }
        return sum
    }
}

/// θ[range] takes `rule`'s step for the gradient of the block alone (`gradient[0]` belongs to range.lowerBound).
@inline(never)
func applyUpdate(_ rule: UpdateRule, _ theta: UnsafeMutablePointer<Float>, range: Range<Int>,
                 gradient: UnsafePointer<Float>) {
    applyUpdate(rule, theta, range: range, BlockGradient(values: gradient, origin: range.lowerBound))
}

/// θ[range] takes `rule`'s step for the sum of the `count` shard gradients (laid out like θ).
@inline(never)
func applyUpdate(_ rule: UpdateRule, _ theta: UnsafeMutablePointer<Float>, range: Range<Int>,
                 shards: UnsafePointer<UnsafeMutablePointer<Float>>, count: Int) {
    applyUpdate(rule, theta, range: range, ShardGradients(shards: shards, count: count))
}

/// θ[range] takes `rule`'s step for the gathered gradient times the clipping factor (`ScaledGradient`).
@inline(never)
func applyUpdate(_ rule: UpdateRule, _ theta: UnsafeMutablePointer<Float>, range: Range<Int>,
                 clipped gradient: ScaledGradient) {
    applyUpdate(rule, theta, range: range, gradient)
}

/// The rule, chosen once, then run over the range 8 parameters at a time.
@inline(__always)
private func applyUpdate<G: GradientSource>(_ rule: UpdateRule, _ theta: UnsafeMutablePointer<Float>,
                                            range: Range<Int>, _ g: G) {
    let eta = splat(rule.eta), decay = splat(rule.decay), decays = rule.decay != 0
    switch rule.kind {
    case .sgd:
        forEachVector(range, theta, nil, nil, g) { p, g, _, _ in
            if decays { p -= decay * p }
            p -= eta * g
        }
    case .momentum, .nesterov:
        let mu = splat(rule.mu), nesterov = rule.kind == .nesterov
        forEachVector(range, theta, rule.first, nil, g) { p, g, v, _ in
            if decays { p -= decay * p }
            v = mu * v + g
            p -= nesterov ? eta * (g + mu * v) : eta * v
        }
    case .adam:
        let beta1 = splat(rule.beta1), beta2 = splat(rule.beta2)
        let oneMinusBeta1 = splat(rule.oneMinusBeta1), oneMinusBeta2 = splat(rule.oneMinusBeta2)
        let correction1 = splat(rule.correction1), correction2 = splat(rule.correction2)
        let epsilon = splat(rule.epsilon)
        forEachVector(range, theta, rule.first, rule.second, g) { p, g, m, v in
            if decays { p -= decay * p }
            m = beta1 * m + oneMinusBeta1 * g
            v = beta2 * v + oneMinusBeta2 * g * g
            let mHat = m / correction1, vHat = v / correction2
            p -= eta * mHat / (vHat.squareRoot() + epsilon)
        }
    }
}

/// Calls `body(θ, g, s₁, s₂)` for each vector of 8 parameters in `range` (the last one padded) with the state
/// buffers' vectors at the same place (zero where a buffer is nil), and writes θ and the state back.
@inline(__always)
private func forEachVector<G: GradientSource>(
    _ range: Range<Int>, _ theta: UnsafeMutablePointer<Float>, _ first: UnsafeMutablePointer<Float>?,
    _ second: UnsafeMutablePointer<Float>?, _ g: G,
    _ body: (inout SIMD8<Float>, SIMD8<Float>, inout SIMD8<Float>, inout SIMD8<Float>) -> Void
) {
    var i = range.lowerBound
    while i &+ 8 <= range.upperBound {
        var p = load8(theta + i)
        var a = first.map { load8($0 + i) } ?? SIMD8<Float>()
        var b = second.map { load8($0 + i) } ?? SIMD8<Float>()
        body(&p, g.vector(i), &a, &b)
        store8(p, theta + i)
        if let first { store8(a, first + i) }
        if let second { store8(b, second + i) }
        i &+= 8
    }
    let lanes = range.upperBound &- i
    guard lanes > 0 else { return }
    var p = loadPartial(theta + i, lanes: lanes)
    var a = first.map { loadPartial($0 + i, lanes: lanes) } ?? SIMD8<Float>()
    var b = second.map { loadPartial($0 + i, lanes: lanes) } ?? SIMD8<Float>()
    body(&p, g.partial(i, lanes: lanes), &a, &b)
    storePartial(p, theta + i, lanes: lanes)
    if let first { storePartial(a, first + i, lanes: lanes) }
    if let second { storePartial(b, second + i, lanes: lanes) }
}

/// The first `lanes` (< 8) floats at p, the other lanes zero.
@inline(__always)
func loadPartial(_ p: UnsafePointer<Float>, lanes: Int) -> SIMD8<Float> {
    var v = SIMD8<Float>()
    for lane in 0..<lanes { v[lane] = p[lane] }
    return v
}

/// Stores the first `lanes` (< 8) lanes of v at p.
@inline(__always)
func storePartial(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, lanes: Int) {
    for lane in 0..<lanes { p[lane] = v[lane] }
}
