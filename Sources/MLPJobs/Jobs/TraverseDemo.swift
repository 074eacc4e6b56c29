// `traverse`: walk a circle through a trained autoencoder's 2-D latent square, decoding every point on the way
// into a digit, and draw one animation frame per point beside the test digits' codes; optionally also the
// decodes of a regular lattice of the square (`grid.png`).
import MLPData
import MLPImaging
import MLPKit
import Foundation

/// Decodes points of an autoencoder's 2-D latent square into images: a circle of points as animation frames
/// (`frame-0001.png` …), and optionally a K × K lattice as one picture (`grid.png`).
///
/// ```swift
/// let decoder = try TraverseDemo.Decoder(contentsOf: "Output/autoencoder/model.safetensors")
/// var options = TraverseDemo.Options()
/// options.grid = 10
/// let summary = try TraverseDemo.run(options, model: decoder, digits: mnist.test, background: 1)
/// ```
public enum TraverseDemo {
    /// What to draw and where.
    public struct Options: Sendable {
        /// Points on the circle, one frame each (1…9999: frame names have four digits).
        public var frames = 300
        /// Also write `grid.png`, the decodes of a `grid` × `grid` lattice (1…64); nil writes no grid.
        public var grid: Int?
        /// Folder the frames and the grid are written into (created if missing).
        public var output = "Output/traverse"
        /// Worker threads that draw and encode frames, each writing its own files.
        public var threads = 1
        /// Picks the 1,000 test digits of the scatter: the autoencoder's figures with the same seed show the same ones.
        public var seed: UInt64 = 0
        /// Also write the frames as `animation.gif`, each shown for `gifDelay` hundredths of a second.
        public var gif = false
        public var gifDelay = 3

        /// The defaults: 300 frames, no grid, `Output/traverse`, one thread.
        public init() {}
    }

    /// What a run wrote.
    public struct Summary: Sendable, Codable, Equatable {
        /// Frames written (`frame-0001.png` … in `output`).
        public let frames: Int
        /// Size of every frame in pixels.
        public let frameWidth: Int, frameHeight: Int
        /// The lattice size of `grid.png`, nil when none was written.
        public let grid: Int?
        /// Test digits drawn in the scatter; 0 when none were given and the decoded lattice was drawn instead.
        public let scatterDigits: Int
        /// The pixel value taken as blank paper when turning decodes into dark ink on white (1 or 0).
        public let background: Float
        /// Frames numbered above `frames` that an earlier, longer run had left in `output` and that were removed.
        public let staleFramesRemoved: Int
        /// Wall-clock seconds of the whole run (decoding, drawing, encoding, writing).
        public let seconds: Double
    }

    /// Decodes the circle (and the lattice when `options.grid` is set) in one batch, then draws and writes the
    /// frames on `options.threads` workers.
    ///
    /// - `digits`: test digits (28 × 28) whose codes make the scatter behind the path (1,000 of them, chosen by
    ///   `options.seed`); nil draws the decodes of a 16 × 16 lattice there instead.
    /// - `background`: the value of a blank pixel in the data the model was trained on (1 for the PNG mosaics,
    ///   0 for IDX; see `MNIST.Format.background`). nil reads it off the decodes: MNIST digits have blank
    ///   margins, so the mean of the decoded images' outer ring is close to the background value.
    /// - `log`: progress lines (one per 50 frames) and notes, for standard error.
    @discardableResult
    public static func run(_ options: Options, model decoder: Decoder, digits: Dataset? = nil,
                           background: Float? = nil, log: (String) -> Void = { _ in }) throws -> Summary {
        try validate(options)
        if let digits, digits.pixelsPerImage != 784 {
            throw MLPError("the scatter needs 28×28 test digits, got \(digits.rows)×\(digits.columns) images")
        }
        if let background, !(background == 0 || background == 1) {
            throw MLPError("the background value must be 0 or 1, got \(background)")
        }
        let clock = Stopwatch()
        try AtomicFile.createFolder(options.output)
        let layout = FrameLayout.shared
        let scatterDigits = digits.map { min($0.count, 1000) } ?? 0

        // Every point decoded in one batch: the circle, then the grid's lattice, then the fallback lattice.
        let frames = options.frames, grid = options.grid ?? 0
        let fallback = scatterDigits == 0 ? FrameLayout.fallbackLattice : 0
        var points = (0..<frames).map { circlePoint($0, of: frames) }
        points += lattice(grid) + lattice(fallback)
        let decodes = decoder.decode(points)
        let pixels = 784
        let gridDecodes = Array(decodes[frames * pixels ..< (frames + grid * grid) * pixels])
        let fallbackDecodes = Array(decodes[((frames + grid * grid) * pixels)...])

        let margins = marginMean(decodes)
        let paper: Float
        if let background {
            paper = background
            if (margins > 0.8 && background == 0) || (margins < 0.2 && background == 1) {
                log(String(format: "Note: the decoded images' margins average %.2f, which looks like background "
                           + "%.0f, but the data's background is %.0f: was the model trained on the other "
                           + "polarity (see --invert)?", margins, margins.rounded(), background))
            }
        } else {
            paper = margins > 0.5 ? 1 : 0
            log(String(format: "No data set to tell the polarity: the decoded images' margins average %.2f, so "
                       + "background %.0f is assumed (%@ digits on %@).", margins, paper,
                       paper == 1 ? "dark" : "light", paper == 1 ? "light" : "dark"))
        }

        // The static part of every frame, drawn once.
        var base: Canvas
        if let digits, scatterDigits > 0 {
            let showcase = Showcase(test: digits, seed: options.seed, background: paper, scatterCount: scatterDigits)
            let codes = decoder.encode(showcase.digits, count: showcase.labels.count)
            base = layout.background(digits: showcase.digits, labels: showcase.labels, codes: codes,
                                     background: paper)
        } else {
            base = layout.background(lattice: fallbackDecodes, size: fallback, background: paper)
        }

        // Frames, drawn and encoded in parallel; each worker takes every `workers`-th frame. Only the digit panel
        // and the marker change from frame to frame, so the encoder compresses the rest once.
        let encoder = try PNGFile.SequenceEncoder(base: base, columnSplits: [layout.scatter.x - 2])
        let workers = max(1, min(options.threads, frames))
        let lock = NSLock()
        var done = 0
        var failure: Error?
        // The GIF takes the frames in order: a worker leaves its frame here, and whoever holds the next one appends.
        let animation = options.gif ? try GIFWriter(width: layout.width, height: layout.height, delay: options.gifDelay) : nil
        var waiting: [Int: Canvas] = [:], nextForGIF = 0
        let gifLock = NSLock()
        forEachWorker(workers) { worker in
            var frame = base       // this worker's canvas: reset from the base before each frame, never reallocated
            for index in stride(from: worker, to: frames, by: workers) {
                if lock.withLock({ failure != nil }) { return }
                let path = options.output + "/" + frameName(index + 1)
                do {
                    decodes.withUnsafeBufferPointer { all in
                        layout.draw(on: &frame, base: base,
                                    decode: UnsafeBufferPointer(rebasing: all[index * pixels ..< (index + 1) * pixels]),
                                    point: points[index], number: index + 1, of: frames, background: paper)
                    }
                    try encoder.write(frame, to: path, durable: false)
                    if let animation {
                        lock.withLock { waiting[index] = frame }
                        // One worker appends at a time; the others go on drawing (what they leave is appended
                        // by the next worker to get in, or after the loop).
                        if gifLock.try() {
                            defer { gifLock.unlock() }
                            while let next = lock.withLock({ waiting.removeValue(forKey: nextForGIF) }) {
                                try animation.append(next)
                                nextForGIF += 1
                            }
                        }
                    }
                } catch {
                    lock.withLock { if failure == nil { failure = error } }
                    return
                }
                lock.withLock {
                    done += 1
                    if done % 50 == 0 || done == frames { log("frames \(done)/\(frames)") }
                }
            }
        }
        if let failure { throw failure }
        try AtomicFile.syncFolder(options.output)     // the frames, flushed once rather than one by one
        if let animation {
            while let next = waiting.removeValue(forKey: nextForGIF) {
                try animation.append(next)
                nextForGIF += 1
            }
            try animation.finish(to: options.output + "/animation.gif")
        }

        if grid > 0 {
            try PNGFile.write(drawGrid(gridDecodes, size: grid, background: paper), to: options.output + "/grid.png")
        }
        let stale = try removeStaleFrames(in: options.output, above: frames)
        if stale > 0 { log("Removed \(stale) frames beyond frame \(frames) left by an earlier run.") }
        return Summary(frames: frames, frameWidth: layout.width, frameHeight: layout.height, grid: options.grid,
                       scatterDigits: scatterDigits, background: paper, staleFramesRemoved: stale,
                       seconds: clock.seconds)
    }

    /// Throws an error naming the option at fault when `options` cannot be run.
    public static func validate(_ options: Options) throws {
        guard (1...9999).contains(options.frames) else {
            throw MLPError("--frames must be between 1 and 9999 (frame names have four digits), got \(options.frames)")
        }
        if let grid = options.grid, !(1...64).contains(grid) {
            throw MLPError("--grid must be between 1 and 64, got \(grid)")
        }
        try TrainingOptions.validate(threads: options.threads)
        guard !options.output.isEmpty else { throw MLPError("--output must name a folder") }
        guard (1...65_535).contains(options.gifDelay) else {
            throw MLPError("--gif-delay must be between 1 and 65535 hundredths of a second, got \(options.gifDelay)")
        }
    }

    /// The mean value of the outer ring (first and last rows and columns) of 28 × 28 images.
    static func marginMean(_ images: [Float]) -> Float {
        let count = images.count / 784
        guard count > 0 else { return 1 }
        var sum = 0.0
        for i in 0..<count {
            let base = i * 784
            for k in 0..<28 {
                sum += Double(images[base + k] + images[base + 27 * 28 + k])
                if k > 0 && k < 27 { sum += Double(images[base + k * 28] + images[base + k * 28 + 27]) }
            }
        }
        return Float(sum / Double(count * 108))
    }

    /// Removes `frame-NNNN.png` files numbered above `count` from `folder`; returns how many went.
    static func removeStaleFrames(in folder: String, above count: Int) throws -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var removed = 0
        for name in names where name.hasPrefix("frame-") && name.hasSuffix(".png") {
            let number = name.dropFirst(6).dropLast(4)
            guard number.count >= 4, number.allSatisfy(\.isASCII), let n = Int(number), n > count,
                  name == frameName(n) else { continue }
            do {
                try FileManager.default.removeItem(atPath: folder + "/" + name)
                removed += 1
            } catch {
                throw MLPError("cannot remove the stale frame \(folder)/\(name): \(error.localizedDescription)")
            }
        }
        return removed
    }
}
