import Foundation

/// One drawn transformation: the matrix the host warps with (output → input, normalised
/// coordinates: 6 values for an affine warp, 9 for a homography) and the values the decoder
/// regresses, each in [-1, 1].
struct Transformation {
    var warp: [Float]
    var target: [Float]
}

/// AET's first family (the paper's): rotation, translation, isotropic scale and shear, from
/// five uniforms in [-1, 1]. Targets: [cos r, sin r, u_tx, u_ty, scale and shear mapped to [-1, 1]].
struct AffineFamily {
    var rotation: Double, translation: Double, scaleMin: Double, scaleMax: Double, shear: Double
    static let draws = 5

    func make(_ u: [Float]) -> Transformation {
        let r = Double(u[0]) * rotation * .pi / 180
        let tx = Double(u[1]) * translation * 2, ty = Double(u[2]) * translation * 2  // normalised: the side spans 2
        let s = scaleMin + (Double(u[3]) + 1) / 2 * (scaleMax - scaleMin)
        let h = Double(u[4]) * shear * .pi / 180
        // forward map A = R(r) · Shear(h) · s, then translate; the warp needs its inverse
        let a = [cos(r) * s, (cos(r) * tan(h) - sin(r)) * s, sin(r) * s, (sin(r) * tan(h) + cos(r)) * s]
        let det = a[0] * a[3] - a[1] * a[2]
        let inv = [a[3] / det, -a[1] / det, -a[2] / det, a[0] / det]
        let theta = [inv[0], inv[1], -(inv[0] * tx + inv[1] * ty), inv[2], inv[3], -(inv[2] * tx + inv[3] * ty)].map { Float($0) }
        let half = (scaleMax - scaleMin) / 2
        let target = [cos(r), sin(r), Double(u[1]), Double(u[2]), half > 0 ? (s - (scaleMin + half)) / half : 0, Double(u[4])]
        return Transformation(warp: theta, target: target.map { Float($0) })
    }
}

/// AET's second family (the seed's projective transformations): the image's four corners are
/// rotated by r, scaled by s and each shifted by its own offset of up to `cornerShift` of the
/// side, and the homography taking the corners there warps the image (ten uniforms: r, s, then
/// the eight shifts). Targets: the eight coordinates of the moved corners divided by the largest
/// any can reach — the homography's 8 free parameters in the four-corner form (DeTone et al.
/// 2016), which stay in [-1, 1] and are on one scale, unlike the matrix entries.
struct ProjectiveFamily {
    var rotation: Double, scaleMin: Double, scaleMax: Double, cornerShift: Double
    static let draws = 10
    /// The image's corners in normalised coordinates: top-left, top-right, bottom-right, bottom-left.
    static let corners: [(x: Double, y: Double)] = [(-1, -1), (1, -1), (1, 1), (-1, 1)]

    /// The largest |coordinate| a moved corner can have.
    var bound: Double { scaleMax * 2.0.squareRoot() + 2 * cornerShift }

    /// Where the corners go, in normalised coordinates.
    func movedCorners(_ u: [Float]) -> [(x: Double, y: Double)] {
        let r = Double(u[0]) * rotation * .pi / 180
        let s = scaleMin + (Double(u[1]) + 1) / 2 * (scaleMax - scaleMin)
        return Self.corners.enumerated().map { k, c in
            (s * (cos(r) * c.x - sin(r) * c.y) + Double(u[2 + 2 * k]) * cornerShift * 2,
             s * (sin(r) * c.x + cos(r) * c.y) + Double(u[3 + 2 * k]) * cornerShift * 2)
        }
    }

    /// nil only for a degenerate draw (corners collinear), which the ranges of the options rule out.
    func make(_ u: [Float]) -> Transformation? {
        let moved = movedCorners(u)
        // output pixels lie in the moved image: the warp maps the moved corners back to the originals
        guard let h = Self.homography(from: moved, to: Self.corners) else { return nil }
        return Transformation(warp: h.map { Float($0) }, target: moved.flatMap { [Float($0.x / bound), Float($0.y / bound)] })
    }

    /// The 3×3 matrix H (row-major, h₃₃ = 1) with H·[p, 1] ∝ [q, 1] for the four pairs: the
    /// direct linear transform, eight equations in the eight unknowns, by Gaussian elimination
    /// with partial pivoting.
    static func homography(from p: [(x: Double, y: Double)], to q: [(x: Double, y: Double)]) -> [Double]? {
        var a = [[Double]]()
        for k in 0..<4 {
            let (x, y, X, Y) = (p[k].x, p[k].y, q[k].x, q[k].y)
            a.append([x, y, 1, 0, 0, 0, -X * x, -X * y, X])
            a.append([0, 0, 0, x, y, 1, -Y * x, -Y * y, Y])
        }
        for col in 0..<8 {
            let pivot = (col..<8).max { abs(a[$0][col]) < abs(a[$1][col]) }!
            guard abs(a[pivot][col]) > 1e-12 else { return nil }
            a.swapAt(col, pivot)
            for row in 0..<8 where row != col {
                let f = a[row][col] / a[col][col]
                for c in col..<9 { a[row][c] -= f * a[col][c] }
            }
        }
        return (0..<8).map { a[$0][8] / a[$0][$0] } + [1]
    }

    /// The rotation that best aligns the original corners with `moved` (least squares over the
    /// four): the angle of Σ (c × m, c · m). For the rotation-error probe.
    static func rotation(of moved: [(x: Double, y: Double)]) -> Double {
        var cross = 0.0, dot = 0.0
        for (c, m) in zip(corners, moved) {
            cross += c.x * m.y - c.y * m.x
            dot += c.x * m.x + c.y * m.y
        }
        return atan2(cross, dot)
    }
}
