// swift-tools-version:6.0
// LossKit: a host executable with a stable C ABI, and every objective and encoder as its own
// dynamic library loaded with dlopen. README.md ("Layout") describes the targets.
import PackageDescription

/// Each plugin is its own dynamic library product; plugins depend only on the ABI header and SDK.
let pluginNames = ["ConvNet", "NCE", "SC", "SWWAE", "DIM", "AET", "GAN"]

var products: [Product] = [
    .executable(name: "losskit", targets: ["losskit"]),
    .library(name: "LossKitCore", targets: ["LossKitCore"]),
    // the host as a library, module by module (README.md, "Layout")
    .library(name: "LossKitHost", targets: ["LossKitFormats", "LossKitData", "LossKitLossExpression", "LossKitPlugins", "LossKitDistributed",
                                            "LossKitRun", "LossKitEvaluation", "LossKitTraining", "LossKitHost"]),
    // what a Swift plugin in a package of its own depends on (Examples/entropy-min-swift)
    .library(name: "LossKitPluginSDK", targets: ["LossKitPluginSDK"]),
    .library(name: "CLossKitABI", targets: ["CLossKitABI"]),
]
/// The engine's hot loops (Sources/LossKitKernels) are compiled once per instruction set, each
/// build a module of its own that LossKitCore's KernelPath chooses from at run time by the CPU's
/// features (EngineKernels.swift). The other folders are links to the same sources.
///
/// They are built -Ounchecked, in debug builds too (optimised as LossKitCore is, below, and then
/// the tests run the code that ships): their loops index raw pointers by shapes the graph has
/// checked, and Swift's overflow checks on that index arithmetic only cost time. In the Winograd
/// transforms each checked product's flag sat on the stack and was tested before every store of a
/// tile group (perf annotate); without them convnet-s's training paths ran 2-5 % faster forward
/// and level backward at one thread (`losskit bench --conv-only`, medians of five alternating
/// pairs, docs/BENCHMARKS.md). -Ounchecked keeps IEEE semantics as -O does: the same bits.
let kernelBuilds: [(name: String, flags: [String], define: String?)] = {
    var builds: [(name: String, flags: [String], define: String?)] = [("LossKitKernels", [], nil)]
    #if arch(x86_64)
    builds.append(("LossKitKernelsAVX2", ["-target-cpu", "haswell"], "LOSSKIT_KERNELS_AVX2"))
    builds.append(("LossKitKernelsAVX512", ["-target-cpu", "skylake-avx512"], "LOSSKIT_KERNELS_AVX512"))
    #endif
    return builds
}()

var targets: [Target] = [
    .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
    .systemLibrary(name: "CFFI", path: "Sources/CFFI"),
    .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
    .systemLibrary(name: "CPNG", path: "Sources/CPNG"),
    // Open MPI (Debian's libopenmpi-dev), reached only through CLossKitMPI's C functions
    .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c"),
    .target(name: "CLossKitMPI", dependencies: ["CMPI"], path: "Sources/CLossKitMPI", linkerSettings: [.linkedLibrary("mpi")]),
    // data-parallel training's processes and collectives: MPI, or one process
    .target(name: "LossKitDistributed", dependencies: ["CLossKitMPI"], path: "Sources/LossKitDistributed"),
    .target(name: "CLossKitABI", path: "Sources/CLossKitABI"),
    .target(name: "CLossKitCPU", path: "Sources/CLossKitCPU"),
    .target(
        name: "CLossKitShims", dependencies: ["CFFI", "CPNG"], path: "Sources/CLossKitShims",
        linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("ffi")]),
    // The engine is optimised in debug builds too: its kernels are the inner loops of every test
    // that trains, and unoptimised SIMD code made the test suite's training tests 3-4× slower
    // (Winograd transforms, measured). Swift's -O keeps IEEE semantics (no reassociation, no
    // contraction), so debug and release compute the same numbers.
    // the engine's threads and the interface of its hot loops (EngineKernels)
    .target(name: "LossKitKernelSupport", dependencies: ["COpenBLAS"], path: "Sources/LossKitKernelSupport",
            swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
    .target(
        name: "LossKitCore", dependencies: ["COpenBLAS", "CLossKitCPU", "LossKitKernelSupport"] + kernelBuilds.map { .target(name: $0.name) },
        path: "Sources/LossKitCore",
        swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
] + kernelBuilds.map { build in
    Target.target(
        name: build.name, dependencies: ["LossKitKernelSupport"], path: "Sources/\(build.name)",
        swiftSettings: [.unsafeFlags(["-Ounchecked"] + build.flags)] + (build.define.map { [.define($0)] } ?? []))
} + [
    // the file formats LossKit reads and writes (IDX, CIFAR-10, gzip, NPY, safetensors, JSON lines),
    // with their one error type; nothing of training
    .target(name: "LossKitFormats", dependencies: ["CZlib", "CLossKitShims"], path: "Sources/LossKitFormats"),
    // training data: data sets by name, labelled splits, the seeded batch sampler, augmentation
    .target(name: "LossKitData", dependencies: ["LossKitCore", "LossKitFormats"], path: "Sources/LossKitData"),
    // the loss expression language: `ce + 0.5*nce(negatives=0)[until=750] + 0.1*sc@conv4`
    .target(name: "LossKitLossExpression", path: "Sources/LossKitLossExpression"),
    // the plugin loader, the host-API table behind losskit.h, instances and their contexts, and
    // `plugins check`'s gradient check; HostError, the host's one error type
    .target(
        name: "LossKitPlugins",
        dependencies: ["LossKitCore", "LossKitLossExpression", "LossKitDistributed", "CLossKitABI", "CLossKitShims", "CFFI"],
        path: "Sources/LossKitPlugins"),
    // a run: its settings (declared once), its folder's files and their writer's claim,
    // checkpoints, the encoder and loss terms it builds, and a finished run opened again
    .target(
        name: "LossKitRun",
        dependencies: ["LossKitCore", "LossKitFormats", "LossKitData", "LossKitLossExpression", "LossKitPlugins", "LossKitDistributed",
                       "CLossKitABI", "CLossKitShims", .product(name: "Yams", package: "Yams")],
        path: "Sources/LossKitRun"),
    // what a run is worth: head accuracy, kNN, linear probe, PCA and t-SNE, sample quality, inversion
    .target(
        name: "LossKitEvaluation",
        dependencies: ["LossKitCore", "LossKitFormats", "LossKitData", "LossKitLossExpression", "LossKitPlugins", "LossKitRun", "CLossKitABI"],
        path: "Sources/LossKitEvaluation"),
    // the training loop, one process or the ranks of a data-parallel job
    .target(
        name: "LossKitTraining",
        dependencies: ["LossKitCore", "LossKitFormats", "LossKitData", "LossKitLossExpression", "LossKitPlugins", "LossKitRun",
                       "LossKitEvaluation", "LossKitDistributed", "CLossKitABI", "CLossKitShims"],
        path: "Sources/LossKitTraining"),
    // the report page and the benchmarks, on top of everything above
    .target(
        name: "LossKitHost",
        dependencies: ["LossKitCore", "LossKitFormats", "LossKitData", "LossKitLossExpression", "LossKitPlugins", "LossKitDistributed",
                       "LossKitRun", "LossKitEvaluation", "LossKitTraining", "CLossKitABI", "CLossKitShims", "CFFI", "CZlib"],
        path: "Sources/LossKitHost"),
    .target(name: "LossKitPluginSDK", dependencies: ["CLossKitABI"], path: "Sources/LossKitPluginSDK"),
    .executableTarget(
        name: "losskit",
        dependencies: [
            "LossKitHost", "LossKitCore", "LossKitFormats", "LossKitData", "LossKitLossExpression", "LossKitPlugins", "LossKitDistributed",
            "LossKitRun", "LossKitEvaluation", "LossKitTraining",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        path: "Sources/losskit"),
    // what every test target shares: temporary folders that are removed, error assertions
    .target(name: "LossKitTestSupport", path: "Tests/LossKitTestSupport"),
    .testTarget(name: "LossKitCoreTests", dependencies: ["LossKitCore", "LossKitKernelSupport", "COpenBLAS"], path: "Tests/LossKitCoreTests"),
    .testTarget(name: "LossKitFormatsTests", dependencies: ["LossKitFormats", "LossKitTestSupport"], path: "Tests/LossKitFormatsTests"),
    .testTarget(name: "LossKitDataTests", dependencies: ["LossKitData", "LossKitFormats", "LossKitCore", "LossKitTestSupport"], path: "Tests/LossKitDataTests"),
    .testTarget(name: "LossKitLossExpressionTests", dependencies: ["LossKitLossExpression"], path: "Tests/LossKitLossExpressionTests"),
    .testTarget(name: "LossKitEvaluationTests", dependencies: ["LossKitEvaluation", "LossKitCore", "LossKitTestSupport"], path: "Tests/LossKitEvaluationTests"),
    .testTarget(name: "LossKitPluginSDKTests", dependencies: ["LossKitPluginSDK"], path: "Tests/LossKitPluginSDKTests"),
    .testTarget(
        name: "LossKitHostTests", dependencies: ["LossKitHost", "LossKitCore", "LossKitFormats", "LossKitData", "LossKitLossExpression", "LossKitPlugins",
                                             "LossKitRun", "LossKitEvaluation", "LossKitTraining", "CLossKitABI", "LossKitTestSupport"],
        path: "Tests/LossKitHostTests", exclude: ["Fixtures"]),
]
for name in pluginNames {
    products.append(.library(name: "LossKit\(name)", type: .dynamic, targets: ["LossKit\(name)"]))
    targets.append(.target(name: "LossKit\(name)", dependencies: ["LossKitPluginSDK"], path: "Plugins/\(name)"))
}

// A Swift plugin written against the ABI 1.2 SDK surface, kept unchanged for the compatibility
// tests; its library is not named libLossKit*.so, so scripts/build.sh does not ship it.
products.append(.library(name: "FixtureSwiftABI12", type: .dynamic, targets: ["FixtureSwiftABI12"]))
targets.append(.target(name: "FixtureSwiftABI12", dependencies: ["LossKitPluginSDK"], path: "Tests/Fixtures/SwiftABI12Plugin"))

let package = Package(
    name: "LossKit",
    products: products,
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: targets,
    swiftLanguageModes: [.v5]
)
