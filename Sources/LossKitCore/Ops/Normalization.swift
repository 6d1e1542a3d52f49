import Foundation

/// Running statistics of one batch-norm layer: not trained, but saved in checkpoints and used in
/// evaluation mode.
public final class BatchNormStatistics {
    public let mean: Tensor
    public let variance: Tensor
    public init(channels: Int) {
        mean = Tensor(zeros: [channels])
        variance = Tensor(shape: [channels], repeating: 1)
    }
    public init(mean: Tensor, variance: Tensor) {
        self.mean = mean
        self.variance = variance
    }
}

extension Graph {
    /// Batch normalisation over all axes but the channel axis 1: x [B, C] or [B, C, H, W].
    ///
    ///     x̂ = (x - μ) / √(σ² + eps),   y = γ·x̂ + β
    ///
    /// Training: μ, σ² are the batch's (biased σ²), and `running` moves toward them by
    /// `momentum` (unbiased σ², as PyTorch does). Evaluation: μ, σ² are `running`'s.
    ///
    /// With `relu`, the output is max(y, 0): batch-norm and ReLU as one op (`batchNormReLU`).
    public func batchNorm(
        _ x: Node, gamma: Node, beta: Node, running: BatchNormStatistics?,
        momentum: Float = 0.1, eps: Float = 1e-5, relu: Bool = false
    ) throws -> Node {
        guard x.shape.count == 2 || x.shape.count == 4 else {
            throw ShapeError("batchNorm needs [B, C] or [B, C, H, W]; got \(shapeText(x.shape))")
        }
        let B = x.shape[0], C = x.shape[1], P = x.shape.count == 4 ? x.shape[2] * x.shape[3] : 1
        guard gamma.shape == [C], beta.shape == [C] else {
            throw ShapeError("batchNorm: γ and β must be [\(C)]; got \(shapeText(gamma.shape)) and \(shapeText(beta.shape))")
        }
        if let running, running.mean.shape != [C] {
            throw ShapeError("batchNorm: running statistics are for \(running.mean.count) channels, input has \(C)")
        }
        let useBatch = training || running == nil
        let M = B * P
        guard !useBatch || M > 1 else {
            throw ShapeError("batchNorm in training mode needs more than one value per channel; got \(shapeText(x.shape))")
        }
        return timed("batchnorm") {
            // x̂ is not kept: backward recomputes it from x and these two per-channel numbers, which
            // saves writing (and holding until backward) one activation-sized tensor per layer
            let out = Tensor(uninitialized: x.shape)
            let means = Tensor(uninitialized: [C]), invStd = Tensor(uninitialized: [C])
            let px = x.value.data, po = out.data
            let pg = gamma.value.data, pb = beta.value.data
            // A convolution's output comes with each plane's Σ and Σ² (Node.planeMoments), taken
            // while it was in cache: the same numbers this op would sum, so the same bits, one pass
            // over the activation fewer. Without them each channel's planes are summed here and
            // normalised right after, while still in cache.
            let moments = useBatch ? x.planeMoments?.data : nil
            // synchronised across processes: the statistics over every process's rows
            let crossProcess = useBatch ? batchStatisticsSum : nil
            /// Channel c's Σ and Σ² over this batch's planes, in image order.
            @inline(__always) func channelSums(_ c: Int) -> (Double, Double) {
                var s: Double = 0, s2: Double = 0
                for b in 0..<B {
                    let plane = b * C + c
                    let (rs, rs2) = moments.map { ($0[2 * plane], $0[2 * plane + 1]) } ?? kernels.sumAndSquares(px + plane * P, P)
                    s += Double(rs); s2 += Double(rs2)
                }
                return (s, s2)
            }
            var count = M
            if let crossProcess {
                count = synchronisedStatistics(C: C, rows: M, channelSums: channelSums, sum: crossProcess, running: running,
                                               momentum: momentum, eps: eps, means: means.data, invStd: invStd.data)
            } else {
                parallelFor(C) { lo, hi in
                    for c in lo..<hi {
                        var mu: Float, variance: Float
                        if useBatch {
                            let (s, s2) = channelSums(c)
                            let m = s / Double(M)
                            mu = Float(m)
                            variance = Float(max(s2 / Double(M) - m * m, 0))
                            if let running {
                                running.mean.data[c] = (1 - momentum) * running.mean.data[c] + momentum * mu
                                let unbiased = variance * Float(M) / Float(max(M - 1, 1))
                                running.variance.data[c] = (1 - momentum) * running.variance.data[c] + momentum * unbiased
                            }
                        } else {
                            mu = running!.mean.data[c]
                            variance = running!.variance.data[c]
                        }
                        let inv = 1 / (variance + eps).squareRoot()
                        means.data[c] = mu
                        invStd.data[c] = inv
                        guard moments == nil else { continue }
                        for b in 0..<B {
                            let off = (b * C + c) * P
                            kernels.normalize(px + off, po + off, P, mu: mu, inv: inv, gamma: pg[c], beta: pb[c], relu: relu)
                        }
                    }
                }
            }
            if moments != nil || crossProcess != nil {
                // in memory order: one stream through the activation, which the prefetcher follows
                let (pm, pi) = (means.data, invStd.data)
                parallelFor(B * C, minChunk: max(1, (1 << 14) / P)) { lo, hi in
                    for plane in lo..<hi {
                        let c = plane % C
                        kernels.normalize(px + plane * P, po + plane * P, P, mu: pm[c], inv: pi[c], gamma: pg[c], beta: pb[c], relu: relu)
                    }
                }
            }
            let globalCount = count
            return record(out, op: "batchnorm", name: relu ? "batchnorm+relu" : "batchnorm", inputs: [x, gamma, beta]) { node in  // the ReLU included: one op kind in the shares
                let g = node.grad!.data, px = x.value.data
                let (gx, accumulate) = x.requiresGrad ? x.gradBufferForWriting() : (nil, true)
                let gg = gamma.requiresGrad ? gamma.gradBuffer().data : nil
                let gb = beta.requiresGrad ? beta.gradBuffer().data : nil
                // Both passes walk the planes in memory order: one stream each through dy and x,
                // which the prefetcher follows, where one channel's B planes lie C·P floats apart.
                // Each plane's two sums are added per channel in image order, as before.
                let (pm, pi) = (means.data, invStd.data)
                @inline(__always) func mask(_ c: Int) -> ReLUAfterNorm? {
                    // with the ReLU, dy is the output's gradient where the output was positive
                    relu ? ReLUAfterNorm(scale: pg[c] * pi[c], shift: pb[c]) : nil
                }
                let minChunk = max(1, (1 << 14) / P)
                let planeSums = Tensor(uninitialized: [B, C, 2]), ps = planeSums.data
                parallelFor(B * C, minChunk: minChunk) { lo, hi in
                    for plane in lo..<hi {
                        let c = plane % C
                        (ps[2 * plane], ps[2 * plane + 1]) = kernels.sumAndNormalizedDot(
                            g + plane * P, px + plane * P, P, mu: pm[c], inv: pi[c], relu: mask(c))
                    }
                }
                let sums = Tensor(zeros: [2, C]), sumDy = sums.data, sumDyH = sums.data + C
                for b in 0..<B {
                    for c in 0..<C {
                        sumDy[c] += ps[2 * (b * C + c)]
                        sumDyH[c] += ps[2 * (b * C + c) + 1]
                    }
                }
                for c in 0..<C {
                    gb?[c] += sumDy[c]
                    gg?[c] += sumDyH[c]
                }
                // γ and β keep this process's sums (the run averages parameter gradients across
                // processes); the input gradient's two terms are the whole batch's
                if let crossProcess { Graph.sumAcrossProcesses(sums, crossProcess) }
                let M = globalCount
                guard let gx else { return }
                parallelFor(B * C, minChunk: minChunk) { lo, hi in
                    for plane in lo..<hi {
                        let c = plane % C, off = plane * P
                        let (mu, inv, k) = (pm[c], pi[c], pg[c] * pi[c])
                        if useBatch {
                            kernels.batchNormInputGradient(gx + off, g + off, px + off, P, mu: mu, inv: inv, k: k,
                                                           a: sumDy[c] / Float(M), b: sumDyH[c] / Float(M), relu: mask(c),
                                                           accumulate: accumulate)
                        } else {
                            let m = mask(c)
                            for i in 0..<P {
                                let dy = m.map { $0.mask(g[off + i], centred: px[off + i] - mu) } ?? g[off + i]
                                gx[off + i] = (accumulate ? gx[off + i] : 0) + k * dy
                            }
                        }
                    }
                }
            }
        }
    }

    /// The batch statistics of a synchronised batch-norm: each channel's Σ and Σ² over this
    /// process's rows (summed as the unsynchronised path sums them) and the row count, summed
    /// over every process in one call; the running statistics move toward the global ones.
    /// Returns the global row count.
    private func synchronisedStatistics(
        C: Int, rows: Int, channelSums: (Int) -> (Double, Double), sum: (UnsafeMutablePointer<Double>, Int) -> Void,
        running: BatchNormStatistics?, momentum: Float, eps: Float, means: UnsafeMutablePointer<Float>, invStd: UnsafeMutablePointer<Float>
    ) -> Int {
        let totals = UnsafeMutablePointer<Double>.allocate(capacity: 2 * C + 1)
        defer { totals.deallocate() }
        parallelFor(C) { lo, hi in
            for c in lo..<hi { (totals[c], totals[C + c]) = channelSums(c) }
        }
        totals[2 * C] = Double(rows)
        sum(totals, 2 * C + 1)
        let M = Int(totals[2 * C])
        for c in 0..<C {
            let m = totals[c] / Double(M)
            let mu = Float(m)
            let variance = Float(max(totals[C + c] / Double(M) - m * m, 0))
            if let running {
                running.mean.data[c] = (1 - momentum) * running.mean.data[c] + momentum * mu
                let unbiased = variance * Float(M) / Float(max(M - 1, 1))
                running.variance.data[c] = (1 - momentum) * running.variance.data[c] + momentum * unbiased
            }
            means[c] = mu
            invStd[c] = 1 / (variance + eps).squareRoot()
        }
        return M
    }

    /// `sums` (floats) summed over every process through `sum` (doubles).
    static func sumAcrossProcesses(_ sums: Tensor, _ sum: (UnsafeMutablePointer<Double>, Int) -> Void) {
        let n = sums.count
        let wide = UnsafeMutablePointer<Double>.allocate(capacity: n)
        defer { wide.deallocate() }
        for i in 0..<n { wide[i] = Double(sums.data[i]) }
        sum(wide, n)
        for i in 0..<n { sums.data[i] = Float(wide[i]) }
    }

    /// max(batchNorm(x), 0) as one op: one pass fewer over the activations each way than
    /// `batchNorm` then `relu` (the ReLU's output is not written separately, and its mask is
    /// recomputed from x inside batch-norm's backward, which reads x anyway), with the same
    /// values and gradients.
    public func batchNormReLU(
        _ x: Node, gamma: Node, beta: Node, running: BatchNormStatistics?, momentum: Float = 0.1, eps: Float = 1e-5
    ) throws -> Node {
        try batchNorm(x, gamma: gamma, beta: beta, running: running, momentum: momentum, eps: eps, relu: true)
    }

    /// Each row divided by its Euclidean norm: y = x / max(‖x‖, eps), for x [N, D].
    /// Gradient: dx = (dy - y·(y·dy)) / ‖x‖.
    public func l2Normalize(_ x: Node, eps: Float = 1e-12) throws -> Node {
        guard x.shape.count == 2 else { throw ShapeError("l2Normalize needs [N, D]; got \(shapeText(x.shape))") }
        let N = x.shape[0], D = x.shape[1]
        return timed("elementwise") {
            let out = Tensor(uninitialized: x.shape)
            var norms = [Float](repeating: 0, count: N)
            let px = x.value.data, po = out.data
            for r in 0..<N {
                var s: Float = 0
                for k in 0..<D { s += px[r * D + k] * px[r * D + k] }
                let nrm = max(s.squareRoot(), eps)
                norms[r] = nrm
                for k in 0..<D { po[r * D + k] = px[r * D + k] / nrm }
            }
            return record(out, op: "l2normalize", inputs: [x]) { node in
                let g = node.grad!.data
                let gx = x.gradBuffer().data
                for r in 0..<N {
                    var dot: Float = 0
                    for k in 0..<D { dot += po[r * D + k] * g[r * D + k] }
                    let inv = 1 / norms[r]
                    for k in 0..<D { gx[r * D + k] += (g[r * D + k] - po[r * D + k] * dot) * inv }
                }
            }
        }
    }

    /// Inverted dropout: in training each value is zeroed with probability p and the rest are
    /// scaled by 1/(1-p); in evaluation it is the identity.
    public func dropout(_ x: Node, p: Float) throws -> Node {
        guard p >= 0, p < 1 else { throw ShapeError("dropout probability must be in [0, 1); got \(p)") }
        guard training, p > 0 else { return x }
        let n = x.value.count
        let keep = Tensor(uninitialized: x.shape)
        let scale = 1 / (1 - p)
        for i in 0..<n { keep.data[i] = random.uniform() < p ? 0 : scale }
        let out = Tensor(uninitialized: x.shape)
        for i in 0..<n { out.data[i] = x.value.data[i] * keep.data[i] }
        return record(out, op: "dropout", inputs: [x]) { node in
            let g = node.grad!.data
            let gx = x.gradBuffer().data
            for i in 0..<n { gx[i] += g[i] * keep.data[i] }
        }
    }
}
