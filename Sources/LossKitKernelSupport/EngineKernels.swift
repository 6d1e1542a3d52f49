/// The engine's own hot loops, as one interface with one implementation per instruction set.
///
/// The loops (Winograd transforms, batch-norm and ReLU, 2×2 max-pooling, the direct convolution,
/// the reductions, the optimiser's updates) live in one source folder, Sources/LossKitKernels, compiled three times:
/// LossKitKernels for baseline x86-64, LossKitKernelsAVX2 for AVX2 (`-target-cpu haswell`) and
/// LossKitKernelsAVX512 for AVX-512 (`-target-cpu skylake-avx512`). Each build's `KernelTable`
/// conforms to this protocol; LossKitCore's `KernelPath` picks one when the process starts, by
/// the CPU's features, so one binary still runs on a baseline x86-64 CPU. Swift neither contracts
/// a*b+c into FMA nor reorders additions, so the three builds compute the same bits
/// (KernelPathTests checks this on every path the test machine can run). One difference is
/// chosen: the AVX2 build runs the Winograd convolution's forward and input-gradient GEMMs on
/// `panelGemm` instead of OpenBLAS (`prefersPanelGemm`), whose fused multiply-adds give bits of
/// their own, within rounding of OpenBLAS's.
///
/// The calls go through a metatype, so they are not inlined into the engine: each one is a whole
/// plane or a whole chunk of work.
public protocol EngineKernels {
    /// The instruction set this build of the loops was compiled for.
    static var instructionSet: KernelInstructionSet { get }

    /// Winograd F(2×2, 3×3) and F(4×4, 3×3).
    static var winograd2: any WinogradTransform.Type { get }
    static var winograd4: any WinogradTransform.Type { get }

    /// Whether the Winograd convolution's forward and input-gradient GEMMs run on `panelGemm`
    /// rather than OpenBLAS on this build: true where that was measured faster (AVX2; the
    /// AVX-512 build's 8-float vectors would leave half of each register idle beside OpenBLAS's
    /// AVX-512 kernels, and the baseline build has no fused multiply-add).
    static var prefersPanelGemm: Bool { get }
    /// C[m×n] = A·B with A packed by `GemmPanels.pack` and B's and C's rows `n` floats apart, C
    /// overwritten; `GemmPanels.fits(m:n:)` must hold. One thread.
    static func panelGemm(_ a: UnsafePointer<Float>, m: Int, n: Int, k: Int, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>)

    /// Σ x and Σ x² over `n` floats.
    static func sumAndSquares(_ x: UnsafePointer<Float>, _ n: Int) -> (Float, Float)
    /// Σ x over `n` floats, in Double.
    static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Double
    /// Σ (a - b)² over `n` floats, in Double.
    static func sumOfSquaredDifferences(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Double
    /// The gradients of mean((a - b)²), v = dy / n: da (+)= v·2(a - b), db (−)= the same.
    static func squaredErrorGradient(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int, v: Float,
                                     da: UnsafeMutablePointer<Float>?, accumulateA: Bool,
                                     db: UnsafeMutablePointer<Float>?, accumulateB: Bool)
    /// `sumAndSquares` of each of `planes` consecutive planes of `plane` floats, as pairs into
    /// `moments` (Σ of plane i at 2i, Σ² at 2i + 1).
    static func planeMoments(_ x: UnsafePointer<Float>, planes: Int, plane: Int, into moments: UnsafeMutablePointer<Float>)
    /// Σ g and Σ g·(x - mu)·inv over `n` floats (batch-norm's backward sums), g masked by `relu`.
    static func sumAndNormalizedDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, mu: Float, inv: Float,
                                    relu: ReLUAfterNorm?) -> (Float, Float)
    /// y = gamma·(x - mu)·inv + beta; with `relu`, max(that, 0).
    static func normalize(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
                          mu: Float, inv: Float, gamma: Float, beta: Float, relu: Bool)
    /// dx (+)= k·(g - a - x̂·b), x̂ = (x - mu)·inv: batch-norm's input gradient.
    static func batchNormInputGradient(_ dx: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                                       _ n: Int, mu: Float, inv: Float, k: Float, a: Float, b: Float,
                                       relu: ReLUAfterNorm?, accumulate: Bool)
    /// y = max(x, 0).
    static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int)
    /// dx (+)= g where y > 0.
    static func reluGradient(_ dx: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int,
                             accumulate: Bool)
    /// The 2×2, stride-2 max-pool of one plane, with each output's argmax (its index in the plane).
    static func maxPool2x2(_ src: UnsafePointer<Float>, height: Int, width: Int, into dst: UnsafeMutablePointer<Float>,
                           switches: UnsafeMutablePointer<Int32>)
    /// One SGD update of `n` parameters w with gradient g and momentum m (PyTorch's form; the
    /// formula is `Optimizer`'s).
    static func sgdUpdate(_ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ n: Int,
                          lr: Float, weightDecay: Float, momentum: Float, nesterov: Bool)
    /// One Adam update with moments m and v; c1 = 1 - β1ᵗ and c2 = 1 - β2ᵗ, the bias corrections.
    static func adamUpdate(_ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                           _ v: UnsafeMutablePointer<Float>, _ n: Int, lr: Float, weightDecay: Float,
                           beta1: Float, beta2: Float, c1: Float, c2: Float, epsilon: Float)
    /// Direct 3×3 convolution for layers with very few channels: forward (with batch-norm's
    /// per-plane moments when asked), filter gradient, input gradient.
    static func directConvolution(_ x: UnsafePointer<Float>, _ planes: DirectConvolutionPlanes, batch: Int, weight: UnsafePointer<Float>,
                                  outChannels: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
                                  moments: UnsafeMutablePointer<Float>?)
    static func directConvolutionFilterGradients(_ x: UnsafePointer<Float>, _ planes: DirectConvolutionPlanes, batch: Int,
                                                 outputGradient: UnsafePointer<Float>, outChannels: Int,
                                                 into dw: UnsafeMutablePointer<Float>)
    static func directConvolutionInputGradient(_ dy: UnsafePointer<Float>, _ planes: DirectConvolutionPlanes, batch: Int,
                                               weight: UnsafePointer<Float>, outChannels: Int,
                                               into dx: UnsafeMutablePointer<Float>, accumulate: Bool)
}

/// The instruction sets the kernels are built for, lowest first.
public enum KernelInstructionSet: String, CaseIterable, Comparable, Sendable {
    /// x86-64 as every such CPU runs it (SSE2), and any other architecture's own baseline.
    case baseline
    /// AVX2 with FMA, BMI1/2, LZCNT, MOVBE and F16C: LLVM's `haswell`, what Intel since 2013 and
    /// AMD since Zen run.
    case avx2
    /// AVX-512 F, CD, BW, DQ and VL on top of that: LLVM's `skylake-avx512`.
    case avx512

    public static func < (a: Self, b: Self) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// A fused ReLU after batch-norm, for its backward: the forward wrote max(scale·(x - mu) +
/// shift, 0) with scale = γ·inv and shift = β, so the ReLU's mask is recomputed from x with
/// the same arithmetic (bit for bit the forward's comparison) instead of read from the output.
/// Inlinable, so that each kernel build compiles the mask into its own loops.
public struct ReLUAfterNorm: Sendable {
    public let scale: Float, shift: Float

    @inlinable public init(scale: Float, shift: Float) {
        (self.scale, self.shift) = (scale, shift)
    }

    /// g where the forward's output was positive, else 0; `centred` is x - mu.
    @inlinable @inline(__always) public func mask(_ g: SIMD8<Float>, centred: SIMD8<Float>) -> SIMD8<Float> {
        g.replacing(with: 0, where: SIMD8(repeating: scale) * centred + SIMD8(repeating: shift) .<= 0)
    }

    @inlinable @inline(__always) public func mask(_ g: Float, centred: Float) -> Float { scale * centred + shift > 0 ? g : 0 }
}

/// One image's planes for the direct convolution: `channels` planes of `height`×`width`, read at
/// offset `padding` (negative: cropped) to give outputs of `outH`×`outW`.
public struct DirectConvolutionPlanes: Sendable {
    public let channels: Int, height: Int, width: Int, padding: Int, outH: Int, outW: Int

    public init(channels: Int, height: Int, width: Int, padding: Int, outH: Int, outW: Int) {
        (self.channels, self.height, self.width, self.padding, self.outH, self.outW) = (channels, height, width, padding, outH, outW)
    }

    /// Row length of the padded copy: the output row plus the kernel's two extra columns,
    /// rounded up to whole vectors. A row's last vector may read up to two floats into the next
    /// row (or the 4-float slack after the last plane), in lanes that are never stored (forward)
    /// or meet a zero (weight gradient), so no read needs an edge case.
    @inlinable public var paddedWidth: Int { (outW + 2 + 3) & ~3 }
    @inlinable public var paddedPlane: Int { (outH + 2) * paddedWidth }
}
