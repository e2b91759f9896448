// swift-tools-version: 6.0
// voxenc: audio → Voxtral-style embeddings, natively on Linux.
// System libraries (Debian): pkg-config libfftw3-dev libopenblas-dev libsndfile1-dev libsoxr-dev
import PackageDescription

let package = Package(
    name: "voxenc",
    products: [
        .library(name: "VoxEncAudio", targets: ["VoxEncAudio"]),
        .library(name: "VoxEnc", targets: ["VoxEnc"]),
        .executable(name: "voxenc", targets: ["VoxEncCLI"]),
        .executable(name: "voxenc-bench", targets: ["VoxEncBenchmarks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: - System libraries (found through pkg-config; never absolute paths)
        .systemLibrary(name: "CFFTW3", pkgConfig: "fftw3f", providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CSndFile", pkgConfig: "sndfile", providers: [.apt(["libsndfile1-dev"])]),
        .systemLibrary(name: "CSoxr", pkgConfig: "soxr", providers: [.apt(["libsoxr-dev"])]),

        // MARK: - Libraries
        // Front end on its own: file → 16 kHz mono → log-mel chunks. Links sndfile, soxr, FFTW; no BLAS.
        .target(name: "VoxEncAudio", dependencies: ["CFFTW3", "CSndFile", "CSoxr"]),
        // Public facade: output formats (.npy), timings, and later the model.
        .target(name: "VoxEnc", dependencies: ["VoxEncAudio"]),

        // MARK: - Executables
        .executableTarget(name: "VoxEncCLI", dependencies: [
            "VoxEnc", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "VoxEncBenchmarks", dependencies: [
            "VoxEnc", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Benchmarks/VoxEncBenchmarks"),

        // MARK: - Tests
        .target(name: "VoxEncTestSupport", dependencies: ["VoxEnc", "CSndFile"], path: "Tests/VoxEncTestSupport"),
        .testTarget(name: "VoxEncAudioTests", dependencies: ["VoxEncAudio", "VoxEnc", "VoxEncTestSupport"]),
        .testTarget(name: "VoxEncCLITests", dependencies: ["VoxEncCLI", "VoxEncTestSupport"]),
    ]
)
