import LossKitCore
import XCTest

final class OptimizerTests: XCTestCase {
    func testNesterovSGDMatchesTheWrittenUpdate() {
        let p = Parameter(name: "w", value: Tensor(shape: [1], values: [1]))
        let opt = Optimizer(parameters: [p], defaultSettings: .sgd(lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01))
        p.grad[0] = 0.5
        opt.step()
        // g = 0.5 + 0.01·1 = 0.51; v = 0.51; w = 1 - 0.1·(0.51 + 0.9·0.51)
        XCTAssertEqual(p.value[0], 1 - 0.1 * (0.51 + 0.9 * 0.51), accuracy: 1e-6)
        XCTAssertEqual(p.grad[0], 0, "the step zeroes the gradient")
    }

    func testAdamFirstStepMovesByTheLearningRate() {
        let p = Parameter(name: "w", value: Tensor(shape: [2], values: [1, 1]))
        let opt = Optimizer(parameters: [p], defaultSettings: .adam(lr: 0.01))
        p.grad[0] = 3; p.grad[1] = -0.2
        opt.step()
        XCTAssertEqual(p.value[0], 0.99, accuracy: 1e-5)
        XCTAssertEqual(p.value[1], 1.01, accuracy: 1e-5)
    }

    func testGroupsUseTheirOwnSettings() {
        let a = Parameter(name: "a", group: "encoder", value: Tensor(shape: [1], values: [0]))
        let b = Parameter(name: "b", group: "generator", value: Tensor(shape: [1], values: [0]))
        let opt = Optimizer(parameters: [a, b], defaultSettings: .sgd(lr: 1, momentum: 0, nesterov: false),
                            groupSettings: ["generator": .adam(lr: 2e-4, beta1: 0.5)])
        a.grad[0] = 1; b.grad[0] = 1
        opt.step()
        XCTAssertEqual(a.value[0], -1, accuracy: 1e-6)
        XCTAssertEqual(b.value[0], -2e-4, accuracy: 1e-7)
    }

    func testAFrozenParameterKeepsItsValueMomentsAndItsGroupsStepCount() {
        // an Adam group frozen for two steps, then stepped: exactly one fresh Adam step
        let frozen = Parameter(name: "g", group: "generator", value: Tensor(shape: [1], values: [1]))
        let fresh = Parameter(name: "g", group: "generator", value: Tensor(shape: [1], values: [1]))
        let other = Parameter(name: "w", value: Tensor(shape: [1], values: [0]))
        let settings: [String: OptimizerSettings] = ["generator": .adam(lr: 0.01, weightDecay: 0.1)]
        let a = Optimizer(parameters: [frozen, other], defaultSettings: .sgd(lr: 1, momentum: 0.9), groupSettings: settings)
        let b = Optimizer(parameters: [fresh], defaultSettings: .sgd(lr: 1), groupSettings: settings)
        for _ in 0..<2 {
            frozen.grad[0] = 5; other.grad[0] = 1
            a.step(frozen: ["g"])
            XCTAssertEqual(frozen.value[0], 1, "not decayed, not moved")
            XCTAssertEqual(frozen.grad[0], 0, "its gradient is still cleared")
        }
        XCTAssertNotEqual(other.value[0], 0, "the rest of the model stepped")
        frozen.grad[0] = 3; fresh.grad[0] = 3
        a.step()
        b.step()
        XCTAssertEqual(frozen.value[0], fresh.value[0], "bias correction as at step 1: the group counted no steps while frozen")
        XCTAssertEqual(a.firstMoment["g"]!.array, b.firstMoment["g"]!.array)
    }

    func testNoWeightDecayParametersSkipDecay() {
        let p = Parameter(name: "bias", value: Tensor(shape: [1], values: [1]), noWeightDecay: true)
        let opt = Optimizer(parameters: [p], defaultSettings: .sgd(lr: 0.1, momentum: 0, nesterov: false, weightDecay: 0.5))
        opt.step()
        XCTAssertEqual(p.value[0], 1)
    }

    func testSGDMinimisesAQuadratic() throws {
        let p = Parameter(name: "w", value: Tensor(shape: [3], values: [3, -2, 5]))
        let opt = Optimizer(parameters: [p], defaultSettings: .sgd(lr: 0.1))
        for _ in 0..<200 {
            let g = Graph(training: true, random: RandomGenerator(seed: 0))
            try g.backward(from: g.sum(g.square(g.param(p))))
            opt.step()
        }
        XCTAssertTrue(p.value.array.allSatisfy { abs($0) < 1e-3 }, "\(p.value.array)")
    }

    func testSchedules() {
        XCTAssertEqual(LearningRateSchedule.constant.factor(at: 99), 1)
        XCTAssertEqual(LearningRateSchedule.step(every: 10, gamma: 0.5).factor(at: 25), 0.25)
        let cos = LearningRateSchedule.cosine(warmupSteps: 10, totalSteps: 110)
        XCTAssertEqual(cos.factor(at: 0), 0.1, accuracy: 1e-6)
        XCTAssertEqual(cos.factor(at: 9), 1, accuracy: 1e-6)
        XCTAssertEqual(cos.factor(at: 10), 1, accuracy: 1e-6)
        XCTAssertEqual(cos.factor(at: 60), 0.5, accuracy: 1e-6)
        XCTAssertEqual(cos.factor(at: 110), 0, accuracy: 1e-6)
    }

    func testInitialisersHaveTheirStatedSpread() {
        let rng = RandomGenerator(seed: 3)
        let w = Tensor(zeros: [256, 64, 3, 3])
        Initializer.kaimingNormal.fill(w, random: rng)
        let n = Float(w.count)
        let mean = w.array.reduce(0, +) / n
        let std = (w.array.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n).squareRoot()
        XCTAssertEqual(std, (2 / Float(64 * 9)).squareRoot(), accuracy: 0.002)
        let x = Tensor(zeros: [100, 50])
        Initializer.xavierUniform.fill(x, random: rng)
        let bound = (6 / Float(150)).squareRoot()
        XCTAssertTrue(x.array.allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(x.array.map(abs).max()!, bound * 0.95)
    }
}
