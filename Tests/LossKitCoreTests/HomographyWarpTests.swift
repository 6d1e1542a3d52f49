import LossKitCore
import XCTest

/// The projective warp: the affine warp as its special case, a known homography moving a known
/// pixel, its gradient through the image, and the points behind the projection.
final class HomographyWarpTests: XCTestCase {
    private func images(_ b: Int, seed: UInt64 = 3) -> Tensor { Fixtures.random([b, 2, 7, 9], seed: seed) }

    func testAnAffineLastRowIsTheAffineWarpToTheBit() throws {
        let x = images(3)
        let theta: [Float] = [0.9, 0.2, 0.1, -0.15, 1.1, -0.05, 1, 0, 0, 0, 1, 0, 0.7, -0.3, 0.4, 0.25, 0.8, 0.2]
        var h: [Float] = []
        for b in 0..<3 { h += Array(theta[(b * 6)..<(b * 6 + 6)]) + [0, 0, 1] }
        let g = Graph(training: false, random: RandomGenerator(seed: 0))
        let affine = try g.affineWarp(g.constant(x), theta: theta, fill: 0.25)
        let projective = try g.homographyWarp(g.constant(x), h: h, fill: 0.25)
        XCTAssertEqual(affine.value.buffer.map(\.bitPattern), projective.value.buffer.map(\.bitPattern))
    }

    func testAProjectiveMapReadsWhereItsFormulaSays() throws {
        // one channel, 5×5, a single bright pixel at (x, y) = (3, 1); the output pixel whose
        // projective image lands exactly on that pixel's centre reads it
        let x = Tensor(zeros: [1, 1, 5, 5])
        x.data[1 * 5 + 3] = 1
        let h: [Float] = [1, 0, 0.4, 0, 1, -0.4, 0, 0, 1]  // a shift of (+1, -1) pixels in normalised units (2/5 each)
        let g = Graph(training: false, random: RandomGenerator(seed: 0))
        var out = try g.homographyWarp(g.constant(x), h: h, fill: 0).value
        XCTAssertEqual(out.data[2 * 5 + 2], 1, accuracy: 1e-5, "output (2, 2) reads input (3, 1)")
        // scaling the whole matrix changes nothing (homogeneous coordinates)
        out = try g.homographyWarp(g.constant(x), h: h.map { $0 * 2.5 }, fill: 0).value
        XCTAssertEqual(out.data[2 * 5 + 2], 1, accuracy: 1e-5)
        // w ≤ 0 everywhere: every pixel reads the fill
        out = try g.homographyWarp(g.constant(x), h: [1, 0, 0, 0, 1, 0, 0, 0, -1], fill: 0.5).value
        XCTAssertTrue(out.buffer.allSatisfy { $0 == 0.5 })
    }

    func testItsGradientWithRespectToTheImage() throws {
        let x = images(2, seed: 9)
        let h: [Float] = [0.95, 0.1, 0.05, -0.08, 1.05, -0.1, 0.12, -0.09, 1.0, 1.1, -0.2, 0.0, 0.15, 0.9, 0.1, -0.1, 0.2, 1.05]
        let w = Fixtures.random([2, 2, 7, 9], seed: 10)
        let report = try GradientCheck(step: 1e-2).run(inputs: [(name: "x", tensor: x)]) { g, v in
            try g.sum(g.mul(g.homographyWarp(v[0], h: h, fill: 0.3), g.constant(w)))
        }
        XCTAssertTrue(report.passed, "\(report)")
        XCTAssertTrue(report.withoutGradient.isEmpty)
    }

    func testAMatrixOfTheWrongSizeOrNotFiniteIsRefused() {
        let g = Graph(training: false, random: RandomGenerator(seed: 0))
        XCTAssertThrowsError(try g.homographyWarp(g.constant(images(2)), h: [Float](repeating: 1, count: 9), fill: 0)) {
            XCTAssertEqual("\($0)", "homographyWarp: h needs 9 values per image (18); got 9")
        }
        XCTAssertThrowsError(try g.homographyWarp(g.constant(images(1)), h: [1, 0, 0, 0, 1, 0, 0, .nan, 1], fill: 0))
    }
}
