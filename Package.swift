// swift-tools-version: 6.0
// voxenc: audio → Voxtral-style embeddings, natively on Linux.
// System libraries (Debian): pkg-config libfftw3-dev libopenblas-dev libsndfile1-dev libsoxr-dev libssl-dev libdnnl-dev
import PackageDescription

import Foundation

// MARK: - Vector instructions
// The hot loops (log-mel, and later GELU, softmax, LayerNorm) are Swift SIMD code. On x86-64 they are compiled for
// x86-64-v3 (AVX2 + FMA: every x86 server and desktop CPU since 2013–2015), which roughly halves their cost.
// VOXENC_PORTABLE=1 builds for baseline x86-64 instead (SSE2), e.g. when voxenc is a versioned dependency:
// SwiftPM rejects unsafe flags in those.
let portable = ProcessInfo.processInfo.environment["VOXENC_PORTABLE"].map { $0 == "1" } ?? false
#if arch(x86_64)
let vectorSettings: [SwiftSetting] = portable ? [] : [.unsafeFlags(["-Xcc", "-march=x86-64-v3"]), .define("VOXENC_FMA")]
#else
let vectorSettings: [SwiftSetting] = [.define("VOXENC_FMA")]  // arm64: NEON has fused multiply-add
#endif

// MARK: - oneDNN (int8, and float32 where OpenBLAS does not know the CPU)
// `--precision int8` runs its integer GEMMs through oneDNN (Debian: libdnnl-dev, no pkg-config file), and float32
// GEMMs run on oneDNN where OpenBLAS's kernels do not fit the CPU (GEMMRouting.swift). Built in when its header is
// installed; VOXENC_ONEDNN=0 builds without it: int8 is then refused with a typed error, float32 stays on OpenBLAS.
let oneDNN = (ProcessInfo.processInfo.environment["VOXENC_ONEDNN"] ?? "1") != "0"
    && FileManager.default.fileExists(atPath: "/usr/include/oneapi/dnnl/dnnl.h")
let modelDependencies: [Target.Dependency] = ["COpenBLAS", "CCrypto", "CVoxEncCPU"] + (oneDNN ? ["CDNNL"] : [])
let modelSettings: [SwiftSetting] = vectorSettings + (oneDNN ? [.define("VOXENC_ONEDNN")] : [])

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
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),  // no .pc file: the module map links it

        // MARK: - C code of our own
        // CPUID and XGETBV: what the CPU offers (Swift cannot issue CPUID).
        .target(name: "CVoxEncCPU"),

        // MARK: - Libraries
        // Front end on its own: file → 16 kHz mono → log-mel chunks. Links sndfile, soxr, FFTW; no BLAS.
        .target(name: "VoxEncAudio", dependencies: ["CFFTW3", "CSndFile", "CSoxr"], swiftSettings: vectorSettings),
        // Weights, kernels, encoder and adapter. Links OpenBLAS (oneDNN for int8, libcrypto for the weights'
        // SHA-256); knows nothing about audio files.
        .target(name: "VoxEncModel", dependencies: modelDependencies, swiftSettings: modelSettings),
        // Public facade: load a model once, embed files or buffers; output formats (.npy, safetensors).
        .target(name: "VoxEnc", dependencies: ["VoxEncAudio", "VoxEncModel"]),

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
        .testTarget(name: "VoxEncModelTests", dependencies: ["VoxEncModel", "VoxEnc", "VoxEncTestSupport"]),
        .testTarget(name: "VoxEncTests", dependencies: ["VoxEnc", "VoxEncTestSupport"]),
        .testTarget(name: "VoxEncCLITests", dependencies: ["VoxEncCLI", "VoxEnc", "VoxEncTestSupport"]),
    ]
)
