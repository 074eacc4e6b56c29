// `--gif` and `--gif-delay`, shared by the commands that draw frames.
import ArgumentParser

struct GIFOptions: ParsableArguments {
    @Flag(help: "Also write the frames as animation.gif (looping forever) beside them.")
    var gif = false

    @Option(help: "Hundredths of a second each GIF frame is shown (default: disc 10, autoencoder 20, traverse 3).")
    var gifDelay: Int?
}
