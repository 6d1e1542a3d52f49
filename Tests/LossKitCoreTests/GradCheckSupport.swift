import LossKitCore
import XCTest

/// Random tensors and an assertion wrapper around `GradientCheck`, shared by the op tests.
enum Fixtures {
    static func random(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
        let t = Tensor(uninitialized: shape)
        RandomGenerator(seed: seed).fillUniform(t.data, t.count, low: low, high: high)
        return t
    }

    /// Values spread apart so that max and ReLU kinks sit farther than the finite-difference step.
    static func distinct(_ shape: [Int], seed: UInt64) -> Tensor {
        let t = Tensor(uninitialized: shape)
        let order = RandomGenerator(seed: seed).permutation(t.count)
        for (i, r) in order.enumerated() { t.data[i] = (Float(r) - Float(t.count) / 2) * 0.05 + 0.025 }
        return t
    }

    /// A fixed random projection, so the checked scalar depends on every output element. With
    /// `magnitudes`, the projection's absolute values: the backward pass then sums |dy|·|...|, the
    /// magnitudes that bound each gradient's rounding error.
    static func project(_ g: Graph, _ y: Node, seed: UInt64 = 99, magnitudes: Bool = false) throws -> Node {
        let weights = random(y.shape, seed: seed)
        let w = g.constant(magnitudes ? weights.absolute : weights)
        return try g.sum(g.mul(y, w))
    }
}

extension Tensor {
    /// Element-wise absolute values, as a new tensor.
    var absolute: Tensor {
        let t = Tensor(uninitialized: shape)
        for i in 0..<count { t.data[i] = abs(data[i]) }
        return t
    }
}

func assertGradients(
    _ inputs: [(String, Tensor)], parameters: [Parameter] = [], check: GradientCheck = GradientCheck(),
    file: StaticString = #filePath, line: UInt = #line, _ build: @escaping (Graph, [Node]) throws -> Node
) {
    do {
        let report = try check.run(inputs: inputs.map { (name: $0.0, tensor: $0.1) }, parameters: parameters) { g, xs in
            try Fixtures.project(g, build(g, xs))
        }
        XCTAssertTrue(report.passed, report.description, file: file, line: line)
    } catch {
        XCTFail("gradient check threw: \(error)", file: file, line: line)
    }
}
