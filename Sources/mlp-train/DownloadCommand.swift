// `mlp-train download`: fetch MNIST's four IDX files into Data/mnist, checking their published MD5 sums.
import ArgumentParser
import MLPData
import MLPImaging
import MLPJobs
import MLPKit

struct DownloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download the MNIST IDX files (about 11 MB) and verify their MD5 sums.",
        discussion: "Tries \(MNISTDownloader.defaultMirrors.joined(separator: " then ")). Files already present "
            + "with the right checksum are kept.")

    @Option(help: "Folder to download into.")
    var output: String = DataOptions.downloadFolder

    @Option(help: "Seconds without data before a transfer is abandoned.")
    var timeout: Double = 30

    func validate() throws {
        guard timeout.isFinite, timeout > 0 else { throw ValidationError("--timeout must be positive, got \(timeout)") }
    }

    func run() throws {
        var downloader = MNISTDownloader(log: { printError($0) })
        downloader.timeout = timeout
        try downloader.download(into: output)
        print("MNIST is in \(output)")
    }
}
