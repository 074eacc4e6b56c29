// The order an epoch visits the samples in: a full shuffle, or one within a sliding window, as a stream reads data.

/// How each epoch orders the samples, drawn from the run's seed (so a resumed run replays it exactly).
public enum Shuffle: Sendable, Equatable, CustomStringConvertible {
    /// Every epoch shuffles the whole order again (Fisher–Yates over the last epoch's order).
    case full
    /// A shuffle within a sliding window of `window` samples, as streaming pipelines make one: the samples are cut
    /// into chunks of `chunkSize(window)` consecutive samples, the chunks taken in a shuffled order, and the
    /// stream of their samples passed through a buffer of `window` samples from which a random one leaves as each
    /// new one enters. Reads stay within a few chunks at a time, so data larger than memory pages in near order.
    case window(Int)

    /// The consecutive samples a window's chunks hold: a sixteenth of the window (at least 1).
    public static func chunkSize(_ window: Int) -> Int { max(1, window / 16) }

    public var description: String {
        switch self {
        case .full: "full"
        case .window(let size): "window:\(size)"
        }
    }

    /// Draws the next epoch's order into `order` (the last epoch's order for `.full`; rewritten whole for a window).
    func next(_ order: inout [Int], _ generator: inout SplitMix64) {
        switch self {
        case .full:
            generator.shuffle(&order)
        case .window(let size):
            let n = order.count, chunk = Self.chunkSize(size)
            var chunks = Array(0 ..< (n + chunk - 1) / chunk)
            generator.shuffle(&chunks)
            var buffer: [Int] = []
            buffer.reserveCapacity(min(size, n))
            var out = 0
            for c in chunks {
                for sample in c * chunk ..< min(n, (c + 1) * chunk) {
                    if buffer.count < size {
                        buffer.append(sample)
                        continue
                    }
                    let slot = generator.nextInt(below: size)
                    order[out] = buffer[slot]
                    out += 1
                    buffer[slot] = sample
                }
            }
            generator.shuffle(&buffer)
            for sample in buffer {
                order[out] = sample
                out += 1
            }
        }
    }
}
