// `mlp-train traverse`: decode a circle through a trained autoencoder's 2-D latent square into animation frames.
import ArgumentParser
import Foundation
import MLPData
import MLPImaging
import MLPJobs
import MLPKit

struct TraverseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traverse",
        abstract: "Walk a circle through a trained autoencoder's 2-D latent square and draw each decoded digit.",
        discussion: """
            Decodes --frames points on the circle of centre (0.5, 0.5) and radius 0.4 (point i at angle \
            2π·i/frames) and writes frame-0001.png … into --output: the decoded digit, enlarged, beside the codes \
            of 1,000 test digits with the current point marked. --grid K also writes grid.png, the decodes of a \
            K×K lattice of the latent square. The model must have a 2-D layer named "latent" followed by the \
            decoder, as `mlp-train autoencoder` writes.

            To make a video of the frames: ffmpeg -framerate 30 -i frame-%04d.png -pix_fmt yuv420p traverse.mp4
            """)

    @Option(help: "The autoencoder to decode with (a safetensors file written by `mlp-train autoencoder`).")
    var model: String = "Output/autoencoder/model.safetensors"

    @Option(help: "Points on the circle, one frame each (1–9999).")
    var frames: Int = 300

    @Option(help: "Also write grid.png: the decodes of a K×K lattice of the latent square (1–64).")
    var grid: Int?

    @Option(help: "Folder for the frames and grid.png.")
    var output: String = "Output/traverse"

    @OptionGroup var animation: GIFOptions

    @OptionGroup var threading: ThreadOptions
    @OptionGroup var dataOptions: DataOptions

    /// The job's options from the command line.
    var options: TraverseDemo.Options {
        var options = TraverseDemo.Options()
        options.frames = frames
        options.grid = grid
        options.output = output
        options.threads = threading.threads
        options.gif = animation.gif
        if let delay = animation.gifDelay { options.gifDelay = delay }
        return options
    }

    func validate() throws { try usage { try TraverseDemo.validate(options) } }

    func run() throws {
        let decoder = try TraverseDemo.Decoder(contentsOf: model)
        var digits: Dataset?
        var background: Float?
        do {
            (digits, background) = try dataOptions.loadTest()
        } catch {
            printError("Cannot load the test digits (\(error)): drawing the decoded lattice behind the path instead.")
        }
        let summary = try TraverseDemo.run(options, model: decoder, digits: digits, background: background) {
            printError($0)
        }
        print(String(format: "wrote %d frame%@ (%dx%d)%@ into %@ in %.2f s", summary.frames,
                     summary.frames == 1 ? "" : "s", summary.frameWidth, summary.frameHeight,
                     grid.map { ", grid.png (\($0)x\($0))" } ?? "", output, summary.seconds))
    }
}
