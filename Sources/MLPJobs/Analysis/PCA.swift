// Principal component analysis of images: the covariance through the dW kernel, then power iteration.
import MLPData
import MLPImaging
import MLPKit

/// The top principal components of a set of images (rows of `dimension` values), with what is needed to
/// project images to codes and reconstruct them.
public struct PCA: Sendable {
    /// The mean image.
    public let mean: [Float]
    /// Components as rows (count × dimension), each of unit length, by decreasing variance.
    public let components: [[Double]]
    /// The variance along each component (eigenvalues of the covariance).
    public let variances: [Double]
    /// The total variance (trace of the covariance).
    public let totalVariance: Double

    /// Fraction of the total variance the components capture.
    public var varianceExplained: Double { variances.reduce(0, +) / totalVariance }

    /// Rows per block of centred images fed to the covariance kernel, and the fixed number of row groups whose
    /// partial sums are added in order (so the result does not depend on the thread count).
    static let blockRows = 256, groups = 8

    /// Fits `count` components to `data`'s images: covariance C = (1/N) Σ (x − μ)(x − μ)ᵀ (accumulated per block
    /// with the dW kernel, dW += dYᵀ·X, in Double across blocks), then power iteration with deflation.
    public init(fitting data: Dataset, components count: Int = 2, threads: Int = 1) throws {
        let n = data.count, d = data.pixelsPerImage
        guard n > 1 else { throw MLPError("PCA needs at least two images, got \(n)") }
        guard (1...d).contains(count) else { throw MLPError("--components must be between 1 and \(d), got \(count)") }
        var mean = [Double](repeating: 0, count: d)
        data.pixels.withReader { pixels in
            for i in 0..<n { for j in 0..<d { mean[j] += Double(pixels.value(i * d + j)) } }
        }
        for j in 0..<d { mean[j] /= Double(n) }
        let meanFloat = mean.map { Float($0) }

        var covariance = centredCrossProducts(data.pixels, mean: meanFloat, threads: threads,
                                              blockRows: Self.blockRows, groups: Self.groups)
        for i in 0..<(d * d) { covariance[i] /= Double(n) }
        totalVariance = (0..<d).reduce(0) { $0 + covariance[$1 * d + $1] }

        var components: [[Double]] = [], variances: [Double] = []
        for index in 0..<count {
            let (vector, value) = Self.leadingEigenvector(covariance, dimension: d, seed: UInt64(index + 1))
            components.append(vector)
            variances.append(value)
            for i in 0..<d { for j in 0..<d { covariance[i * d + j] -= value * vector[i] * vector[j] } }
        }
        self.mean = meanFloat
        self.components = components
        self.variances = variances
    }

    /// The dominant eigenvector of the symmetric positive semi-definite `matrix` by power iteration, with its sign
    /// fixed so that its largest entry is positive (results repeat exactly).
    static func leadingEigenvector(_ matrix: [Double], dimension d: Int, seed: UInt64) -> ([Double], Double) {
        var generator = SplitMix64(seed: seed)
        var v = (0..<d).map { _ in Double(generator.nextGaussian()) }
        normalize(&v)
        var next = [Double](repeating: 0, count: d)
        var value = 0.0
        for _ in 0..<5000 {
            matrix.withUnsafeBufferPointer { m in
                for i in 0..<d {
                    var s = 0.0
                    for j in 0..<d { s += m[i * d + j] * v[j] }
                    next[i] = s
                }
            }
            value = zip(next, v).reduce(0) { $0 + $1.0 * $1.1 }
            normalize(&next)
            let change = zip(next, v).reduce(0) { max($0, abs($1.0 - $1.1)) }
            swap(&v, &next)
            if change < 1e-12 { break }
        }
        let largest = v.indices.max { abs(v[$0]) < abs(v[$1]) }!
        if v[largest] < 0 { v = v.map { -$0 } }
        return (v, value)
    }

    static func normalize(_ v: inout [Double]) {
        let length = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if length > 0 { for i in v.indices { v[i] /= length } }
    }

    /// The codes (coordinates along each component) of one image.
    public func project(_ image: ArraySlice<Float>) -> [Double] {
        components.map { component in
            var s = 0.0
            for (j, x) in image.enumerated() { s += component[j] * Double(x - mean[j]) }
            return s
        }
    }

    /// The image for `codes`: mean + Σ code·component, clipped to [0, 1].
    public func reconstruct(_ codes: [Double]) -> [Float] {
        (0..<mean.count).map { j in
            var x = Double(mean[j])
            for (c, component) in zip(codes, components) { x += c * component[j] }
            return Float(min(max(x, 0), 1))
        }
    }

    /// Mean reconstruction loss per image, Σ (x̂ − x)², with reconstructions clipped to [0, 1].
    public func reconstructionLoss(_ data: Dataset) -> Double {
        var total = 0.0
        for i in 0..<data.count {
            let image = data.image(i)
            let rebuilt = reconstruct(project(image))
            for (a, b) in zip(rebuilt, image) { let e = Double(a - b); total += e * e }
        }
        return total / Double(max(data.count, 1))
    }
}
