import LossKitCore
import XCTest

/// The harness itself must fail wrong gradients, with and without kink tolerance.
final class GradientCheckTests: XCTestCase {
    /// y = x² with a backward that forgets the factor 2.
    private func wrongSquare(_ g: Graph, _ x: Node) -> Node {
        let out = Tensor(uninitialized: x.shape)
        for i in 0..<x.value.count { out.data[i] = x.value.data[i] * x.value.data[i] }
        return g.record(out, op: "wrong", inputs: [x]) { node in
            let gx = x.gradBuffer().data
            for i in 0..<x.value.count { gx[i] += node.grad!.data[i] * x.value.data[i] }
        }
    }

    func testAWrongGradientFailsEvenWithKinkTolerance() throws {
        let x = Tensor(shape: [4], values: [0.5, -1, 2, 1.5])
        for kinks in [false, true] {
            var check = GradientCheck(allowKinks: kinks)
            check.retrySteps = [1e-3, 1e-1]  // retrying other steps must not rescue a wrong gradient
            let report = try check.run(inputs: [(name: "x", tensor: x)]) { g, v in
                try g.sum(self.wrongSquare(g, v[0]))
            }
            XCTAssertFalse(report.passed, "allowKinks \(kinks): \(report)")
            XCTAssertEqual(report.mismatches.count, 4)
        }
    }

    func testKinkToleranceAcceptsASubgradientAtAKink() throws {
        // relu at exactly 0: central difference 0.5, analytic 0 — between the one-sided 0 and 1
        let x = Tensor(shape: [2], values: [0, 1])
        let strict = try GradientCheck().run(inputs: [(name: "x", tensor: x)]) { g, v in try g.sum(g.relu(v[0])) }
        XCTAssertFalse(strict.passed)
        let tolerant = try GradientCheck(allowKinks: true).run(inputs: [(name: "x", tensor: x)]) { g, v in try g.sum(g.relu(v[0])) }
        XCTAssertTrue(tolerant.passed, "\(tolerant)")
        XCTAssertEqual(tolerant.kinks, 1)
    }

    /// Two unit bumps of slope inside [x−h, x+h] and none at x: both one-sided differences are
    /// 0.75 while the derivative at x is 0, so neither the central nor the one-sided criterion can
    /// accept the correct gradient; the mean of the analytic derivative over the interval can.
    /// L(x) = Σ sₖ·relu(x − cₖ), kinks at c = ∓0.00875, ∓0.00125 (s = +, −, +, −), step 0.01.
    private func bumps(_ g: Graph, _ x: Node, wrongBy factor: Float = 1) throws -> Node {
        let copies = try g.linear(x, weight: g.constant(Tensor(shape: [4, 1], repeating: 1)),
                                  bias: g.constant(Tensor(shape: [4], values: [0.00875, 0.00125, -0.00125, -0.00875])))
        let signs = g.constant(Tensor(shape: [1, 4], values: [1, -1, 1, -1]))
        let value = try g.sum(g.mul(g.relu(copies), signs))
        guard factor != 1 else { return value }
        // the same value with a backward scaled by `factor`
        return g.record(value.value.copy(), op: "scaled", inputs: [value]) { node in
            value.gradBuffer().data[0] += factor * node.grad!.data[0]
        }
    }

    func testSeveralKinksWithinTheStepAreAcceptedByTheIntervalMeanAndAWrongGradientIsNot() throws {
        let x = Tensor(shape: [1, 1], values: [0])
        var check = GradientCheck(allowKinks: true)
        check.intervalSamples = 0
        let bracketOnly = try check.run(inputs: [(name: "x", tensor: x)]) { g, v in try self.bumps(g, v[0]) }
        XCTAssertFalse(bracketOnly.passed, "0 against one-sided 0.75 and 0.75: \(bracketOnly)")
        check.intervalSamples = 16
        let averaged = try check.run(inputs: [(name: "x", tensor: x)]) { g, v in try self.bumps(g, v[0]) }
        XCTAssertTrue(averaged.passed, "\(averaged)")
        XCTAssertEqual(averaged.acrossKinks, 1)
        XCTAssertTrue("\(averaged)".hasSuffix("1 across several kinks"), "\(averaged)")
        let wrong = try check.run(inputs: [(name: "x", tensor: x)]) { g, v in try self.bumps(g, v[0], wrongBy: 0.5) }
        XCTAssertFalse(wrong.passed, "a gradient half the true one everywhere: \(wrong)")
        XCTAssertFalse(try GradientCheck().run(inputs: [(name: "x", tensor: x)]) { g, v in try self.bumps(g, v[0]) }.passed,
                       "without allowKinks the interval is never sampled")
    }

    func testTheReportSaysHowMuchOfItsToleranceTheWorstElementUsed() throws {
        // x³ at x = 2, step 0.1: central difference 12 + h² = 12.01 against 12; tolerance 2e-3 + 2e-2·12.01
        let x = Tensor(shape: [2], values: [2, 3])  // at 3: 0.01 of 0.5422, less
        let report = try GradientCheck(step: 0.1).run(inputs: [(name: "x", tensor: x)]) { g, v in
            try g.sum(g.mul(g.mul(v[0], v[0]), v[0]))
        }
        XCTAssertTrue(report.passed, "\(report)")
        XCTAssertEqual(report.worstToleranceUsed, 0.01 / (2e-3 + 2e-2 * 12.01), accuracy: 1e-3)
        XCTAssertEqual(report.retried, 0)
        XCTAssertTrue("\(report)".hasPrefix("gradient check passed: 2 elements, the worst at 0.04 of its tolerance"), "\(report)")
    }

    func testAnElementNearItsToleranceIsMeasuredAgainAtTheOtherStepsAndKeepsItsBest() throws {
        // x³ at x = 2 with step 0.45: central difference 12 + h² = 12.2025, 0.2025 off, 0.82 of its
        // tolerance (2e-3 + 2e-2·12.2025); at the retry step 0.01 it is 1e-4 off
        let x = Tensor(shape: [1], values: [2])
        var check = GradientCheck(step: 0.45)
        check.retrySteps = [0.01]
        let report = try check.run(inputs: [(name: "x", tensor: x)]) { g, v in try g.sum(g.mul(g.mul(v[0], v[0]), v[0])) }
        XCTAssertTrue(report.passed, "\(report)")
        XCTAssertLessThan(report.worstToleranceUsed, 0.01, report.worstElement)
        check.retrySteps = []
        let once = try check.run(inputs: [(name: "x", tensor: x)]) { g, v in try g.sum(g.mul(g.mul(v[0], v[0]), v[0])) }
        XCTAssertEqual(once.worstToleranceUsed, 0.2025 / (2e-3 + 2e-2 * 12.2025), accuracy: 2e-3)
        XCTAssertTrue(once.worstElement.hasPrefix("x[0]: analytic 12.0 vs numeric 12.20"), once.worstElement)
    }
}

/// A loss that ignores an input passes element by element (0 against 0); the report names it.
final class GradientCheckSilenceTests: XCTestCase {
    func testAnInputTheLossIgnoresIsReportedAsWithoutGradient() throws {
        let a = Fixtures.random([3, 4], seed: 1), b = Fixtures.random([3, 4], seed: 2)
        let report = try GradientCheck().run(inputs: [(name: "used", tensor: a), (name: "ignored", tensor: b)]) { g, x in
            try g.sum(g.mul(x[0], x[0]))
        }
        XCTAssertTrue(report.passed, report.description)
        XCTAssertEqual(report.withoutGradient, ["ignored"])
    }
}
