// `--data`, `--invert`, `--no-download`: where the digits come from, shared by the commands that read MNIST.
import ArgumentParser
import Foundation
import MLPData
import MLPImaging
import MLPJobs
import MLPKit

struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Folder holding MNIST: PNG mosaics (train/0.png …) or IDX files (.gz or plain).",
                               discussion: "Default: $MLP_DATA, else Data/mnist (downloaded there when missing)."))
    var data: String?

    @Flag(help: "Use 1 − x for every pixel (flip the polarity of the digits).")
    var invert = false

    @Flag(help: "Never download MNIST; fail if no data is found.")
    var noDownload = false

    /// The default folder when neither --data nor $MLP_DATA is given.
    static let defaultFolder = "Data/mnist"

    /// Loads MNIST from --data, $MLP_DATA or Data/mnist, downloading into Data/mnist when that is empty.
    func load() throws -> MNIST {
        let folder: String
        if let data {
            folder = data
        } else if let fromEnvironment = ProcessInfo.processInfo.environment["MLP_DATA"], !fromEnvironment.isEmpty {
            guard FileManager.default.fileExists(atPath: fromEnvironment) else {
                throw MLPError("MLP_DATA is set to \(fromEnvironment), which does not exist "
                               + "(unset it to use \(Self.defaultFolder), or pass --data)")
            }
            folder = fromEnvironment
        } else {
            folder = Self.defaultFolder
            if (try? MNIST.detectFormat(in: folder)) == nil {
                guard !noDownload else {
                    throw MLPError("no MNIST data in \(folder) and --no-download was given: run "
                                   + "`mlp-train download`, or pass --data FOLDER")
                }
                let downloader = MNISTDownloader(log: { printError($0) })
                printError("No MNIST data in \(folder): downloading the four IDX files (about 11 MB) from "
                           + "\(MNISTDownloader.defaultMirrors.first ?? "a public mirror") into \(folder) "
                           + "(--no-download refuses).")
                try downloader.download(into: folder)
            }
        }
        let clock = Stopwatch()
        var digits = try MNIST.load(from: folder)
        if invert {
            digits = MNIST(train: digits.train.inverted(), test: digits.test.inverted(), format: digits.format)
        }
        printError(String(format: "Loaded %d training and %d test digits from %@ (%@, %@: background %@) in %.2f s",
                          digits.train.count, digits.test.count, folder, digits.format.rawValue,
                          invert ? "inverted" : "as stored",
                          String(invert ? 1 - digits.format.background : digits.format.background), clock.seconds))
        return digits
    }
}
