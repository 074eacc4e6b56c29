// Any picture of a digit made ready for a 28×28 model: grey, resized by area averaging, in the model's polarity.
import MLPData
import MLPImaging
import MLPKit

/// An image file as a model's 784 inputs.
public struct DigitImage: Sendable {
    /// 28 × 28 values in [0, 1], row by row, in the polarity the model was trained on.
    public let pixels: [Float]
    /// The file's size.
    public let originalWidth: Int
    public let originalHeight: Int
    /// Whether the values were flipped (1 − x) to match the model's background.
    public let inverted: Bool

    /// Reads the PNG at `path` (any colour type; libpng converts it to grey, compositing transparency on
    /// white), resizes it to 28 × 28 by area averaging (each output pixel is the mean of the part of the image it
    /// covers, fractions of pixels weighted by their overlap: a box filter, exact for whole-number scale factors),
    /// and flips it when its background differs from `background` (0 or 1; nil keeps it as it is). The image's
    /// background is read off its outer ring of pixels: a mean above ½ means light paper.
    public init(contentsOf path: String, background: Float?) throws {
        let image = try PNGFile.readGray(path)
        originalWidth = image.width
        originalHeight = image.height
        let values = image.pixels.map { Float($0) / 255 }
        let resized = Self.resize(values, width: image.width, height: image.height, to: 28, 28)
        let paper: Float = Self.ringMean(resized, side: 28) > 0.5 ? 1 : 0
        inverted = background.map { $0 != paper } ?? false
        pixels = inverted ? resized.map { 1 - $0 } : resized
    }

    /// `values` (width × height) resized to `outWidth` × `outHeight` by area averaging, one axis at a time.
    static func resize(_ values: [Float], width: Int, height: Int, to outWidth: Int, _ outHeight: Int) -> [Float] {
        let rows = (0..<height).flatMap { y in resample(Array(values[y * width ..< (y + 1) * width]), to: outWidth) }
        var out = [Float](repeating: 0, count: outWidth * outHeight)
        for x in 0..<outWidth {
            let column = (0..<height).map { rows[$0 * outWidth + x] }
            for (y, v) in resample(column, to: outHeight).enumerated() { out[y * outWidth + x] = v }
        }
        return out
    }

    /// One line of samples resampled to `count` by area averaging: output i covers [i·n/count, (i+1)·n/count).
    static func resample(_ line: [Float], to count: Int) -> [Float] {
        let n = line.count
        return (0..<count).map { i in
            let start = Double(i * n) / Double(count), end = Double((i + 1) * n) / Double(count)
            var sum = 0.0
            var j = Int(start)
            while Double(j) < end, j < n {
                let overlap = min(end, Double(j + 1)) - max(start, Double(j))
                sum += overlap * Double(line[j])
                j += 1
            }
            return Float(sum / (end - start))
        }
    }

    /// Mean of the outer ring of a side × side image.
    static func ringMean(_ values: [Float], side: Int) -> Float { ringMean(values, width: side, height: side) }

    /// Mean of the outer ring of a width × height image.
    static func ringMean(_ values: [Float], width: Int, height: Int) -> Float {
        var sum: Float = 0, count = 0
        for y in 0..<height {
            for x in 0..<width where y == 0 || y == height - 1 || x == 0 || x == width - 1 {
                sum += values[y * width + x]
                count += 1
            }
        }
        return sum / Float(count)
    }
}

/// What a trained model is, as `predict` and `evaluate` use it.
public enum DigitModel {
    /// A classifier of 28 × 28 images with a softmax output of `classes` units.
    case classifier(MLP, classes: Int)
    /// An autoencoder of 28 × 28 images whose 2-D bottleneck layer is named "latent".
    case autoencoder(MLP)

    /// Loads the model at `path` and tells which it is; a model that is neither gets an error saying why.
    public init(contentsOf path: String) throws {
        let net = try MLP(contentsOf: path)
        guard net.inputSize == 784 else {
            throw MLPError("\(path): the model takes \(net.inputSize) inputs; digit images are 28×28 = 784")
        }
        if let latent = net.layers.firstIndex(where: { $0.name == "latent" }), net.outputSize == 784 {
            let width = net.layers[latent].outputSize
            guard width == 2 else {
                throw MLPError("\(path): layer \"latent\" has \(width) units; predict shows 2-D codes")
            }
            self = .autoencoder(net)
        } else if case .softmax = net.layers.last!.activation, net.outputSize >= 2 {
            self = .classifier(net, classes: net.outputSize)
        } else {
            throw MLPError("\(path): neither a classifier (softmax output) nor an autoencoder (784 outputs and a "
                           + "2-D layer named \"latent\")")
        }
    }

    /// The network.
    public var network: MLP {
        switch self {
        case .classifier(let net, _), .autoencoder(let net): net
        }
    }

    /// The value of a blank pixel in the data the model was trained on, as its file records it (nil when the file
    /// predates the record or the data had no dominant value).
    public var background: Float? {
        switch network.notes["input_background"] {
        case "0": 0
        case "1": 1
        default: nil
        }
    }
}

extension DigitModel {
    /// The value of a blank pixel in `images`: the value (0 or 1) that fills at least half of them, else nil.
    public static func background(of images: Dataset) -> Float? {
        guard let dominant = TrainingSet.dominantValue(of: images.pixels), dominant.fraction >= 0.5 else { return nil }
        return dominant.value
    }

    /// `background(of:)` as a model file's `input_background` note records it: "0", "1" or "unknown".
    static func backgroundNote(of images: Dataset) -> String {
        background(of: images).map { $0 == 1 ? "1" : "0" } ?? "unknown"
    }
}
