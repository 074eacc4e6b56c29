// Helpers shared by the test targets: seeded random data, closeness checks that report how far apart values are, and
// the rule for tests that need something from outside (data sets, the built binary, optional packages).
import Foundation
import Testing
import MLPKit

/// `count` normal samples scaled by `scale`, from a generator seeded with `seed`.
package func randomValues(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var generator = SplitMix64(seed: seed)
    return (0..<count).map { _ in generator.nextGaussian() * scale }
}

/// The largest |a[i] − b[i]|; infinity when any value is NaN or infinite, or the counts differ, so a
/// comparison `< tolerance` fails on broken numbers instead of skipping them.
package func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        let difference = abs(x - y)
        guard difference.isFinite else { return .infinity }
        worst = max(worst, difference)
    }
    return worst
}

/// A one-hot row of `count` with a 1 at `index`.
package func oneHot(_ index: Int, count: Int) -> [Float] {
    (0..<count).map { $0 == index ? 1 : 0 }
}

/// True when the tests run under CI (`CI=true`): then a missing data set, binary or package fails its tests
/// instead of skipping them, so a green run means they ran.
package let underCI = ProcessInfo.processInfo.environment["CI"] == "true"

/// Runs a test when `available`, and always under CI, where the test then fails on what is missing (tests
/// reach the resource through `#require` or a throwing helper). Elsewhere it skips with `reason`.
package func requires(_ available: Bool, _ reason: Comment) -> ConditionTrait {
    .enabled(if: available || underCI, reason)
}


/// nil when `a` and `b` are bit for bit the same; else where they first differ, for the failure message (a
/// plain `==` on large arrays would print every element).
package func firstMismatch(_ a: [Float], _ b: [Float]) -> String? {
    guard a.count == b.count else { return "\(a.count) values against \(b.count)" }
    guard let i = a.indices.first(where: { a[$0].bitPattern != b[$0].bitPattern }) else { return nil }
    return "first difference at \(i) of \(a.count): \(a[i]) against \(b[i])"
}

/// `count` rows "x,colour,y" of three Gaussian blobs named by colour (red, green, blue); classes are numbered in
/// order of first appearance: row 0 is green.
package func colourBlobs(_ count: Int, seed: UInt64) -> [String] {
    var generator = SplitMix64(seed: seed)
    let names = ["red", "green", "blue"], centres: [(Float, Float)] = [(0, 3), (3, -2), (-3, -2)]
    return (0..<count).map { i in
        let c = (i * 7 + 1) % 3
        return "\(centres[c].0 + generator.nextGaussian()),\(names[c]),\(centres[c].1 + generator.nextGaussian())"
    }
}

/// The autoencoder's network, 784 → 512 → 256 → 128 → 2 → 128 → 256 → 512 → 784, for the library's tests that
/// need its shape (the jobs' tests check it is `AutoencoderDemo.makeNetwork`).
package func autoencoderNetwork(seed: UInt64) -> MLP {
    let net = MLP(inputSize: 784, loss: .squared, seed: seed)
    for (size, name) in [(512, "down512"), (256, "down256"), (128, "down128")] {
        net.addLayer(size, activation: .leakyReLU, name: name)
    }
    net.addLayer(2, activation: .logistic, name: "latent")
    for (size, name) in [(128, "up128"), (256, "up256"), (512, "up512")] {
        net.addLayer(size, activation: .leakyReLU, name: name)
    }
    net.addLayer(784, activation: .logistic, name: "output")
    return net
}
