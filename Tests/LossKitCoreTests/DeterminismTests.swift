import LossKitCore
import XCTest

/// Same seed and thread count → bit-identical parameters: the recipe for a reproducible run.
final class DeterminismTests: XCTestCase {
    private func train(seed: UInt64, threads: Int) throws -> [Float] {
        Threads.set(threads)
        defer { Threads.set(1) }
        let rng = RandomGenerator(seed: seed)
        let conv = Parameter(name: "conv", value: Tensor(zeros: [4, 1, 3, 3]))
        let gamma = Parameter(name: "gamma", value: Tensor(shape: [4], repeating: 1), noWeightDecay: true)
        let beta = Parameter(name: "beta", value: Tensor(zeros: [4]), noWeightDecay: true)
        let head = Parameter(name: "head", value: Tensor(zeros: [3, 4]))
        Initializer.kaimingNormal.fill(conv.value, random: rng)
        Initializer.xavierUniform.fill(head.value, random: rng)
        let stats = BatchNormStatistics(channels: 4)
        let params = [conv, gamma, beta, head]
        let opt = Optimizer(parameters: params, defaultSettings: .sgd(lr: 0.05, weightDecay: 5e-4))
        for _ in 0..<5 {
            let x = Tensor(uninitialized: [8, 1, 6, 6])
            rng.fillNormal(x.data, x.count)
            let labels = (0..<8).map { _ in Int32(rng.below(3)) }
            let g = Graph(training: true, random: rng)
            var h = try g.conv2d(g.constant(x), weight: g.param(conv), padding: 1)
            h = try g.batchNorm(h, gamma: g.param(gamma), beta: g.param(beta), running: stats)
            h = try g.dropout(g.relu(try g.maxPool2d(h, kernel: 2)), p: 0.1)
            let logits = try g.linear(g.globalAvgPool(h), weight: g.param(head), bias: nil)
            try g.backward(from: g.softmaxCrossEntropy(logits, labels: labels))
            opt.step()
        }
        return params.flatMap { $0.value.array } + stats.mean.array
    }

    func testSameSeedGivesBitIdenticalParameters() throws {
        let a = try train(seed: 7, threads: 1), b = try train(seed: 7, threads: 1)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, try train(seed: 8, threads: 1), "a different seed gives a different run")
    }

    func testSameSeedAndTwoThreadsGivesBitIdenticalParameters() throws {
        XCTAssertEqual(try train(seed: 7, threads: 2), try train(seed: 7, threads: 2))
    }

    /// Three workers: a reduction that added per-thread sums in finishing order (the direct
    /// convolution's weight gradient once did) would round differently from run to run.
    func testSameSeedAndThreeThreadsGivesBitIdenticalParameters() throws {
        let first = try train(seed: 7, threads: 3)
        for _ in 0..<3 { XCTAssertEqual(first, try train(seed: 7, threads: 3)) }
    }
}
