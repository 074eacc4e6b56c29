// swift-tools-version:6.1
// mlp-train: a multilayer-perceptron library (MLPKit) and trainer (mlp-train), written from scratch.
import PackageDescription

// Build speed is a feature here, so the numeric code is compiled for this machine's CPU by default:
// without a target CPU, SIMD16<Float> FMAs become library calls (~100x slower), and under plain -O the
// overflow checks on index arithmetic stop vectorisation. MLPKit is therefore built with
// `-target-cpu native` everywhere and `-Ounchecked` in release. Debug builds keep their checks but
// are still optimised (-O), so `swift test` runs numeric loops at a useful speed.
// Set MLP_PORTABLE=1 when building a binary to run on another machine: it drops `-target-cpu native`.
// `-Xcc -fno-math-errno`: on Linux, Float.squareRoot() goes through a C inline function that keeps errno up to
// date, so SIMD8<Float>.squareRoot() became eight scalar square roots, each with a test and a libm fallback;
// without errno (never read here) it is one vsqrtps (Adam's update ran 3x faster).
let portable = Context.environment["MLP_PORTABLE"].map { $0 != "" && $0 != "0" } ?? false
let cpuFlags: [String] = (portable ? [] : ["-target-cpu", "native"]) + ["-Xcc", "-fno-math-errno"]
let numericSettings: [SwiftSetting] = [
    .unsafeFlags(cpuFlags + ["-Ounchecked"], .when(configuration: .release)),
    .unsafeFlags(cpuFlags + ["-O"], .when(configuration: .debug)),
]

// Fuzz targets (libFuzzer) exist only when MLP_FUZZ=1, since they have no main of their own:
//   MLP_FUZZ=1 swift build -c debug --sanitize fuzzer --product fuzz-idx     (see scripts/fuzz.sh)
let fuzzing = Context.environment["MLP_FUZZ"].map { $0 != "" && $0 != "0" } ?? false
let fuzzTargets: [Target] = !fuzzing ? [] : [
    .executableTarget(name: "fuzz-idx", dependencies: ["MLPData"], path: "Fuzz/IDX"),
    .executableTarget(name: "fuzz-safetensors", dependencies: ["MLPKit"], path: "Fuzz/SafeTensors"),
    .executableTarget(name: "fuzz-mosaic", dependencies: ["MLPData", "MLPImaging"], path: "Fuzz/Mosaic"),
    .executableTarget(name: "fuzz-csv", dependencies: ["MLPData"], path: "Fuzz/CSV"),
    .executableTarget(name: "fuzz-packed", dependencies: ["MLPData"], path: "Fuzz/Packed"),
]

let package = Package(
    name: "mlp-train",
    products: [
        .library(name: "MLPKit", targets: ["MLPKit"]),
        .executable(name: "mlp-train", targets: ["mlp-train"]),
    ],
    // `swift build --traits MPI` trains across processes started by `mpirun` (Open MPI: libopenmpi-dev); the
    // default build needs no MPI and refuses to run under `mpirun` with P > 1.
    traits: [
        .trait(name: "MPI", description: "Data-parallel training across processes with Open MPI (pkg-config ompi-c)"),
        .default(enabledTraits: []),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
    ],
    targets: [
        // C libraries, reached through module maps only (giflib has no pkg-config file).
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CGIF", providers: [.apt(["libgif-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),

        // The core library: engine, kernels, the training loop and optimizers, model and checkpoint files. It
        // knows nothing of MNIST, PNG, the jobs or the command line.
        .target(name: "MLPKit", swiftSettings: numericSettings),

        // Pictures: PNG through libpng, animated GIF through giflib, an RGB canvas, a bitmap font, charts.
        .target(name: "MLPImaging", dependencies: ["MLPKit", "CPNG", "CZlib", "CGIF"], swiftSettings: numericSettings),

        // Data sets: MNIST from PNG mosaics or IDX files and its download; labelled data from CSV, IDX, PNG class
        // folders or safetensors, with target encoding and standardization.
        .target(name: "MLPData", dependencies: ["MLPKit", "MLPImaging", "CZlib"], swiftSettings: numericSettings),

        // Models that leave the project: ONNX graphs, through the code swift-protobuf generated from Protos/
        // (committed; scripts/generate-protos.sh makes it again).
        .target(name: "MLPInterop", dependencies: ["MLPKit", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),

        // The jobs: disc, classify, autoencoder, train, PCA, traverse, predict, evaluate and export, with their
        // figures; the benchmarks (training, scaling, shapes).
        .target(name: "MLPJobs", dependencies: ["MLPKit", "MLPData", "MLPImaging", "MLPInterop"],
                swiftSettings: numericSettings),

        // Training across processes: the launch read from the environment, and (with the MPI trait) the gradient
        // exchange over Open MPI.
        .target(name: "MLPCluster", dependencies: ["MLPKit", .target(name: "CMPI", condition: .when(traits: ["MPI"]))],
                swiftSettings: numericSettings),

        // The command-line tool: parses options, calls the jobs, names the library's fields by their options.
        .executableTarget(
            name: "mlp-train",
            dependencies: ["MLPKit", "MLPData", "MLPImaging", "MLPJobs", "MLPCluster",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: numericSettings),

        // The tests: one target per library and one for the command line, with shared helpers (temporary folders,
        // closeness checks, MNIST loaded once, the built tool). Tests/References holds golden values and the
        // script that computed them; the tests read them by path.
        .target(name: "TestSupport", dependencies: ["MLPKit", "MLPData"], path: "Tests/Support"),
        .testTarget(name: "MLPKitTests", dependencies: ["MLPKit", "TestSupport"], swiftSettings: numericSettings),
        .testTarget(name: "MLPDataTests", dependencies: ["MLPData", "MLPImaging", "MLPKit", "TestSupport"],
                    swiftSettings: numericSettings),
        .testTarget(name: "MLPImagingTests", dependencies: ["MLPImaging", "MLPKit", "TestSupport"],
                    swiftSettings: numericSettings),
        .testTarget(name: "MLPJobsTests", dependencies: ["MLPJobs", "MLPData", "MLPImaging", "MLPInterop", "MLPKit",
                                                    "TestSupport"],
                    swiftSettings: numericSettings),
        .testTarget(name: "MLPTrainTests", dependencies: ["MLPJobs", "MLPKit", "TestSupport"],
                    swiftSettings: numericSettings),
    ] + fuzzTargets
)
