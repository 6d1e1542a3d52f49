/// A sum over `n` elements in fixed blocks of 64 Ki: `partial(lo, hi)` sums one block, the
/// blocks run on the threads, and their sums are added in block order, so the bits do not
/// depend on the thread count.
public func blockwiseSum(_ n: Int, _ partial: (_ lo: Int, _ hi: Int) -> Double) -> Double {
    let block = 1 << 16, blocks = max((n + block - 1) / block, 1)
    var sums = [Double](repeating: 0, count: blocks)
    sums.withUnsafeMutableBufferPointer { sums in
        let sums = sums.baseAddress!
        parallelFor(blocks) { lo, hi in
            for b in lo..<hi { sums[b] = partial(b * block, min(n, (b + 1) * block)) }
        }
    }
    return sums.reduce(0, +)
}
