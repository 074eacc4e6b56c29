// `pca`: the linear baseline for the autoencoder — the top two principal components of the training digits.
import MLPData
import MLPImaging
import MLPKit

/// Fits PCA to the training digits, scores reconstructions on the test digits, and draws the autoencoder's figure.
public enum PCADemo {
    /// What to run and where to write it.
    public struct Options: Sendable {
        /// Number of components (2 for the figure and the comparison with the autoencoder).
        public var components = 2
        /// Worker threads for the covariance.
        public var threads = 1
        /// Fixes the digits shown.
        public var seed: UInt64 = 0
        /// Folder for summary.json and figure.png; nil writes nothing.
        public var output: String? = "Output/pca"

        /// Two components, as the homework compares.
        public init() {}
    }

    /// What `summary.json` holds.
    public struct Summary: Sendable, Codable {
        public let components: Int
        /// Fraction of the training images' variance captured by the components.
        public let varianceExplained: Double
        /// Mean test reconstruction loss per image (sum of squares, reconstructions clipped to [0, 1]).
        public let testLoss: Double
        /// The same on the training images.
        public let trainLoss: Double
        public let variances: [Double]
        public let totalVariance: Double
        public let seconds: Double

        enum CodingKeys: String, CodingKey {
            case components, variances, seconds
            case varianceExplained = "variance_explained", testLoss = "test_loss", trainLoss = "train_loss"
            case totalVariance = "total_variance"
        }
    }

    /// Fits, scores and draws.
    public static func run(_ options: Options, data: MNIST) throws -> Summary {
        let clock = Stopwatch()
        if let folder = options.output { try AtomicFile.createFolder(folder) }
        let pca = try PCA(fitting: data.train, components: options.components, threads: options.threads)
        let summary = Summary(components: options.components, varianceExplained: pca.varianceExplained,
                              testLoss: pca.reconstructionLoss(data.test),
                              trainLoss: pca.reconstructionLoss(data.train),
                              variances: pca.variances, totalVariance: pca.totalVariance, seconds: clock.seconds)
        if let folder = options.output {
            try JSONFile.write(summary, to: folder + "/summary.json")
            if options.components >= 2 {
                let showcase = Showcase(test: data.test, seed: options.seed, background: data.format.background)
                let exampleCount = showcase.examples.count / 784
                let reconstructions = (0..<exampleCount).flatMap { i in
                    pca.reconstruct(pca.project(showcase.examples[i * 784 ..< (i + 1) * 784]))
                }
                let codes = (0..<showcase.labels.count).map { i -> (Double, Double) in
                    let c = pca.project(showcase.digits[i * 784 ..< (i + 1) * 784])
                    return (c[0], c[1])
                }
                let title = String(format: "PCA, 2 components - %.2f%% of the variance - test loss %.2f",
                                   100 * summary.varianceExplained, summary.testLoss)
                let figure = LatentFigure.draw(title: title, examples: showcase.examples,
                                               reconstructions: reconstructions, digits: showcase.digits,
                                               codes: codes, labels: showcase.labels,
                                               background: showcase.background, axisLabels: ("PC 1", "PC 2"))
                try PNGFile.write(figure, to: folder + "/figure.png")
            }
        }
        return summary
    }
}
