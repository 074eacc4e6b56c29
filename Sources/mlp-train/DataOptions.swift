// `--data`, `--invert`, `--no-download`: where the digits come from, shared by the commands that read MNIST.
import ArgumentParser
import Foundation
import MLPData
import MLPImaging
import MLPJobs
import MLPKit

struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Folder holding MNIST: PNG mosaics (train/0.png …) or IDX files (.gz or plain).",
                               discussion: "Default: $MLP_DATA, else Data/mnist (IDX files from `mlp-train download`), else Data/mnist-png (the digits that ship with the project)."))
    var data: String?

    @Flag(help: "Use 1 − x for every pixel (flip the polarity of the digits).")
    var invert = false

    @Flag(help: "Never download MNIST; fail if no data is found.")
    var noDownload = false

    /// Where `mlp-train download` puts the IDX files when there is no project `Data` folder.
    static let downloadFolder = "Data/mnist"

    /// Loads MNIST from --data, $MLP_DATA, or the project's Data folder (the downloaded IDX files in Data/mnist,
    /// else the shipped digits in Data/mnist-png); downloads into Data/mnist only when none of these exists.
    func load() throws -> MNIST {
        let folder = try resolveFolder()
        let clock = Stopwatch()
        var digits = try MNIST.load(from: folder)
        if invert {
            digits = MNIST(train: digits.train.inverted(), test: digits.test.inverted(), format: digits.format)
        }
        report(train: digits.train.count, test: digits.test.count, folder: folder, format: digits.format,
               seconds: clock.seconds)
        return digits
    }

    /// Loads the test digits alone (for the jobs that look at no training digit), with their background value
    /// (after --invert).
    func loadTest() throws -> (test: Dataset, background: Float) {
        let folder = try resolveFolder()
        let clock = Stopwatch()
        let (test, format) = try MNIST.loadTest(from: folder)
        report(train: 0, test: test.count, folder: folder, format: format, seconds: clock.seconds)
        return (invert ? test.inverted() : test, invert ? 1 - format.background : format.background)
    }

    private func report(train: Int, test: Int, folder: String, format: MNIST.Format, seconds: Double) {
        printError(String(format: "Loaded %d training and %d test digits from %@ (%@, %@: background %@) in %.2f s",
                          train, test, folder, format.rawValue, invert ? "inverted" : "as stored",
                          String(invert ? 1 - format.background : format.background), seconds))
    }

    /// The folder to read: --data, $MLP_DATA, the project's Data folder, or a fresh download.
    private func resolveFolder() throws -> String {
        let folder: String
        if let data {
            folder = data
        } else if let fromEnvironment = ProcessInfo.processInfo.environment["MLP_DATA"], !fromEnvironment.isEmpty {
            guard FileManager.default.fileExists(atPath: fromEnvironment) else {
                throw MLPError("MLP_DATA is set to \(fromEnvironment), which does not exist "
                               + "(unset it to use the project's Data folder, or pass --data)")
            }
            folder = fromEnvironment
        } else if let shipped = MNIST.defaultFolder() {
            folder = shipped
        } else {
            folder = Self.downloadFolder
            guard !noDownload else {
                throw MLPError("no MNIST data: no Data/mnist or Data/mnist-png here or above the program, and "
                               + "--no-download was given: run `mlp-train download`, or pass --data FOLDER")
            }
            let downloader = MNISTDownloader(log: { printError($0) })
            printError("No MNIST data found (no Data/mnist-png here or above the program): downloading the four "
                       + "IDX files (about 11 MB) from \(MNISTDownloader.defaultMirrors.first ?? "a public mirror") "
                       + "into \(folder) (--no-download refuses).")
            try downloader.download(into: folder)
        }
        return folder
    }
}
