// The shared test helpers' own checks.
import Testing
import TestSupport

@Suite struct TestSupportTests {
    @Test func maxDifferenceSeesNaNAndInfinity() {
        #expect(maxDifference([1, 2], [1, 2.5]) == 0.5)
        #expect(maxDifference([1, 2], [.nan, .nan]) == .infinity)
        #expect(maxDifference([.nan], [.nan]) == .infinity)
        #expect(maxDifference([1], [.infinity]) == .infinity)
        #expect(maxDifference([1], [1, 2]) == .infinity)
    }
}
