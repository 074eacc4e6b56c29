// Helpers shared by the tests: seeded random data, closeness checks that report how far apart values are, and
// the rule for tests that need something from outside (data sets, the built binary, optional packages).
import Foundation
import Testing
@testable import MLPData
@testable import MLPImaging
@testable import MLPJobs
@testable import MLPKit

/// `count` normal samples scaled by `scale`, from a generator seeded with `seed`.
func randomValues(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var generator = SplitMix64(seed: seed)
    return (0..<count).map { _ in generator.nextGaussian() * scale }
}

/// The largest |a[i] − b[i]|; infinity when any value is NaN or infinite, or the counts differ, so a
/// comparison `< tolerance` fails on broken numbers instead of skipping them.
func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
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
func oneHot(_ index: Int, count: Int) -> [Float] {
    (0..<count).map { $0 == index ? 1 : 0 }
}

/// True when the tests run under CI (`CI=true`): then a missing data set, binary or package fails its tests
/// instead of skipping them, so a green run means they ran.
let underCI = ProcessInfo.processInfo.environment["CI"] == "true"

/// Runs a test when `available`, and always under CI, where the test then fails on what is missing (tests
/// reach the resource through `#require` or a throwing helper). Elsewhere it skips with `reason`.
func requires(_ available: Bool, _ reason: Comment) -> ConditionTrait {
    .enabled(if: available || underCI, reason)
}

@Suite struct TestSupportTests {
    @Test func maxDifferenceSeesNaNAndInfinity() {
        #expect(maxDifference([1, 2], [1, 2.5]) == 0.5)
        #expect(maxDifference([1, 2], [.nan, .nan]) == .infinity)
        #expect(maxDifference([.nan], [.nan]) == .infinity)
        #expect(maxDifference([1], [.infinity]) == .infinity)
        #expect(maxDifference([1], [1, 2]) == .infinity)
    }
}

/// nil when `a` and `b` are bit for bit the same; else where they first differ, for the failure message (a
/// plain `==` on large arrays would print every element).
func firstMismatch(_ a: [Float], _ b: [Float]) -> String? {
    guard a.count == b.count else { return "\(a.count) values against \(b.count)" }
    guard let i = a.indices.first(where: { a[$0].bitPattern != b[$0].bitPattern }) else { return nil }
    return "first difference at \(i) of \(a.count): \(a[i]) against \(b[i])"
}
