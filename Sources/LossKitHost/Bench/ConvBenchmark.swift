import Foundation
import LossKitCore

/// GFLOP/s of convolution forward and backward at given layer shapes, next to plain `sgemm`
/// on the GEMM each convolution reduces to, at the current thread count. Each layer is timed on
/// every path the engine can take for it: im2col + GEMM, direct summation for up to three input
/// or output channels, and Winograd F(2×2, 3×3) and F(4×4, 3×3) from eight input channels.
/// Rates count the direct convolution's FLOPs (2·O·C·9 per output), so Winograd's are effective
/// rates and can pass `sgemm`'s.
public enum ConvBenchmark {
    public struct Layer {
        public let batch: Int, inChannels: Int, outChannels: Int, size: Int
        /// Whether the backward computes the input's gradient as well as the weights': not for a
        /// first layer, whose input is the images (training skips it there too).
        public let inputGradient: Bool
        public init(batch: Int, inChannels: Int, outChannels: Int, size: Int, inputGradient: Bool = true) {
            self.batch = batch
            self.inChannels = inChannels
            self.outChannels = outChannels
            self.size = size
            self.inputGradient = inputGradient
        }
        public var name: String { "\(inChannels)→\(outChannels) @\(size)×\(size)" }
        /// 2·O·(C·9)·(B·H·W): the forward pass's multiply-adds, counted twice.
        public var forwardFlops: Double { 2 * Double(outChannels) * Double(inChannels * 9) * Double(batch * size * size) }
        /// The backward's: the weights' gradient, and the input's where it is computed.
        public var backwardFlops: Double { (inputGradient ? 2 : 1) * forwardFlops }
    }

    /// The reference encoder's 3×3 convolutions at batch 128.
    public static let convnetS: [Layer] = [
        Layer(batch: 128, inChannels: 1, outChannels: 32, size: 28, inputGradient: false), Layer(batch: 128, inChannels: 32, outChannels: 32, size: 28),
        Layer(batch: 128, inChannels: 32, outChannels: 64, size: 14), Layer(batch: 128, inChannels: 64, outChannels: 64, size: 14),
        Layer(batch: 128, inChannels: 64, outChannels: 128, size: 7),
    ]

    public struct Row {
        public let layer: Layer
        /// "im2col", "direct", "winograd-f2" or "winograd-f4" (their GEMMs where training runs them),
        /// and where those run on the engine's panel kernel also "winograd-f2-openblas" and
        /// "winograd-f4-openblas"; `default` marks the one training uses.
        public let path: String
        public let isDefault: Bool
        public let forwardGFlops: Double
        public let backwardGFlops: Double
        public let sgemmGFlops: Double
        /// Forward + backward rate as a fraction of the sgemm rate.
        public var ratio: Double {
            let conv = (layer.forwardFlops + layer.backwardFlops) / (layer.forwardFlops / forwardGFlops + layer.backwardFlops / backwardGFlops)
            return conv / sgemmGFlops
        }
    }

    /// Median of `repeats` timings of `body`, in seconds.
    static func median(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        try median(repeats) { () -> Double in
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        }
    }

    /// Median of `repeats` durations that `body` clocks itself, in seconds.
    static func median(_ repeats: Int, _ body: () throws -> Double) rethrows -> Double {
        let times = try (0..<repeats).map { _ in try body() }
        return times.sorted()[times.count / 2]
    }

    public static func run(_ layers: [Layer] = convnetS, repeats: Int = 7) throws -> [Row] {
        let random = RandomGenerator(seed: 1)
        let saved = Graph.winogradConvolution, savedLarge = Graph.winogradLargeTileMinOutputSide
        let savedDirect = (Graph.directConvolutionMaxChannels, Graph.directConvolutionMaxOutChannels)
        let savedPanels = Graph.winogradPanelGemm, panels = MachineReport.winogradPanelGemms
        defer {
            Graph.winogradPanelGemm = savedPanels
            (Graph.winogradConvolution, Graph.winogradLargeTileMinOutputSide) = (saved, savedLarge)
            (Graph.directConvolutionMaxChannels, Graph.directConvolutionMaxOutChannels) = savedDirect
        }
        return try layers.flatMap { l -> [Row] in
            let x = Tensor(uninitialized: [l.batch, l.inChannels, l.size, l.size])
            let w = Tensor(uninitialized: [l.outChannels, l.inChannels, 3, 3])
            random.fillNormal(x.data, x.count)
            random.fillNormal(w.data, w.count)
            let weight = Parameter(name: "w", value: w)
            // the same GEMM alone: [O, K] · [K, B·H·W]
            let K = l.inChannels * 9, N = l.batch * l.size * l.size
            let a = Tensor(uninitialized: [l.outChannels, K]), b = Tensor(uninitialized: [K, N]), c = Tensor(uninitialized: [l.outChannels, N])
            random.fillNormal(a.data, a.count)
            random.fillNormal(b.data, b.count)
            let gemm = median(repeats) { sgemm(m: l.outChannels, n: N, k: K, a: a.data, b: b.data, c: c.data) }
            (Graph.winogradConvolution, Graph.winogradLargeTileMinOutputSide) = (true, savedLarge)
            (Graph.directConvolutionMaxChannels, Graph.directConvolutionMaxOutChannels) = savedDirect
            let defaultPath = Graph.directConvolutionApplies(channels: l.inChannels, outChannels: l.outChannels) ? "direct"
                : saved && Graph.winogradApplies(channels: l.inChannels, outH: l.size, outW: l.size)
                ? "winograd-f\(Graph.winogradTile(outH: l.size, outW: l.size))" : "im2col"
            // every path that could apply, timed even where it is not the default
            var paths = [("im2col", 0, false)]
            if l.inChannels <= 3 || l.outChannels <= 3 { paths.append(("direct", 0, false)) }
            if l.inChannels >= Graph.winogradMinChannels {
                paths += [("winograd-f2", 2, panels), ("winograd-f4", 4, panels)]
                // where the engine's panel kernel takes the Winograd GEMMs, the same on OpenBLAS
                if panels { paths += [("winograd-f2-openblas", 2, false), ("winograd-f4-openblas", 4, false)] }
            }
            let savedSide = Graph.winogradMinOutputSide
            defer { Graph.winogradMinOutputSide = savedSide }
            Graph.winogradMinOutputSide = 1
            return try paths.map { name, tile, onPanels in
                Graph.winogradConvolution = tile > 0
                Graph.winogradPanelGemm = onPanels
                Graph.winogradLargeTileMinOutputSide = tile == 4 ? 1 : Int.max
                Graph.directConvolutionMaxChannels = name == "direct" ? l.inChannels : 0
                Graph.directConvolutionMaxOutChannels = name == "direct" ? l.outChannels : 0
                // forward alone (constant input: no gradient bookkeeping)
                _ = try forward(x, weight)
                let fwd = try median(repeats) { _ = try forward(x, weight) }
                // backward through input and weight, clocked on its own: a difference of two
                // medians (forward + backward minus forward) can come out at or below zero
                let bwd = try median(repeats) { () -> Double in
                    let g = Graph(training: true, random: random)
                    let input = l.inputGradient ? g.variable(x) : g.constant(x)
                    let y = try g.conv2d(input, weight: g.param(weight), padding: 1)
                    let loss = try g.sum(y)
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    try g.backward(from: loss)
                    return Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
                }
                return Row(layer: l, path: name, isDefault: name == defaultPath,
                           forwardGFlops: l.forwardFlops / fwd / 1e9, backwardGFlops: l.backwardFlops / bwd / 1e9,
                           sgemmGFlops: l.forwardFlops / gemm / 1e9)
            }
        }
    }

    private static func forward(_ x: Tensor, _ weight: Parameter) throws -> Node {
        let g = Graph(training: false, random: RandomGenerator(seed: 0))
        return try g.conv2d(g.constant(x), weight: g.frozen(weight), padding: 1)
    }
}
