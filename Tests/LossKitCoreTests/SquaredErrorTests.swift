import LossKitCore
import XCTest

/// `meanSquaredError` is `mean(square(sub(a, b)))` in one op: gradient-checked, and equal to the
/// three ops bit for bit in value and in both gradients, over several summation blocks, a tail
/// shorter than a vector, and at several thread counts.
final class SquaredErrorTests: XCTestCase {
    func testMeanSquaredErrorGradients() {
        let a = Fixtures.random([2, 3, 5], seed: 300), b = Fixtures.random([2, 3, 5], seed: 301)
        assertGradients([("a", a), ("b", b)]) { g, v in try g.meanSquaredError(v[0], v[1]) }
    }

    func testMeanSquaredErrorIsSubSquareMeanBitForBit() throws {
        let saved = Threads.count
        defer { Threads.set(saved) }
        let a = Fixtures.random([3, 70_003], seed: 302), b = Fixtures.random([3, 70_003], seed: 303)
        // shared: a and b also feed other terms, so the gradients are added to what is there
        func run(fused: Bool, shared: Bool = false) throws -> [[Float]] {
            let g = Graph(training: true, random: RandomGenerator(seed: 0))
            let (av, bv) = (g.variable(a), g.variable(b))
            var loss = fused ? try g.meanSquaredError(av, bv) : try g.mean(g.square(g.sub(av, bv)))
            if shared { loss = try g.add(g.add(g.mean(av), loss), g.mean(g.square(bv))) }
            // a weight other than 1 on the loss, as a loss term's weight in training
            try g.backward(from: g.scale(loss, 0.3))
            return [loss.value.array, av.grad!.array, bv.grad!.array]
        }
        for threads in [1, 2, 3] {
            Threads.set(threads)
            for shared in [false, true] {
                let (fused, composed) = (try run(fused: true, shared: shared), try run(fused: false, shared: shared))
                XCTAssertEqual(fused[0][0].bitPattern, composed[0][0].bitPattern, "\(threads) threads: value")
                for (name, (u, v)) in zip(["da", "db"], zip(fused[1...], composed[1...])) {
                    XCTAssertEqual(zip(u, v).filter { $0.bitPattern != $1.bitPattern }.count, 0,
                                   "\(threads) threads\(shared ? ", added to other terms' gradients" : ""): \(name) elements that differ")
                }
            }
        }
    }

    func testMeanSquaredErrorRejectsTwoShapes() {
        let g = Graph(training: true, random: RandomGenerator(seed: 0))
        XCTAssertThrowsError(try g.meanSquaredError(g.constant(Tensor(zeros: [2, 3])), g.constant(Tensor(zeros: [3, 2])))) {
            XCTAssertEqual("\($0)", "meanSquaredError needs two tensors of one shape; got [2×3] and [3×2]")
        }
    }
}
