import LossKitKernelSupport
import XCTest

/// The planes of a Winograd transformed buffer never lie a multiple of 1 KiB apart
/// (`WinogradTiles.planeStride`), so a tile group's one vector per plane spreads over the L1
/// cache's sets instead of piling into a few; the buffers are sized by `maxPlanePadding`.
final class WinogradLayoutTests: XCTestCase {
    func testPlanesNeverLieAMultipleOf1KiBApartAndAtMostMaxPaddingBeyondTheirFloats() {
        for tile in [2, 4] {
            for side in [4, 7, 14, 28, 32] {
                for batch in [1, 2, 3, 4, 7, 128] {
                    let geo = WinogradTiles(batch: batch, channels: 8, height: side, width: side, padding: 1, tile: tile)
                    for rows in [1, 8, 32, 63, 64, 128, 192] {
                        let stride = geo.planeStride(rows: rows), floats = rows * geo.tiles
                        XCTAssertGreaterThanOrEqual(stride, floats)
                        XCTAssertLessThanOrEqual(stride - floats, WinogradTiles.maxPlanePadding)
                        XCTAssertNotEqual(stride % 256, 0, "a multiple of 1 KiB: tile \(tile), side \(side), batch \(batch), rows \(rows)")
                        if floats % 256 != 0 { XCTAssertEqual(stride, floats, "other strides are left as they are") }
                    }
                }
            }
        }
    }

    func testTheSevenBySevenLayersNoLongerPutEveryPlaneInOneCacheSet() {
        // convnet-s's 7×7 layers with F(2×2): 16 tiles an image, 64 or 128 rows, chunks of 4 images
        let geo = WinogradTiles(batch: 4, channels: 64, height: 7, width: 7, padding: 1, tile: 2)
        for rows in [64, 128] {
            XCTAssertEqual(rows * geo.tiles % 1024, 0, "the unpadded planes were a multiple of 4 KiB apart")
            let sets = Set((0..<16).map { xi in (xi * geo.planeStride(rows: rows) / 16) % 64 })
            XCTAssertEqual(sets.count, 16, "the 16 planes' vectors fall in 16 different L1 sets")
        }
    }
}
