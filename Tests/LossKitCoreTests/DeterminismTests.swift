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

    /// The Winograd convolution's shares (more than the threads, taken by whichever thread is
    /// free) fix its weight gradient's bits at the forward pass: repeated two-thread passes agree
    /// bit for bit, and a backward run on another thread count (3, or 1) gives the same bits.
    func testWinogradSharesGiveTheSameBitsWhicheverThreadRunsThem() throws {
        let saved = (Graph.winogradChunkFloats, Threads.count)
        defer { Graph.winogradChunkFloats = saved.0; Threads.set(saved.1) }
        Graph.winogradChunkFloats = 1  // one image a chunk: 12 chunks, 8 shares at two threads
        let x = Fixtures.random([12, 8, 10, 10], seed: 1), w = Fixtures.random([8, 8, 3, 3], seed: 2)
        func gradients(forward: Int, backward: Int) throws -> [[Float]] {
            Threads.set(forward)
            let g = Graph(training: true, random: RandomGenerator(seed: 0))
            let (xv, wv) = (g.variable(x), g.variable(w))
            let y = try g.conv2d(xv, weight: wv, bias: nil, padding: 1)
            let loss = try Fixtures.project(g, y)
            Threads.set(backward)
            try g.backward(from: loss)
            return [y.value.array, xv.grad!.array, wv.grad!.array]
        }
        let reference = try gradients(forward: 2, backward: 2)
        for _ in 0..<10 { XCTAssertEqual(try gradients(forward: 2, backward: 2), reference) }
        XCTAssertEqual(try gradients(forward: 2, backward: 3), reference)
        XCTAssertEqual(try gradients(forward: 2, backward: 1), reference)
    }
}
