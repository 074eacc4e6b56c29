// MNIST for the tests that train on the real digits, loaded once, and the reference figures computed without
// MLPKit: these tests skip without the digits, and fail without them under CI.
import Foundation
import MLPData
import MLPKit

/// The project's root folder (this file is Tests/Support/MNISTFixture.swift).
package let projectFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A file of Tests/References: golden values and the independent script that computed them.
package func referenceFile(_ name: String) -> URL {
    projectFolder.appendingPathComponent("Tests/References/" + name)
}

/// The folder MNIST tests read: $MLP_DATA when set, else the digits that ship with the project (Data/mnist-png).
package let mnistFolder: String = {
    if let folder = ProcessInfo.processInfo.environment["MLP_DATA"], !folder.isEmpty { return folder }
    return projectFolder.appendingPathComponent("Data/mnist-png").path
}()

/// MNIST, loaded once for all tests, or why it is not available.
package let sharedMNIST: Result<MNIST, MLPError> = {
    do { return .success(try MNIST.load(from: mnistFolder)) } catch {
        print("MNIST tests: \(error)")
        return .failure(MLPError("cannot load MNIST from \(mnistFolder) (set MLP_DATA to another copy): \(error)"))
    }
}()

/// True when MNIST loaded.
package let mnistAvailable = (try? sharedMNIST.get()) != nil

/// Reference figures computed from the PNG mosaics by an independent reader (zlib + numpy), with the script
/// beside them: `Tests/References/mnist_png_reference.py`.
package struct MosaicReference: Decodable {
    package struct Split: Decodable {
        package let count: Int
        package let class_counts: [Int]
        package let mean_pixel: Double
        package let background_share: Double
    }
    package struct PCA2: Decodable {
        package let variance_explained: Double
        package let test_loss: Double
    }
    package let train: Split
    package let test: Split
    package let pca2: PCA2

    package static func load() throws -> MosaicReference {
        try JSONDecoder().decode(MosaicReference.self, from: Data(contentsOf: referenceFile("mnist-png.json")))
    }
}

