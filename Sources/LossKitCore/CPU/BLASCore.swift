import COpenBLAS

/// OpenBLAS's kernel sets ("cores"), ranked by the instruction set their kernels use. Debian 12's
/// OpenBLAS 0.3.21 is built with all of them (DYNAMIC_ARCH) and picks one when it loads, from its
/// own table of CPU models; a CPU newer than that table gets a low pick (an AVX-512 Xeon is called
/// Prescott, SSE3 only; this AMD EPYC with AVX-512 is called Haswell) and sgemm runs 2-10× slower
/// than it could (docs/BENCHMARKS.md). `best(for:)` is what the CPU's features say it can run.
public enum BLASCore {
    /// The instruction-set tier of each core OpenBLAS 0.3.x knows on x86-64 (its `corename` table):
    /// 1 SSE, 2 AVX, 3 AVX2 + FMA, 4 AVX-512, 5 AVX-512 with BF16.
    static let tiers: [String: Int] = {
        var t: [String: Int] = [:]
        for name in ["Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Atom", "Core2", "Penryn", "Dunnington",
                     "Nehalem", "Athlon", "Opteron", "Opteron_SSE3", "Barcelona", "Nano", "Bobcat"] { t[name.lowercased()] = 1 }
        for name in ["Sandybridge", "Bulldozer", "Piledriver", "Steamroller", "Excavator"] { t[name.lowercased()] = 2 }
        for name in ["Haswell", "Zen"] { t[name.lowercased()] = 3 }
        t["skylakex"] = 4
        for name in ["Cooperlake", "SapphireRapids"] { t[name.lowercased()] = 5 }
        return t
    }()

    /// The first tier whose kernels are AVX-512.
    public static let avx512Tier = 4

    /// The tier of a core by its OpenBLAS name (any case); 0 for a name the table does not know.
    public static func tier(of core: String) -> Int { tiers[core.lowercased()] ?? 0 }

    /// The fastest core this CPU can run, as OpenBLAS spells it for OPENBLAS_CORETYPE, or nil
    /// where no core above the SSE ones applies (or the CPU is not x86-64).
    public static func best(for cpu: CPUFeatures) -> String? {
        if cpu.hasAVX512Core && cpu.has(.avx512_bf16) { return "Cooperlake" }
        if cpu.hasAVX512Core { return "SkylakeX" }
        if cpu.has(.avx2, .fma) { return "Haswell" }
        if cpu.has(.avx) { return "Sandybridge" }
        return nil
    }

    /// What each core's kernels execute beyond x86-64's SSE2, as OpenBLAS 0.3.21 builds them.
    /// OpenBLAS picks by vendor, family and model, not by feature, and takes any name in
    /// OPENBLAS_CORETYPE: on a CPU whose features a virtual machine hides (QEMU's default model
    /// is an AMD family 15 without 3DNow!) it picks Opteron, whose kernels start with 3DNow!'s
    /// `femms`, and the first sgemm dies of SIGILL; so does a named core above the CPU (Bulldozer's
    /// FMA4 on any Intel or Zen CPU). Names OpenBLAS maps to Prescott (Katmai, Northwood, Athlon,
    /// ...) need what Prescott needs. Cores of AMD's own extensions are listed with them where
    /// their CPUs had them all, so a CPU that lacks one is never given that core.
    static let requirements: [String: [CPUFeatures.Feature]] = {
        var r: [String: [CPUFeatures.Feature]] = [:]
        for name in ["Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Athlon"] { r[name.lowercased()] = [.sse3] }
        for name in ["Core2", "Atom", "Nano"] { r[name.lowercased()] = [.sse3, .ssse3] }
        for name in ["Penryn", "Dunnington"] { r[name.lowercased()] = [.sse3, .ssse3, .sse4_1] }
        r["nehalem"] = [.sse3, .ssse3, .sse4_1, .sse4_2]
        r["opteron"] = [.threeDNow]
        r["opteron_sse3"] = [.threeDNow, .sse3]
        r["barcelona"] = [.sse3, .sse4a, .prefetchw]
        r["bobcat"] = [.sse3, .ssse3, .sse4a, .prefetchw]
        r["sandybridge"] = [.avx]
        r["bulldozer"] = [.avx, .fma4]
        for name in ["Piledriver", "Steamroller"] { r[name.lowercased()] = [.avx, .fma, .fma4] }
        r["excavator"] = [.avx, .avx2, .fma, .fma4]
        for name in ["Haswell", "Zen"] { r[name.lowercased()] = [.avx, .avx2, .fma] }
        let avx512: [CPUFeatures.Feature] = [.avx, .avx2, .fma, .avx512f, .avx512cd, .avx512bw, .avx512dq, .avx512vl]
        r["skylakex"] = avx512
        r["cooperlake"] = avx512 + [.avx512_bf16]
        r["sapphirerapids"] = avx512 + [.avx512_bf16, .avx512_fp16]
        return r
    }()

    /// The features a core's kernels need that `cpu` lacks; empty where it runs them, or where
    /// the table does not know the name (another architecture's core, or a misspelling that
    /// OpenBLAS itself will refuse).
    public static func missing(_ core: String, on cpu: CPUFeatures) -> [CPUFeatures.Feature] {
        (requirements[core.lowercased()] ?? []).filter { !cpu.features.contains($0) }
    }

    /// Whether `cpu` executes every instruction of a core's kernels (as far as `requirements` knows).
    public static func runs(_ core: String, on cpu: CPUFeatures) -> Bool { missing(core, on: cpu).isEmpty }

    /// The core to run where the one loaded would stop on an instruction the CPU lacks: the best
    /// core for the CPU, else Prescott (SSE3, the level of every x86-64 CPU since 2004), else none.
    public static func runnable(for cpu: CPUFeatures) -> String? {
        best(for: cpu) ?? (runs("Prescott", on: cpu) ? "Prescott" : nil)
    }

    /// Whether the running core clears C for beta 0 with OpenBLAS's generic beta kernel, one
    /// scalar store per float (every core below AVX-512 in 0.3.21: `perf` put it at 5.5 % of a
    /// one-thread `ce` step on Zen, docs/BENCHMARKS.md). The AVX-512 cores have a vector beta
    /// kernel and a direct small-matrix sgemm taken only with beta 0, so `sgemm` leaves them be.
    /// A core this table does not know (another architecture's) is left be too. Read once:
    /// OpenBLAS picks its core when it loads and keeps it.
    public static let clearsCWithScalarLoop: Bool = (1..<avx512Tier).contains(tier(of: running))

    /// The core OpenBLAS is running in this process.
    public static var running: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// Whether the running kernels compute sgemm correctly here: three small products (plain,
    /// transposed A, transposed B, odd sizes so every kernel edge is taken) against a
    /// double-precision reference, each element within 8·K·ε·Σ|a·b| (the worst case of K-term
    /// float sums is K·ε·Σ|a·b|). A wrong kernel misses or garbles whole products. About 1 ms.
    public static func computesCorrectly() -> Bool {
        let random = RandomGenerator(seed: 7)
        for (m, n, k, transA, transB) in [(33, 47, 129, false, false), (64, 31, 200, true, false), (17, 64, 96, false, true)] {
            var a = [Float](repeating: 0, count: m * k), b = [Float](repeating: 0, count: k * n)
            var c = [Float](repeating: .nan, count: m * n)
            random.fillUniform(&a, a.count, low: -1, high: 1)
            random.fillUniform(&b, b.count, low: -1, high: 1)
            // element (i, p) of A and (p, j) of B in their stored layouts
            let lda = transA ? m : k, ldb = transB ? k : n
            func av(_ i: Int, _ p: Int) -> Float { transA ? a[p * lda + i] : a[i * lda + p] }
            func bv(_ p: Int, _ j: Int) -> Float { transB ? b[j * ldb + p] : b[p * ldb + j] }
            cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                        Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0, &c, Int32(n))
            for i in 0..<m {
                for j in 0..<n {
                    var exact = 0.0, magnitude = 0.0
                    for p in 0..<k {
                        let product = Double(av(i, p)) * Double(bv(p, j))
                        exact += product
                        magnitude += abs(product)
                    }
                    let bound = 8 * Double(k) * Double(Float.ulpOfOne) * magnitude
                    guard c[i * n + j].isFinite, abs(Double(c[i * n + j]) - exact) <= bound else { return false }
                }
            }
        }
        return true
    }
}
