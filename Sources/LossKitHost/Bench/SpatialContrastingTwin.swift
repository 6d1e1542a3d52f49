import LossKitCore
import LossKitPlugins

/// The yardstick for the plugin boundary (issue 12): the `sc` objective of Plugins/SC at its
/// defaults (region 0.5, Euclidean distance, symmetric) written straight against LossKitCore.
/// It draws its regions from the run's generator in the same order as the plugin does through
/// the host API, and issues the same graph ops in the same order, so a training step with it
/// does the same arithmetic as a step with the plugin: what differs is only the C ABI between.
/// Benchmark-only: the plugin stays the one implementation users get.
struct SpatialContrastingTwin {
    let random: RandomGenerator
    var tap = "conv5"
    var region = 0.5

    /// Region-averaging masks [B, H·W, 1], one random region per image (as the plugin's).
    private func masks(batch: Int, height: Int, width: Int) -> Tensor {
        let rh = max(1, Int((Double(height) * region).rounded())), rw = max(1, Int((Double(width) * region).rounded()))
        let w = 1 / Float(rh * rw)
        var m = [Float](repeating: 0, count: batch * height * width)
        func integer(below n: Int) -> Int { Int(random.next() % UInt64(max(n, 1))) }
        for i in 0..<batch {
            let top = integer(below: height - rh + 1), left = integer(below: width - rw + 1)
            for y in top..<(top + rh) { for x in left..<(left + rw) { m[i * height * width + y * width + x] = w } }
        }
        return Tensor(shape: [batch, height * width, 1], values: m)
    }

    func loss(_ pg: PluginGraph, batch: BatchView, taps: TapSet) throws -> Node {
        let g = pg.graph
        guard let f = taps[tap], f.shape.count == 4 else { throw BenchmarkError("sc twin: tap '\(tap)' is not a spatial map") }
        let (B, C, H, W) = (f.shape[0], f.shape[1], f.shape[2], f.shape[3])
        let flat = try g.reshape(f, [B, C, H * W])
        let a = try g.reshape(try g.batchedMatmul(flat, g.constant(masks(batch: B, height: H, width: W))), [B, C])
        let b = try g.reshape(try g.batchedMatmul(flat, g.constant(masks(batch: B, height: H, width: W))), [B, C])
        let aa = try g.sum(g.square(a), axes: [1], keepDims: true)
        let bb = try g.reshape(try g.sum(g.square(b), axes: [1]), [1, B])
        // the plugin's `aa + bb - 2 * a·bᵀ`, op for op in Swift's evaluation order
        let sum = try g.add(aa, bb)
        let sq = g.relu(try g.sub(sum, g.scale(try g.matmul(a, b, transposeB: true), 2)))
        let d = g.sqrt(g.addScalar(sq, 1e-6))
        let own = (0..<B).map { Int32($0) }
        let forward = try g.softmaxCrossEntropy(g.scale(d, -1), labels: own)
        let backward = try g.softmaxCrossEntropy(g.scale(try g.permute(d, [1, 0]), -1), labels: own)
        return g.scale(try g.add(forward, backward), 0.5)
    }
}
