// `mlp-train pack`: data converted once into a packed file that training maps instead of reading.
import ArgumentParser
import Foundation
import MLPData
import MLPJobs
import MLPKit

extension PackedDataWriter.ElementType: ExpressibleByArgument {}

struct PackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Convert --data (CSV, IDX, PNG class folders, the MNIST mosaics) into one packed safetensors file.",
        discussion: """
            The file holds x [samples, features…] as U8, F16 or F32 and y (class indices, the names in the \
            metadata, or numbers), with the features' names and standardization statistics in the metadata. \
            `train --data FILE.safetensors` maps it: its rows are read from the page cache as batches need them, \
            so memory does not grow with its size. A CSV file is packed a stretch of rows at a time; images are \
            read whole, as bytes. The file appears only when it is complete.
            """)

    @Option(help: "The data to pack, as `train --data` takes it.")
    var data: String

    @Option(help: "The packed file to write (.safetensors).")
    var output: String

    @Option(help: "x's stored type: u8, f16 or f32 (default: u8 for images, f32 for tables).")
    var dtype: PackedDataWriter.ElementType?

    @Option(help: "The CSV column(s) to predict, comma-separated (default: the last).")
    var target: String?

    @Option(help: "Which split of a folder that holds two (MNIST's): train or test.")
    var split: String = "train"

    func validate() throws {
        guard output.lowercased().hasSuffix(".safetensors") else {
            throw ValidationError("--output must name a .safetensors file, not \(output)")
        }
        guard split == "train" || split == "test" else { throw ValidationError("--split is train or test, not \(split)") }
    }

    func run() throws {
        var options = PackJob.Options(data: data, output: output)
        options.type = dtype
        options.targets = target.map { $0.split(separator: ",").map(String.init) }
        options.role = split == "test" ? .test : .train
        var progress = ProgressLine()
        let clock = Stopwatch()
        let summary = try PackJob.run(options) { rows, bytes in
            progress.update(String(format: "%d rows  %.0f MB read  %.0f MB/s", rows, Double(bytes) / 1e6,
                                   Double(bytes) / 1e6 / max(clock.seconds, 1e-9)))
        }
        progress.finish(String(format: "packed %d rows of %d features (%@%@) into %@: %.1f MB from %.1f MB in %.1f s "
                               + "(%.0f MB/s read)", summary.rows, summary.features, summary.dtype,
                               summary.classes.map { ", \($0) classes" } ?? "", output,
                               Double(summary.bytesWritten) / 1e6, Double(summary.bytesRead) / 1e6, summary.seconds,
                               Double(summary.bytesRead) / 1e6 / max(summary.seconds, 1e-9)))
    }
}
