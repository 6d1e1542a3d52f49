import LossKitKernelSupport

/// This build's loops behind `EngineKernels`. The same source is compiled once per instruction
/// set (Package.swift defines LOSSKIT_KERNELS_AVX2 or LOSSKIT_KERNELS_AVX512 beside the matching
/// `-target-cpu`); the calls below inline each loop into this build, so every loop of this
/// module is compiled for its instruction set.
public enum KernelTable: EngineKernels {
    #if LOSSKIT_KERNELS_AVX512
    public static let instructionSet = KernelInstructionSet.avx512
    #elseif LOSSKIT_KERNELS_AVX2
    public static let instructionSet = KernelInstructionSet.avx2
    #else
    public static let instructionSet = KernelInstructionSet.baseline
    #endif

    public static var winograd2: any WinogradTransform.Type { Winograd.self }
    public static var winograd4: any WinogradTransform.Type { Winograd4.self }

    #if LOSSKIT_KERNELS_AVX2
    public static let prefersPanelGemm = true
    #else
    public static let prefersPanelGemm = false
    #endif

    public static func panelGemm(_ a: UnsafePointer<Float>, m: Int, n: Int, k: Int, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>) {
        PanelGemm.multiply(a, m: m, n: n, k: k, b: b, c: c)
    }

    public static func sumAndSquares(_ x: UnsafePointer<Float>, _ n: Int) -> (Float, Float) {
        Vectorized.sumAndSquares(x, n)
    }

    public static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
        Vectorized.sum(x, n)
    }

    public static func sumOfSquaredDifferences(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Double {
        Vectorized.sumOfSquaredDifferences(a, b, n)
    }

    public static func squaredErrorGradient(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int, v: Float,
                                            da: UnsafeMutablePointer<Float>?, accumulateA: Bool,
                                            db: UnsafeMutablePointer<Float>?, accumulateB: Bool) {
        Vectorized.squaredErrorGradient(a, b, n, v: v, da: da, accumulateA: accumulateA, db: db, accumulateB: accumulateB)
    }

    public static func planeMoments(_ x: UnsafePointer<Float>, planes: Int, plane: Int, into moments: UnsafeMutablePointer<Float>) {
        Vectorized.planeMoments(x, planes: planes, plane: plane, into: moments)
    }

    public static func sumAndNormalizedDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, mu: Float, inv: Float,
                                           relu: ReLUAfterNorm?) -> (Float, Float) {
        Vectorized.sumAndNormalizedDot(g, x, n, mu: mu, inv: inv, relu: relu)
    }

    public static func normalize(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int,
                                 mu: Float, inv: Float, gamma: Float, beta: Float, relu: Bool) {
        Vectorized.normalize(x, y, n, mu: mu, inv: inv, gamma: gamma, beta: beta, relu: relu)
    }

    public static func batchNormInputGradient(_ dx: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                                              _ n: Int, mu: Float, inv: Float, k: Float, a: Float, b: Float,
                                              relu: ReLUAfterNorm?, accumulate: Bool) {
        Vectorized.batchNormInputGradient(dx, g, x, n, mu: mu, inv: inv, k: k, a: a, b: b, relu: relu, accumulate: accumulate)
    }

    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        Vectorized.relu(x, y, n)
    }

    public static func reluGradient(_ dx: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int,
                                    accumulate: Bool) {
        Vectorized.reluGradient(dx, g, y, n, accumulate: accumulate)
    }

    public static func maxPool2x2(_ src: UnsafePointer<Float>, height: Int, width: Int, into dst: UnsafeMutablePointer<Float>,
                                  switches: UnsafeMutablePointer<Int32>) {
        MaxPool2x2.plane(src, height: height, width: width, into: dst, switches: switches)
    }

    public static func sgdUpdate(_ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>, _ n: Int,
                                 lr: Float, weightDecay: Float, momentum: Float, nesterov: Bool) {
        OptimizerUpdates.sgd(w, g, m, n, lr: lr, weightDecay: weightDecay, momentum: momentum, nesterov: nesterov)
    }

    public static func adamUpdate(_ w: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                                  _ v: UnsafeMutablePointer<Float>, _ n: Int, lr: Float, weightDecay: Float,
                                  beta1: Float, beta2: Float, c1: Float, c2: Float, epsilon: Float) {
        OptimizerUpdates.adam(w, g, m, v, n, lr: lr, weightDecay: weightDecay, beta1: beta1, beta2: beta2, c1: c1, c2: c2, epsilon: epsilon)
    }

    public static func directConvolution(_ x: UnsafePointer<Float>, _ planes: DirectConvolutionPlanes, batch: Int, weight: UnsafePointer<Float>,
                                         outChannels: Int, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
                                         moments: UnsafeMutablePointer<Float>?) {
        DirectConvolution.forward(x, planes, batch: batch, weight: weight, outChannels: outChannels, bias: bias, into: y, moments: moments)
    }

    public static func directConvolutionFilterGradients(_ x: UnsafePointer<Float>, _ planes: DirectConvolutionPlanes, batch: Int,
                                                        outputGradient: UnsafePointer<Float>, outChannels: Int,
                                                        into dw: UnsafeMutablePointer<Float>) {
        DirectConvolution.addFilterGradients(x, planes, batch: batch, outputGradient: outputGradient, outChannels: outChannels, into: dw)
    }

    public static func directConvolutionInputGradient(_ dy: UnsafePointer<Float>, _ planes: DirectConvolutionPlanes, batch: Int,
                                                      weight: UnsafePointer<Float>, outChannels: Int,
                                                      into dx: UnsafeMutablePointer<Float>, accumulate: Bool) {
        DirectConvolution.addInputGradient(dy, planes, batch: batch, weight: weight, outChannels: outChannels, into: dx, accumulate: accumulate)
    }
}
