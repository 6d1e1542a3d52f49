/// The geometry of a Winograd convolution F(m×m, 3×3) and the interface of its transforms, shared
/// by the engine (which runs the GEMMs between them) and every instruction-set build of the
/// transforms (LossKitKernels).
///
/// The derived sizes are stored, not computed on each use: `tile` is only known at run time, so
/// each use would divide, and the transforms ask once per plane (`perf` put the getter alone at
/// 0.5 % of a `ce + swwae` step).
public struct WinogradTiles: Sendable {
    public let batch: Int, channels: Int, height: Int, width: Int, padding: Int
    /// Side of an output tile: 2 for F(2×2, 3×3), 4 for F(4×4, 3×3).
    public let tile: Int
    public let outH: Int, outW: Int
    /// Tiles down and across one image: the output rounded up to whole tiles.
    public let tilesH: Int, tilesW: Int
    public let tilesPerImage: Int
    /// Tiles of the whole batch: one column of the transformed buffers each.
    public let tiles: Int

    public init(batch: Int, channels: Int, height: Int, width: Int, padding: Int, tile: Int) {
        (self.batch, self.channels, self.height, self.width, self.padding, self.tile) = (batch, channels, height, width, padding, tile)
        outH = height + 2 * padding - 2
        outW = width + 2 * padding - 2
        tilesH = (outH + tile - 1) / tile
        tilesW = (outW + tile - 1) / tile
        tilesPerImage = tilesH * tilesW
        tiles = batch * tilesPerImage
    }

    /// Floats between consecutive ξ planes of a transformed buffer whose planes have `rows` rows
    /// (channels for V and dV, output channels for M and dM): `rows · tiles`, and one 64-byte
    /// cache line more where that is a multiple of 1 KiB. A tile group's transform reads or writes
    /// one vector in each of the (m+2)² planes, the same offset in each; planes a multiple of 1 KiB
    /// apart put those vectors in at most 4 of the L1 cache's 64 sets (1 set at 4 KiB), more
    /// vectors than a set has lines. convnet-s's 7×7 layers were there (64 or 128 rows of 16
    /// tiles an image): `losskit bench --conv-only` ran F(2×2) on them 9-16 % faster with the line
    /// added (docs/BENCHMARKS.md). Other strides are left as they are: an odd number of lines for
    /// every stride gained nothing on the other layers (the 28×28 F(4×4) one 3-9 % slower in two
    /// runs of three).
    public func planeStride(rows: Int) -> Int {
        let floats = rows * tiles
        return floats % 256 == 0 ? floats + 16 : floats
    }

    /// The most floats `planeStride` adds to `rows · tiles`: for sizing buffers.
    public static let maxPlanePadding = 16
}

/// One Winograd algorithm F(m×m, 3×3): its tile size and its transforms with their adjoints.
/// Transformed buffers are [(m+2)², channels, tiles], the planes `WinogradTiles.planeStride`
/// apart, plus `slack` floats. The kernels behind it are in LossKitKernels, built once per
/// instruction set (`EngineKernels`).
public protocol WinogradTransform {
    /// Floats a transformed buffer needs past its end: the transforms read whole vectors.
    static var slack: Int { get }
    static var outputTile: Int { get }
    static func transformFilters(_ w: UnsafePointer<Float>, outChannels O: Int, channels C: Int, into u: UnsafeMutablePointer<Float>)
    static func addFilterGradients(_ du: UnsafePointer<Float>, outChannels O: Int, channels C: Int, into dw: UnsafeMutablePointer<Float>)
    static func transformInput(_ x: UnsafePointer<Float>, _ geo: WinogradTiles, into v: UnsafeMutablePointer<Float>)
    /// dx += (or, not `accumulate`, =) the adjoint of `transformInput` applied to dV.
    static func addInputGradient(_ dv: UnsafePointer<Float>, _ geo: WinogradTiles, into dx: UnsafeMutablePointer<Float>, accumulate: Bool)
    static func transformOutput(_ m: UnsafePointer<Float>, _ geo: WinogradTiles, outChannels O: Int, bias: UnsafePointer<Float>?,
                                into y: UnsafeMutablePointer<Float>)
    static func outputGradient(_ dy: UnsafePointer<Float>, _ geo: WinogradTiles, outChannels O: Int, into dm: UnsafeMutablePointer<Float>)
}

extension WinogradTransform {
    /// (m + 2)²: transform positions ξ per tile, and so GEMMs per pass.
    public static var positions: Int { (outputTile + 2) * (outputTile + 2) }
}

