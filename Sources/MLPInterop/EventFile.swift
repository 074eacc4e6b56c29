// A TensorBoard event file: scalars, PNG images and histograms as `Event` records, framed as TFRecord frames them.
import Foundation
import MLPKit
import SwiftProtobuf

/// Appends a run's events to `events.out.tfevents.<seconds>.<host>` in a folder, for `tensorboard --logdir`.
///
/// Records are gathered in memory and written when 64 KB have gathered and at each `flush` (a run's epochs), as
/// TensorFlow's writer does: a crash loses at most the events since. Each record is framed as TFRecord frames it:
/// the length (8 bytes, little-endian), its masked CRC-32C, the `Event`'s bytes and their masked CRC-32C. The
/// file starts with the `brain.Event:2` version event. A run resumed at step s writes a new file in the same
/// folder starting with a `SessionLog` START at s: TensorBoard then drops the events of steps after s that the
/// interrupted run had written, so the logical run has no step twice.
package final class EventFile {
    /// The file's path.
    package let path: String
    private let handle: FileHandle
    /// Records not yet written.
    private var pending: [UInt8] = []

    /// A new event file in `folder` (made if missing); `resumingAt` writes the START marker at that step.
    package init(folder: String, resumingAt step: Int? = nil) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let now = Date().timeIntervalSince1970
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
        var candidate = folder + "/events.out.tfevents.\(Int(now)).\(host)"
        var suffix = 1
        while FileManager.default.fileExists(atPath: candidate) {
            candidate = folder + "/events.out.tfevents.\(Int(now)).\(host).\(suffix)"
            suffix += 1
        }
        path = candidate
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw MLPError("\(path): cannot create the TensorBoard event file")
        }
        self.handle = handle
        var version = Tensorboard_Event()
        version.wallTime = now
        version.fileVersion = "brain.Event:2"
        try write(version)
        defer { try? flush() }
        if let step {
            var start = Tensorboard_Event()
            start.wallTime = now
            start.step = Int64(step)
            var log = Tensorboard_SessionLog()
            log.status = .start
            start.sessionLog = log
            try write(start)
        }
    }

    deinit {
        try? flush()
        try? handle.close()
    }

    /// A number at `step` (`tag` as TensorBoard groups it: `loss/train`).
    package func scalar(_ tag: String, _ value: Double, step: Int) throws {
        var entry = Tensorboard_Summary.Value()
        entry.tag = tag
        entry.simpleValue = Float(value)
        try summary(entry, step: step)
    }

    /// A PNG image at `step`.
    package func image(_ tag: String, png: [UInt8], width: Int, height: Int, step: Int) throws {
        var image = Tensorboard_Summary.Image()
        image.width = Int32(width)
        image.height = Int32(height)
        image.colorspace = 3
        image.encodedImageString = Data(png)
        var entry = Tensorboard_Summary.Value()
        entry.tag = tag
        entry.image = image
        try summary(entry, step: step)
    }

    /// The distribution of `values` at `step`, in `buckets` equal buckets between their least and largest value.
    /// Each value is divided by `divisor` first (a summed gradient's mean); the values are read in place.
    package func histogram(_ tag: String, _ values: UnsafeBufferPointer<Float>, dividedBy divisor: Float = 1, step: Int,
                           buckets: Int = 30) throws {
        var histogram = Tensorboard_HistogramProto()
        var least = Float.infinity, most = -Float.infinity, sum = 0.0, squares = 0.0
        for raw in values {
            let value = raw / divisor
            least = min(least, value)
            most = max(most, value)
            sum += Double(value)
            squares += Double(value) * Double(value)
        }
        let low = values.isEmpty ? 0 : Double(least), high = values.isEmpty ? 0 : Double(most)
        histogram.min = low
        histogram.max = high
        histogram.num = Double(values.count)
        histogram.sum = sum
        histogram.sumSquares = squares
        let width = high > low ? (high - low) / Double(buckets) : 1
        var counts = [Double](repeating: 0, count: buckets)
        for raw in values { counts[min(buckets - 1, Int((Double(raw / divisor) - low) / width))] += 1 }
        histogram.bucketLimit = (1...buckets).map { low + Double($0) * width }
        histogram.bucket = counts
        var entry = Tensorboard_Summary.Value()
        entry.tag = tag
        entry.histo = histogram
        try summary(entry, step: step)
    }

    /// Writes the records gathered so far to the file.
    package func flush() throws {
        guard !pending.isEmpty else { return }
        do {
            try handle.write(contentsOf: pending)
        } catch {
            throw MLPError("\(path): cannot write the TensorBoard events: \(error)")
        }
        pending.removeAll(keepingCapacity: true)
    }

    private func summary(_ value: Tensorboard_Summary.Value, step: Int) throws {
        var event = Tensorboard_Event()
        event.wallTime = Date().timeIntervalSince1970
        event.step = Int64(step)
        var summary = Tensorboard_Summary()
        summary.value = [value]
        event.summary = summary
        try write(event)
    }

    /// One record: length, its masked CRC, the event, its masked CRC.
    private func write(_ event: Tensorboard_Event) throws {
        let data: [UInt8] = try event.serializedBytes()
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian, Array.init)
        pending += length
        pending += withUnsafeBytes(of: CRC32C.masked(length).littleEndian, Array.init)
        pending += data
        pending += withUnsafeBytes(of: CRC32C.masked(data).littleEndian, Array.init)
        if pending.count >= 1 << 16 { try flush() }
    }
}
