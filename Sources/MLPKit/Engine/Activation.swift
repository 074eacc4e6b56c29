// Activation functions: each forward next to its backward, applied in place to a (rows × columns) block.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The nonlinearity a layer applies to its pre-activation z = x·Wᵀ + b.
public enum Activation: Equatable, Hashable, Sendable {
    /// σ(z) = 1 / (1 + e⁻ᶻ); σ′ = σ(1 − σ).
    case logistic
    /// z for z > 0, slope·z otherwise.
    case leakyReLU(slope: Float)
    /// max(0, z).
    case relu
    /// tanh(z); derivative 1 − tanh².
    case tanh
    /// z.
    case identity
    /// eᶻⁱ / Σⱼ eᶻʲ over each row; allowed on the last layer only.
    case softmax

    /// Leaky ReLU with slope 0.01 below zero.
    public static var leakyReLU: Activation { .leakyReLU(slope: 0.01) }

    /// The name used in model files and on the command line (`leaky_relu`, or `leaky_relu:0.2` for another slope).
    public var name: String {
        switch self {
        case .logistic: "logistic"
        case .leakyReLU(let slope): slope == 0.01 ? "leaky_relu" : "leaky_relu:\(slope)"
        case .relu: "relu"
        case .tanh: "tanh"
        case .identity: "identity"
        case .softmax: "softmax"
        }
    }

    /// Parses `name` as written by `name`; nil when unknown.
    public init?(name: String) {
        switch name {
        case "logistic", "sigmoid": self = .logistic
        case "leaky_relu": self = .leakyReLU
        case "relu": self = .relu
        case "tanh": self = .tanh
        case "identity", "linear": self = .identity
        case "softmax": self = .softmax
        default:
            let prefix = "leaky_relu:"
            guard name.hasPrefix(prefix), let slope = Float(name.dropFirst(prefix.count)), slope.isFinite else {
                return nil
            }
            self = .leakyReLU(slope: slope)
        }
    }

    /// Whether each output depends on its own input only (every activation but softmax), so that a block of
    /// columns can be activated on its own.
    var isElementwise: Bool { self != .softmax }

    /// Applies `forward` to columns `columns` of a (rows × stride) block, row by row: the same bits as the whole.
    func forward(_ z: UnsafeMutablePointer<Float>, rows: Int, stride: Int, columns: Range<Int>) {
        if columns == 0..<stride { return forward(z, rows: rows, columns: stride) }
        for r in 0..<rows { forward(z + (r &* stride &+ columns.lowerBound), rows: 1, columns: columns.count) }
    }

    /// Applies `backward` to columns `columns` of (rows × stride) blocks, row by row: the same bits as the whole.
    func backward(_ delta: UnsafeMutablePointer<Float>, output a: UnsafePointer<Float>, rows: Int, stride: Int,
                  columns: Range<Int>) {
        if columns == 0..<stride { return backward(delta, output: a, rows: rows, columns: stride) }
        for r in 0..<rows {
            let offset = r &* stride &+ columns.lowerBound
            backward(delta + offset, output: a + offset, rows: 1, columns: columns.count)
        }
    }

    /// a = f(z), in place over `rows × columns` values (row-wise for softmax).
    func forward(_ z: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        let count = rows &* columns
        switch self {
        case .logistic:
            for i in 0..<count { z[i] = 1 / (1 + expf(-z[i])) }
        case .leakyReLU(let slope):
            for i in 0..<count { let v = z[i]; z[i] = v > 0 ? v : v * slope }
        case .relu:
            for i in 0..<count { z[i] = max(z[i], 0) }
        case .tanh:
            for i in 0..<count { z[i] = tanhf(z[i]) }
        case .identity:
            break
        case .softmax:
            for r in 0..<rows {
                let row = z + r &* columns
                var largest = -Float.infinity
                for j in 0..<columns { largest = max(largest, row[j]) }
                var sum: Float = 0
                for j in 0..<columns { let e = expf(row[j] - largest); row[j] = e; sum += e }
                let scale = 1 / sum
                for j in 0..<columns { row[j] *= scale }
            }
        }
    }

    /// Turns dL/da into dL/dz in place, using only the outputs a = f(z) (every derivative here is a function of a).
    func backward(_ delta: UnsafeMutablePointer<Float>, output a: UnsafePointer<Float>, rows: Int, columns: Int) {
        let count = rows &* columns
        switch self {
        case .logistic:
            for i in 0..<count { delta[i] *= a[i] * (1 - a[i]) }
        case .leakyReLU(let slope):
            for i in 0..<count where !(a[i] > 0) { delta[i] *= slope }
        case .relu:
            for i in 0..<count where !(a[i] > 0) { delta[i] = 0 }
        case .tanh:
            for i in 0..<count { delta[i] *= 1 - a[i] * a[i] }
        case .identity:
            break
        case .softmax:
            // Jacobian-vector product of softmax: dz_i = a_i (g_i − Σ_j g_j a_j).
            for r in 0..<rows {
                let g = delta + r &* columns, s = a + r &* columns
                var dot: Float = 0
                for j in 0..<columns { dot += g[j] * s[j] }
                for j in 0..<columns { g[j] = s[j] * (g[j] - dot) }
            }
        }
    }
}
