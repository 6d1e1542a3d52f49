import Foundation
@testable import LossKitCore
import XCTest

/// Synchronised batch-norm (`Graph.batchStatisticsSum`), as a data-parallel run uses it: two
/// "processes" — two threads, each with its own graph and half of the batch, whose sums meet in
/// an exchange — against one graph with the whole batch.
final class SynchronisedBatchNormTests: XCTestCase {
    /// Two parties that each hand in `count` doubles and each get back both parties' sum.
    final class Exchange: @unchecked Sendable {
        private let lock = NSCondition()
        private var pending: [Double]?
        private var result: [Double]?
        private var round = 0

        func sum(_ p: UnsafeMutablePointer<Double>, _ n: Int) {
            lock.lock()
            defer { lock.unlock() }
            let mine = Array(UnsafeBufferPointer(start: p, count: n))
            if let other = pending {
                result = zip(other, mine).map { $0 + $1 }
                pending = nil
                round += 1
                lock.broadcast()
            } else {
                pending = mine
                let waitingFor = round + 1
                while round < waitingFor { lock.wait() }
            }
            let r = result!
            for i in 0..<n { p[i] = r[i] }
        }
    }

    /// Each party's loss is the mean over its rows of y·w; their average is the whole batch's
    /// mean. So the outputs and running statistics must match the whole batch's, γ's and β's
    /// gradients averaged over the parties must match, and each party's input gradient is N = 2
    /// times the whole batch's (DataParallel averages parameter gradients, never inputs').
    func testTwoHalvesSynchronisedComputeTheWholeBatch() throws {
        let saved = Threads.count
        defer { Threads.set(saved) }
        Threads.set(1)
        for (relu, shape) in [(false, [6, 3, 4, 4]), (true, [6, 3, 4, 4]), (false, [8, 5])] {
            let x = Fixtures.random(shape, seed: 31), w = Fixtures.random(shape, seed: 32)
            let C = shape[1]
            let gamma = Fixtures.random([C], seed: 33, low: 0.5, high: 1.5), beta = Fixtures.random([C], seed: 34)
            @Sendable func run(_ x: Tensor, _ w: Tensor, sum: ((UnsafeMutablePointer<Double>, Int) -> Void)?) throws
                -> (y: [Float], dx: [Float], dg: [Float], db: [Float], stats: BatchNormStatistics) {
                let g = Graph(training: true, random: RandomGenerator(seed: 0))
                g.batchStatisticsSum = sum
                let (xv, gv, bv) = (g.variable(x), g.variable(gamma.copy()), g.variable(beta.copy()))
                let stats = BatchNormStatistics(channels: C)
                let y = try g.batchNorm(xv, gamma: gv, beta: bv, running: stats, relu: relu)
                try g.backward(from: try g.mean(try g.mul(y, g.constant(w)), axes: nil))
                return (y.value.array, xv.grad!.array, gv.grad!.array, bv.grad!.array, stats)
            }
            let whole = try run(x, w, sum: nil)
            let half = shape[0] / 2, width = x.count / shape[0]
            @Sendable func rows(_ t: Tensor, _ r: Range<Int>) -> Tensor {
                Tensor(shape: [r.count] + shape.dropFirst(), values: Array(t.array[(r.lowerBound * width)..<(r.upperBound * width)]))
            }
            let exchange = Exchange()
            final class Box: @unchecked Sendable { var value: (y: [Float], dx: [Float], dg: [Float], db: [Float], stats: BatchNormStatistics)?; var error: Error? }
            let parts = [Box(), Box()]
            let done = DispatchGroup()
            for (k, range) in [0..<half, half..<shape[0]].enumerated() {
                done.enter()
                Thread {
                    do { parts[k].value = try run(rows(x, range), rows(w, range), sum: exchange.sum) } catch { parts[k].error = error }
                    done.leave()
                }.start()
            }
            XCTAssertEqual(done.wait(timeout: .now() + 30), .success, "the two halves should meet in every exchange")
            let a = try XCTUnwrap(parts[0].value), b = try XCTUnwrap(parts[1].value)
            func close(_ p: [Float], _ q: [Float], _ what: String, tolerance: Float = 1e-5) {
                XCTAssertEqual(p.count, q.count, what)
                let worst = zip(p, q).map { abs($0 - $1) / max(abs($1), 1) }.max() ?? 0
                XCTAssertLessThan(worst, tolerance, "\(what) (relu \(relu), \(shape))")
            }
            close(a.y + b.y, whole.y, "outputs")
            close(a.stats.mean.array, whole.stats.mean.array, "running means")
            close(b.stats.variance.array, whole.stats.variance.array, "running variances")
            close(zip(a.dg, b.dg).map { ($0 + $1) / 2 }, whole.dg, "γ's gradient, averaged")
            close(zip(a.db, b.db).map { ($0 + $1) / 2 }, whole.db, "β's gradient, averaged")
            close((a.dx + b.dx).map { $0 / 2 }, whole.dx, "input gradient")
            // unsynchronised halves normalise by their own statistics: the comparison can fail
            let alone = try run(rows(x, 0..<half), rows(w, 0..<half), sum: nil)
            XCTAssertGreaterThan(zip(alone.y, whole.y.prefix(alone.y.count)).map { abs($0 - $1) }.max() ?? 0, 1e-3)
        }
    }

    /// The synchronised path of one process (a sum over one party) is gradient-checked like
    /// every op.
    func testSynchronisedPathPassesTheGradientCheck() {
        for shape in [[4, 3, 3, 3], [5, 3]] {
            let x = Fixtures.random(shape, seed: 41)
            let gamma = Fixtures.random([3], seed: 42, low: 0.5, high: 1.5), beta = Fixtures.random([3], seed: 43)
            for relu in [false, true] {
                var check = GradientCheck(allowKinks: relu)
                check.maxElementsPerTensor = 64
                assertGradients([("x", x), ("gamma", gamma), ("beta", beta)], check: check) { g, v in
                    g.batchStatisticsSum = { _, _ in }
                    return try g.batchNorm(v[0], gamma: v[1], beta: v[2], running: nil, relu: relu)
                }
            }
        }
    }
}
