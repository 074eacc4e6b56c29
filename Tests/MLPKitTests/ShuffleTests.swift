// The orders epochs visit the samples in: every shuffle is a permutation drawn from the seed alone, and a windowed
// one reads the data in near order.
import Testing
@testable import MLPKit
import TestSupport

@Suite struct ShuffleTests {
    /// Three epochs' orders of `count` samples under `shuffle`, from seed 9.
    func epochs(_ shuffle: Shuffle, count: Int) -> [[Int]] {
        var generator = SplitMix64(seed: 9), order = Array(0..<count)
        return (0..<3).map { _ in
            shuffle.next(&order, &generator)
            return order
        }
    }

    @Test(arguments: [(1, 1), (7, 1), (100, 3), (1000, 64), (1000, 1000), (1000, 5000), (4097, 256)])
    func aWindowedShuffleIsAReproduciblePermutation(count: Int, window: Int) {
        let orders = epochs(.window(window), count: count)
        for order in orders { #expect(order.sorted() == Array(0..<count)) }
        #expect(orders == epochs(.window(window), count: count))
        if count >= 100 {
            #expect(orders[0] != orders[1] && orders[1] != orders[2], "each epoch draws a new order")
            #expect(orders[0] != Array(0..<count), "the order is shuffled")
        }
    }

    @Test func aWindowReadsTheDataInNearOrder() {
        // Where each sample enters the window: its chunk's rank in the chunks' order. A sample leaves at or after it
        // enters, at most `window` places earlier (the buffer is full), and it stays k more places with probability
        // (1 − 1/window)^k: so 95% leave within 3 windows of entering (e^−3). A full shuffle has no such bound.
        let window = 1024, chunk = Shuffle.chunkSize(window), count = 100_000
        // The chunks' order is the generator's first draw (the algorithm `Shuffle.window` documents).
        var chunks = Array(0 ..< (count + chunk - 1) / chunk), draw = SplitMix64(seed: 9)
        draw.shuffle(&chunks)
        var entered = [Int](repeating: 0, count: count), streamed = 0
        for c in chunks {
            for sample in c * chunk ..< min(count, (c + 1) * chunk) {
                entered[sample] = streamed
                streamed += 1
            }
        }
        var generator = SplitMix64(seed: 9), order = Array(0..<count)
        Shuffle.window(window).next(&order, &generator)
        var late = 0
        for (position, sample) in order.enumerated() {
            #expect(entered[sample] <= position + window, "sample \(sample) leaves at \(position) before its chunk is read")
            if entered[sample] < position - 3 * window { late += 1 }
        }
        #expect(Double(late) / Double(count) < 0.06, "\(late) samples stayed more than 3 windows")
        var full = Array(0..<count)
        Shuffle.full.next(&full, &generator)
        let fullLate = full.enumerated().filter { $0.element < $0.offset - 3 * window }.count
        #expect(Double(fullLate) / Double(count) > 0.4, "a full shuffle reads far out of order (in file order)")
    }

    @Test func windowsAreValidatedAndRecorded() {
        var options = TrainingOptions()
        options.shuffle = .window(0)
        #expect(throws: MLPError.self) { try options.validate() }
        options.shuffle = .window(64)
        #expect(options.shapingValues["shuffle"] == "window:64")
        #expect(TrainingOptions().shapingValues["shuffle"] == nil, "runs made before windows resume as before")
    }
}
