/// xoshiro256** (Blackman & Vigna): the one seeded generator behind initialisation, data order,
/// augmentation, dropout and plugin randomness. Its 256-bit state is saved in checkpoints so a
/// resumed run draws exactly the numbers the uninterrupted run would have drawn.
public final class RandomGenerator {
    public internal(set) var state: (UInt64, UInt64, UInt64, UInt64)

    /// Seeds the state with SplitMix64, as the algorithm's authors recommend, so that nearby seeds
    /// give unrelated streams.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public init(state: [UInt64]) {
        precondition(state.count == 4)
        self.state = (state[0], state[1], state[2], state[3])
    }

    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    @inline(__always)
    public func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 bits of precision (every float32 step in that range).
    @inline(__always)
    public func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    public func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

    /// Uniform integer in 0..<n without modulo bias (Lemire's multiply-shift with rejection).
    public func below(_ n: Int) -> Int {
        precondition(n > 0)
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    /// Standard normal by Box–Muller; both values of a pair are used, the spare is not kept so
    /// that the state alone describes the generator.
    public func fillNormal(_ p: UnsafeMutablePointer<Float>, _ n: Int, mean: Float = 0, std: Float = 1) {
        var i = 0
        while i < n {
            let u1 = max(Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0), 1e-300)
            let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
            let r = (-2 * _log(u1)).squareRoot()
            let a = 2 * Double.pi * u2
            p[i] = mean + std * Float(r * _cos(a))
            if i + 1 < n { p[i + 1] = mean + std * Float(r * _sin(a)) }
            i += 2
        }
    }

    public func fillUniform(_ p: UnsafeMutablePointer<Float>, _ n: Int, low: Float, high: Float) {
        for i in 0..<n { p[i] = uniform(low, high) }
    }

    /// Fisher–Yates shuffle of 0..<n.
    public func permutation(_ n: Int) -> [Int] {
        var a = Array(0..<n)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) { a.swapAt(i, below(i + 1)) }
        }
        return a
    }
}

import Foundation
@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
@inline(__always) private func _sin(_ x: Double) -> Double { Foundation.sin(x) }

extension RandomGenerator {
    /// Continues from another generator's state (rewinds for repeatable draws).
    public func restore(from other: RandomGenerator) { state = other.state }
}
