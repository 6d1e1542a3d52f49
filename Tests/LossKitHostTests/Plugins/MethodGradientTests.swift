import LossKitHost
import XCTest

/// `losskit plugins check` on every shipped objective, in-process: each loss is gradient-checked
/// against finite differences through the images, the encoder's parameters and its own.
final class MethodGradientTests: XCTestCase {
    private func check(_ library: String, _ plugin: String, _ options: [(key: String, value: String)] = [], file: StaticString = #filePath, line: UInt = #line) throws {
        let loader = try BuiltPlugins.loader([library])
        let result = try PluginChecker().check(loader.plugin(named: plugin)!, options: options)
        XCTAssertTrue(result.report.passed, result.description, file: file, line: line)
        XCTAssertTrue(result.lossValue.isFinite, file: file, line: line)
    }

    func testNCEWithNoiseSamples() throws { try check("NCE", "nce", [("negatives", "64")]) }
    func testNCEWithTheDefaultFourThousandNegatives() throws { try check("NCE", "nce") }
    func testNCEExactSoftmaxWithProximalTerm() throws { try check("NCE", "nce", [("negatives", "0"), ("proximal", "0.5")]) }
    func testNCEWithTheMLPHeadsBatchNorm() throws { try check("NCE", "nce", [("negatives", "64"), ("hidden", "16")]) }
    func testNCEWithASecondViewThroughEncodeAgain() throws { try check("NCE", "nce", [("negatives", "0"), ("views", "2")]) }
    func testSpatialContrasting() throws { try check("SC", "sc", [("region", "0.5")]) }
    func testSpatialContrastingSquaredOneSided() throws { try check("SC", "sc", [("squared", "true"), ("symmetric", "false")]) }
    func testSWWAEWithSwitches() throws { try check("SWWAE", "swwae") }
    func testSWWAEWithoutSwitches() throws { try check("SWWAE", "swwae", [("switches", "false")]) }
    func testDIMJensenShannon() throws { try check("DIM", "dim", [("width", "16")]) }
    func testDIMInfoNCEWithGlobalTermAndPriorMatching() throws {
        try check("DIM", "dim", [("width", "16"), ("estimator", "infonce"), ("alpha", "0.5"), ("gamma", "0.1")])
    }
    func testDIMDonskerVaradhan() throws { try check("DIM", "dim", [("width", "16"), ("estimator", "dv")]) }
    func testAETThroughEncodeAgain() throws { try check("AET", "aet") }
    func testGANSemiSupervisedWithFeatureMatching() throws { try check("GAN", "gan", [("width", "4"), ("latent", "8"), ("mode", "semi")]) }
    func testDCGAN() throws { try check("GAN", "gan", [("mode", "dcgan"), ("width", "4"), ("latent", "8")]) }
}
