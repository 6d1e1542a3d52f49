import CLossKitCPU

/// What this CPU can run: its model name and the x86-64 instruction-set extensions that both the
/// processor (cpuid) and the operating system (xgetbv) support. Read once.
public struct CPUFeatures: Sendable, Equatable {
    /// The extensions LossKit looks at, in the order they are printed.
    public enum Feature: String, CaseIterable, Sendable {
        /// SSE3 is `pni` in /proc/cpuinfo.
        case sse2, sse3 = "pni", ssse3, sse4_1, sse4_2, avx, avx2, fma
        case avx512f, avx512cd, avx512bw, avx512dq, avx512vl, avx512_vnni, avx512_bf16, avx512_fp16
        /// Scalar extensions that code compiled for Haswell or later may use (`KernelPath`).
        case popcnt, f16c, movbe, bmi1, bmi2
        /// LZCNT (/proc/cpuinfo calls it `abm`).
        case abm
        /// AMD's own: SSE4a, FMA4, 3DNow! and its PREFETCHW, which OpenBLAS's AMD cores of before
        /// Zen use (`BLASCore.runs`).
        case sse4a, fma4, threeDNow = "3dnow", prefetchw = "3dnowprefetch"

        var bit: UInt32 {
            switch self {
            case .sse2: UInt32(LK_CPU_SSE2)
            case .sse3: UInt32(LK_CPU_SSE3)
            case .ssse3: UInt32(LK_CPU_SSSE3)
            case .sse4_1: UInt32(LK_CPU_SSE41)
            case .sse4_2: UInt32(LK_CPU_SSE42)
            case .avx: UInt32(LK_CPU_AVX)
            case .avx2: UInt32(LK_CPU_AVX2)
            case .fma: UInt32(LK_CPU_FMA)
            case .avx512f: UInt32(LK_CPU_AVX512F)
            case .avx512cd: UInt32(LK_CPU_AVX512CD)
            case .avx512bw: UInt32(LK_CPU_AVX512BW)
            case .avx512dq: UInt32(LK_CPU_AVX512DQ)
            case .avx512vl: UInt32(LK_CPU_AVX512VL)
            case .avx512_vnni: UInt32(LK_CPU_AVX512_VNNI)
            case .avx512_bf16: UInt32(LK_CPU_AVX512_BF16)
            case .avx512_fp16: UInt32(LK_CPU_AVX512_FP16)
            case .popcnt: UInt32(LK_CPU_POPCNT)
            case .f16c: UInt32(LK_CPU_F16C)
            case .movbe: UInt32(LK_CPU_MOVBE)
            case .bmi1: UInt32(LK_CPU_BMI1)
            case .bmi2: UInt32(LK_CPU_BMI2)
            case .abm: UInt32(LK_CPU_LZCNT)
            case .sse4a: UInt32(LK_CPU_SSE4A)
            case .fma4: UInt32(LK_CPU_FMA4)
            case .threeDNow: UInt32(LK_CPU_3DNOW)
            case .prefetchw: UInt32(LK_CPU_PREFETCHW)
            }
        }
    }

    /// The processor's brand string, e.g. "AMD EPYC" or "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz".
    public var model: String
    public var features: Set<Feature>

    public init(model: String, features: Set<Feature>) {
        self.model = model
        self.features = features
    }

    /// This machine's CPU.
    public static let current: CPUFeatures = {
        var name = [CChar](repeating: 0, count: 64)
        lk_cpu_model(&name, Int32(name.count))
        let bits = lk_cpu_features()
        let model = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return CPUFeatures(model: model.isEmpty ? "unknown CPU" : model,
                           features: Set(Feature.allCases.filter { bits & $0.bit != 0 }))
    }()

    public func has(_ f: Feature...) -> Bool { f.allSatisfy(features.contains) }

    /// The AVX-512 subsets OpenBLAS's SkylakeX kernels (and LLVM's skylake-avx512) assume.
    public var hasAVX512Core: Bool { has(.avx512f, .avx512cd, .avx512bw, .avx512dq, .avx512vl) }

    /// The features present, space-separated, in `Feature`'s order (as /proc/cpuinfo spells them).
    public var featureList: String {
        Feature.allCases.filter(features.contains).map(\.rawValue).joined(separator: " ")
    }
}
