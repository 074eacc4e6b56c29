// `--dense-first-layer`: the switch between the sparse and the dense first layer, shared by the training commands.
import ArgumentParser

struct FirstLayerOptions: ParsableArguments {
    @Flag(help: ArgumentHelp("Train the first layer on every pixel. By default it works on the pixels that differ "
                             + "from the background only, when one value fills most of the images (the same "
                             + "training up to float rounding); summary.json records which was used."))
    var denseFirstLayer = false
}
