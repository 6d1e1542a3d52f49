import CLossKitABI
import LossKitCore
@testable import LossKitHost
@testable import LossKitPlugins
import XCTest

/// `losskit plugins check` on every shipped objective, in-process: each loss is gradient-checked
/// against finite differences through the images, the encoder's parameters and its own, with the
/// worst element under half of its tolerance (each variant measures 0.02–0.33 here).
final class MethodGradientTests: XCTestCase {
    /// `silent`: the declared taps this variant reads without gradient (none, unless said): a
    /// loss that stops reading a tap it uses fails here, though 0 against 0 passes element-wise.
    private func check(_ library: String, _ plugin: String, _ options: [(key: String, value: String)] = [], tap: String? = nil,
                       silent: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws {
        let loader = try BuiltPlugins.loader([library])
        var checker = PluginChecker()
        checker.tap = tap
        let result = try checker.check(loader.plugin(named: plugin)!, options: options)
        XCTAssertTrue(result.passed, result.description, file: file, line: line)
        XCTAssertTrue(result.lossValue.isFinite, file: file, line: line)
        // well inside the tolerance, not just inside it: a gradient that is slightly off (a
        // missing factor near 1, a term dropped from a sum) passes element-wise near the edge
        XCTAssertLessThan(result.report.worstToleranceUsed, 0.5, "worst element: \(result.report.worstElement)", file: file, line: line)
        XCTAssertEqual(result.tapsWithoutGradient, silent, "declared taps without gradient", file: file, line: line)
    }

    func testNCEWithNoiseSamples() throws { try check("NCE", "nce", [("negatives", "64")]) }
    func testNCEWithTheDefaultFourThousandNegatives() throws { try check("NCE", "nce") }
    func testNCEExactSoftmaxWithProximalTerm() throws { try check("NCE", "nce", [("negatives", "0"), ("proximal", "0.5")]) }
    func testNCEWithTheMLPHeadsBatchNorm() throws { try check("NCE", "nce", [("negatives", "64"), ("hidden", "16")]) }
    func testNCEWithASecondViewThroughEncodeAgain() throws { try check("NCE", "nce", [("negatives", "0"), ("views", "2")]) }
    func testSpatialContrasting() throws { try check("SC", "sc", [("region", "0.5")]) }
    func testSpatialContrastingSquaredOneSided() throws { try check("SC", "sc", [("squared", "true"), ("symmetric", "false")]) }
    // SWWAE reads the pooling taps for their switches: their values carry no gradient
    func testSWWAEWithSwitches() throws { try check("SWWAE", "swwae", silent: ["pool*"]) }
    func testSWWAEWithoutSwitches() throws { try check("SWWAE", "swwae", [("switches", "false")], silent: ["pool*"]) }
    func testSWWAEWithFixedSwitches() throws { try check("SWWAE", "swwae", [("unpool", "fixed")], silent: ["pool*"]) }
    func testSWWAEFirstDecoder() throws { try check("SWWAE", "swwae", [("decoder", "first")], silent: ["pool*"]) }
    // layerwise decodes each pool's output: its values carry gradient, as every tap's do
    func testSWWAELayerwiseWithKnownSwitches() throws { try check("SWWAE", "swwae", [("decoder", "layerwise")]) }
    // the invertibility study's decoders: from a pool's output, and from the global feature
    func testSWWAEFromAPoolOutput() throws { try check("SWWAE", "swwae", [("decoder", "first")], tap: "pool2", silent: ["conv*"]) }
    func testSWWAEFromTheGlobalFeature() throws { try check("SWWAE", "swwae", [("decoder", "first"), ("unpool", "fixed")], tap: "features", silent: ["pool*", "conv*"]) }
    func testSWWAELayerwiseWithFixedSwitches() throws { try check("SWWAE", "swwae", [("decoder", "layerwise"), ("unpool", "fixed")]) }

    /// SWWAE's reconstruction terms take ABI 1.2's `mean_squared_error` where the host has it and
    /// sub, square and mean on a 1.1 host: both pass the check, with the same loss to the bit.
    func testSWWAEOnAnABI11HostFallsBackWithTheSameLoss() throws {
        XCTAssertLessThan(Int(HostAPITable.abi11.pointee.struct_size), MemoryLayout<lk_host_api>.size)
        XCTAssertNotNil(HostAPITable.shared.pointee.mean_squared_error)
        let loader = try BuiltPlugins.loader(["SWWAE"])
        var results: [PluginChecker.Result] = []
        for api in [UnsafePointer(HostAPITable.shared), HostAPITable.abi11] {
            var checker = PluginChecker()
            checker.api = api
            let result = try checker.check(loader.plugin(named: "swwae")!)
            XCTAssertTrue(result.report.passed, result.description)
            results.append(result)
        }
        XCTAssertEqual(results[0].lossValue.bitPattern, results[1].lossValue.bitPattern, "\(results[0].lossValue) against \(results[1].lossValue)")
    }

    /// A bad call of the 1.2 function leaves the sticky error naming it, as every graph function does.
    func testMeanSquaredErrorThroughTheTableReportsBadInputByName() {
        let pg = PluginGraph(graph: Graph(training: true, random: RandomGenerator(seed: 0)), encoder: nil)
        let (a, b) = (pg.graph.constant(Tensor(zeros: [2, 3])), pg.graph.constant(Tensor(zeros: [6])))
        XCTAssertNil(HostAPITable.shared.pointee.mean_squared_error(handle(pg), handle(a), handle(b)))
        XCTAssertTrue(pg.error?.hasSuffix("mean_squared_error: meanSquaredError needs two tensors of one shape; got [2×3] and [6]") ?? false,
                      pg.error ?? "no error")
    }
    func testDIMJensenShannon() throws { try check("DIM", "dim", [("width", "16")]) }
    func testDIMInfoNCEWithGlobalTermAndPriorMatching() throws {
        try check("DIM", "dim", [("width", "16"), ("estimator", "infonce"), ("alpha", "0.5"), ("gamma", "0.1")])
    }
    func testDIMDonskerVaradhan() throws { try check("DIM", "dim", [("width", "16"), ("estimator", "dv")]) }
    func testAETThroughEncodeAgain() throws { try check("AET", "aet") }
    func testProjectiveAETThroughTheHomographyWarp() throws { try check("AET", "aet", [("transform", "projective")]) }
    func testGANSemiSupervisedWithFeatureMatching() throws { try check("GAN", "gan", [("width", "4"), ("latent", "8"), ("mode", "semi")]) }
    // DCGAN's discriminator is the encoder's features with its own head: the class logits are unused
    func testGANSemiWithMinibatchDiscriminationAndLabelSmoothing() throws {
        try check("GAN", "gan", [("width", "4"), ("latent", "8"), ("mode", "semi"), ("minibatch_kernels", "6"), ("minibatch_dims", "3"),
                                 ("label_smoothing", "0.9")])
    }
    func testDCGANWithEveryTechnique() throws {
        try check("GAN", "gan", [("mode", "dcgan"), ("width", "4"), ("latent", "8"), ("minibatch_kernels", "5"), ("minibatch_dims", "2"),
                                 ("label_smoothing", "0.9"), ("history_g", "0.1"), ("history_d", "0.1"), ("vbn", "6")], silent: ["logits"])
    }
    func testGANSemiWithAnAdversarialGeneratorAndMinibatchDiscrimination() throws {
        try check("GAN", "gan", [("width", "4"), ("latent", "8"), ("mode", "semi"), ("generator", "adversarial"), ("minibatch_kernels", "4")])
    }
    // with input noise the discriminator encodes the real images again: the host's taps go unread
    func testGANSemiWithInputNoise() throws {
        try check("GAN", "gan", [("width", "4"), ("latent", "8"), ("mode", "semi"), ("noise", "0.3"), ("minibatch_kernels", "4")],
                  silent: ["features", "logits"])
    }
    func testDCGANWithInputNoise() throws {
        try check("GAN", "gan", [("mode", "dcgan"), ("width", "4"), ("latent", "8"), ("noise", "0.3")], silent: ["features", "logits"])
    }
    func testDCGAN() throws { try check("GAN", "gan", [("mode", "dcgan"), ("width", "4"), ("latent", "8")], silent: ["logits"]) }
    // a joint batch encodes the real images again beside the generated ones (batch-norm over
    // both, in training as the check runs): the host's taps go unread
    func testGANSemiWithAJointDiscriminatorBatch() throws {
        try check("GAN", "gan", [("width", "4"), ("latent", "8"), ("mode", "semi"), ("discriminator_batch", "joint"), ("minibatch_kernels", "4")],
                  silent: ["features", "logits"])
    }
    func testDCGANWithAJointDiscriminatorBatch() throws {
        try check("GAN", "gan", [("mode", "dcgan"), ("width", "4"), ("latent", "8"), ("discriminator_batch", "joint")], silent: ["features", "logits"])
    }
}
