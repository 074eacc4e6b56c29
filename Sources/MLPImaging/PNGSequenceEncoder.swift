// Encoding animation frames that differ from one base image only here and there, much faster than one by one.
import MLPKit
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CPNG
import CZlib

extension PNGFile {
    /// Encodes animation frames that differ from one base image only here and there (a marker moving over a
    /// fixed plot, a panel that changes beside it) several times faster than encoding each frame afresh.
    ///
    /// Every row is cut into pieces at `columnSplits`. Each piece of the base is deflated once, on its own
    /// (the stream is fully flushed after it, so it refers to nothing before it); a frame's compressed data is
    /// then those stored pieces wherever the frame matches the base, and freshly deflated runs elsewhere, so
    /// only the pixels that changed are compressed again. Rows use PNG's "Up" filter, which turns repeated rows
    /// (enlarged images, flat backgrounds) into zeros; a changed piece that repeats the row above is likewise
    /// taken from a stored run of zeros. The files are ordinary RGB PNGs that any reader opens.
    /// An encoder holds only immutable data after it is made, so several threads may encode with it at once.
    public struct SequenceEncoder: Sendable {
        /// Width of the base and of every frame, in pixels.
        public let width: Int
        /// Height of the base and of every frame, in pixels.
        public let height: Int
        /// The zlib level of the parts that changed: low, since they are compressed once per frame.
        public let level: Int32
        /// Byte ranges (within a row of pixels) of the pieces each row is cut into.
        private let bands: [Range<Int>]
        /// The base image's pixels, to find the pieces a frame changed.
        private let base: [UInt8]
        /// The deflated pieces of the base, row after row, band after band: piece p is
        /// `deflated[offsets[p] ..< offsets[p + 1]]`; `adlers[p]` is the Adler-32 of its filtered bytes.
        private let deflated: [UInt8]
        private let offsets: [Int]
        private let adlers: [UInt32]
        /// Per band, the deflated piece of a row that repeats the row above (all zeros after the Up filter), which
        /// enlarged images and flat areas of a frame are mostly made of, and its Adler-32.
        private let repeated: [[UInt8]]
        private let repeatedAdlers: [UInt32]

        /// Prepares to encode frames of `base`'s size, cutting rows at the pixel columns `columnSplits` (put a
        /// cut at the edge of each region that changes from frame to frame; each cut costs about 10 bytes per
        /// row). The base is compressed here, once, at zlib level 9.
        public init(base: Canvas, columnSplits: [Int] = [], level: Int32 = 2) throws {
            guard base.width > 0, base.height > 0 else {
                throw MLPError("cannot encode PNG frames: image size \(base.width)x\(base.height) is empty")
            }
            guard base.width <= 1 << 24, base.height <= 1 << 24 else {
                throw MLPError("cannot encode PNG frames: image size \(base.width)x\(base.height) is too large")
            }
            width = base.width
            height = base.height
            self.level = min(max(level, 1), 9)
            let cuts = [0] + Set(columnSplits.filter { $0 > 0 && $0 < base.width }).sorted() + [base.width]
            bands = (1..<cuts.count).map { 3 * cuts[$0 - 1] ..< 3 * cuts[$0] }
            self.base = base.pixels

            // Filter each piece as a frame would and deflate it on its own.
            let stream = try Deflater(level: 9, memoryLevel: 9)
            var deflated: [UInt8] = [], offsets = [0], adlers: [UInt32] = []
            var filtered: [UInt8] = []
            for y in 0..<height {
                for band in bands.indices {
                    filtered.removeAll(keepingCapacity: true)
                    Self.filterPiece(base.pixels, row: y, band: band, bands: bands, width: width, into: &filtered)
                    adlers.append(Self.adler(filtered))
                    try stream.compress(filtered, appendingTo: &deflated)
                    offsets.append(deflated.count)
                }
            }
            var repeated: [[UInt8]] = [], repeatedAdlers: [UInt32] = []
            for (i, band) in bands.enumerated() {
                let zeros = (i == 0 ? [2] : []) + [UInt8](repeating: 0, count: band.count)
                var piece: [UInt8] = []
                try stream.compress(zeros, appendingTo: &piece)
                repeated.append(piece)
                repeatedAdlers.append(Self.adler(zeros))
            }
            self.deflated = deflated
            self.offsets = offsets
            self.adlers = adlers
            self.repeated = repeated
            self.repeatedAdlers = repeatedAdlers
        }

        /// The PNG file's bytes for `frame`, which must have the base's size.
        public func encode(_ frame: Canvas) throws -> [UInt8] {
            guard frame.width == width, frame.height == height else {
                throw MLPError("cannot encode PNG frame: it is \(frame.width)x\(frame.height), the sequence is "
                               + "\(width)x\(height)")
            }
            // A piece of the base is reused when it, and the same piece of the row above (the Up filter reads it),
            // match the base; a piece that repeats the row above is the band's stored run of zeros.
            let rowBytes = 3 * width
            var same = [Bool](repeating: false, count: height * bands.count)
            frame.pixels.withUnsafeBytes { f in
                base.withUnsafeBytes { b in
                    for y in 0..<height {
                        for (i, band) in bands.enumerated() {
                            let start = y * rowBytes + band.lowerBound
                            same[y * bands.count + i] = memcmp(f.baseAddress! + start, b.baseAddress! + start,
                                                               band.count) == 0
                        }
                    }
                }
            }

            var idat: [UInt8] = [0x78, 0x01]         // zlib header: deflate, 32 KiB window, no dictionary
            idat.reserveCapacity(deflated.count + 1024)
            var adler: UInt32 = 1
            var stream: Deflater?
            var run: [UInt8] = []
            func flushRun() throws {
                guard !run.isEmpty else { return }
                if stream == nil { stream = try Deflater(level: level, memoryLevel: 5, strategy: Z_RLE) }
                adler = Self.combine(adler, Self.adler(run), length: run.count)
                try stream?.compress(run, appendingTo: &idat)
                run.removeAll(keepingCapacity: true)
            }
            for y in 0..<height {
                for i in bands.indices {
                    let piece = y * bands.count + i
                    if same[piece] && (y == 0 || same[piece - bands.count]) {
                        try flushRun()
                        idat += deflated[offsets[piece] ..< offsets[piece + 1]]
                        adler = Self.combine(adler, adlers[piece], length: bands[i].count + (i == 0 ? 1 : 0))
                    } else if y > 0, Self.repeatsRowAbove(frame.pixels, row: y, bytes: bands[i], width: width) {
                        try flushRun()
                        idat += repeated[i]
                        adler = Self.combine(adler, repeatedAdlers[i], length: bands[i].count + (i == 0 ? 1 : 0))
                    } else {
                        Self.filterPiece(frame.pixels, row: y, band: i, bands: bands, width: width, into: &run)
                    }
                }
            }
            try flushRun()
            idat += [0x03, 0x00]                      // an empty final block ends the deflate stream
            idat += Self.bigEndian(adler)

            var png = PNGFile.signature
            png.reserveCapacity(idat.count + 64)
            Self.appendChunk("IHDR", Self.bigEndian(UInt32(width)) + Self.bigEndian(UInt32(height)) + [8, 2, 0, 0, 0],
                             to: &png)                // 8-bit RGB, deflate, adaptive filtering, no interlace
            Self.appendChunk("IDAT", idat, to: &png)
            Self.appendChunk("IEND", [], to: &png)
            return png
        }

        /// Writes `frame` to `path` as a PNG, atomically, like ``PNGFile/write(_:to:)``; `durable: false` leaves
        /// the flush to the disk to one `AtomicFile.syncFolder` after the last frame.
        public func write(_ frame: Canvas, to path: String, durable: Bool = true) throws {
            let bytes: [UInt8]
            do {
                bytes = try encode(frame)
            } catch let error as MLPError {
                throw MLPError("cannot write \(path): \(error.message)")
            }
            try AtomicFile.write(bytes, to: path, durable: durable)
        }

        // MARK: Internals

        /// True when bytes `bytes` of row `row` of `pixels` equal those of the row above.
        private static func repeatsRowAbove(_ pixels: [UInt8], row y: Int, bytes: Range<Int>, width: Int) -> Bool {
            pixels.withUnsafeBytes { p in
                let start = p.baseAddress! + y * 3 * width + bytes.lowerBound
                return memcmp(start, start - 3 * width, bytes.count) == 0
            }
        }

        /// Appends piece (`row`, `band`) of `pixels` with the Up filter applied, led by the filter-type byte
        /// (2) when it is the row's first piece.
        private static func filterPiece(_ pixels: [UInt8], row y: Int, band: Int, bands: [Range<Int>], width: Int,
                                        into output: inout [UInt8]) {
            if band == 0 { output.append(2) }
            let range = bands[band], start = y * 3 * width + range.lowerBound, count = range.count
            let old = output.count
            pixels.withUnsafeBufferPointer { p in
                let source = p.baseAddress! + start
                output.append(contentsOf: UnsafeBufferPointer(start: source, count: count))
                guard y > 0 else { return }
                let above = source - 3 * width
                output.withUnsafeMutableBufferPointer { o in
                    let target = o.baseAddress! + old
                    for i in 0..<count { target[i] &-= above[i] }
                }
            }
        }

        private static func adler(_ bytes: [UInt8]) -> UInt32 {
            bytes.withUnsafeBufferPointer { UInt32(adler32(1, $0.baseAddress, UInt32($0.count))) }
        }

        /// The Adler-32 of two byte strings one after the other, from each one's checksum (zlib's
        /// adler32_combine, written out: the C name may be a macro).
        private static func combine(_ first: UInt32, _ second: UInt32, length: Int) -> UInt32 {
            let base: UInt64 = 65521
            let remainder = UInt64(length) % base
            var sum1 = UInt64(first & 0xFFFF)
            var sum2 = (remainder * sum1) % base
            sum1 += UInt64(second & 0xFFFF) + base - 1
            sum2 += UInt64(first >> 16) + UInt64(second >> 16) + base - remainder
            if sum1 >= base { sum1 -= base }
            if sum1 >= base { sum1 -= base }
            if sum2 >= base << 1 { sum2 -= base << 1 }
            if sum2 >= base { sum2 -= base }
            return UInt32(sum1 | (sum2 << 16))
        }

        private static func bigEndian(_ value: UInt32) -> [UInt8] {
            [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
        }

        /// Appends a PNG chunk: length, type, data, CRC-32 of type and data.
        private static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
            let typeBytes = Array(type.utf8)
            png += bigEndian(UInt32(data.count)) + typeBytes
            png += data
            var crc = typeBytes.withUnsafeBufferPointer { crc32(0, $0.baseAddress, UInt32($0.count)) }
            crc = data.withUnsafeBufferPointer { crc32(crc, $0.baseAddress, UInt32($0.count)) }
            png += bigEndian(UInt32(crc))
        }
    }

    /// A raw deflate stream whose every `compress` call ends in a full flush: its output is byte-aligned and
    /// refers to nothing before it, so outputs of separate calls (or separate streams) can be concatenated.
    private final class Deflater {
        private let stream: UnsafeMutablePointer<z_stream>
        /// Where deflate writes before the output is appended to the caller's array; grown as needed.
        private var scratch = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 16)

        init(level: Int32, memoryLevel: Int32, strategy: Int32 = Z_DEFAULT_STRATEGY) throws {
            stream = .allocate(capacity: 1)
            stream.initialize(to: z_stream())
            // -15: raw deflate (no zlib header or checksum of its own), 32 KiB window.
            guard deflateInit2_(stream, level, Z_DEFLATED, -15, memoryLevel, strategy, zlibVersion(),
                                Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                stream.deallocate()
                throw MLPError("cannot encode PNG: zlib could not start a deflate stream")
            }
        }

        deinit {
            deflateEnd(stream)
            stream.deallocate()
            scratch.deallocate()
        }

        /// Deflates `input` and appends the result, ending with a full flush.
        func compress(_ input: [UInt8], appendingTo output: inout [UInt8]) throws {
            let needed = input.count + input.count / 8 + 64
            if scratch.count < needed {
                scratch.deallocate()
                scratch = .allocate(capacity: needed)
            }
            try input.withUnsafeBufferPointer { source in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.pointee.avail_in = UInt32(source.count)
                repeat {
                    stream.pointee.next_out = scratch.baseAddress
                    stream.pointee.avail_out = UInt32(scratch.count)
                    let status = deflate(stream, Z_FULL_FLUSH)
                    guard status == Z_OK || status == Z_BUF_ERROR else {
                        throw MLPError("cannot encode PNG: zlib failed to deflate (status \(status))")
                    }
                    let produced = scratch.count - Int(stream.pointee.avail_out)
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[..<produced]))
                } while stream.pointee.avail_out == 0
            }
        }
    }
}
