// Helpers shared by the tests: seeded random data and closeness checks that report how far apart values are.
@testable import MLPKit

/// `count` normal samples scaled by `scale`, from a generator seeded with `seed`.
func randomValues(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var generator = SplitMix64(seed: seed)
    return (0..<count).map { _ in generator.nextGaussian() * scale }
}

/// The largest |a[i] − b[i]|.
func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// A one-hot row of `count` with a 1 at `index`.
func oneHot(_ index: Int, count: Int) -> [Float] {
    (0..<count).map { $0 == index ? 1 : 0 }
}
