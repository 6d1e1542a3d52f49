// swift-tools-version:6.0
// entropy-min as a Swift plugin in a package of its own: it depends on LossKit's plugin SDK
// (here by path, from a LossKit checkout; by URL from anywhere else) and builds a shared library
// that an installed `losskit` loads from a plugin folder. Build: swift build -c release
import PackageDescription

let package = Package(
    name: "EntropyMinSwift",
    products: [.library(name: "EntropyMinSwift", type: .dynamic, targets: ["EntropyMin"])],
    dependencies: [.package(name: "LossKit", path: "../..")],
    targets: [.target(name: "EntropyMin", dependencies: [.product(name: "LossKitPluginSDK", package: "LossKit")])],
    swiftLanguageModes: [.v5]
)
