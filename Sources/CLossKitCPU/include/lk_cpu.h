/* What this x86-64 CPU can run, read with cpuid and checked against what the operating system
   saves on a context switch (xgetbv): an instruction set the OS does not enable counts as absent.
   On other architectures every feature reads as absent and the model as empty. */
#ifndef LK_CPU_H
#define LK_CPU_H

#include <stdint.h>

enum {
    LK_CPU_SSE2 = 1u << 0,
    LK_CPU_SSE42 = 1u << 1,
    LK_CPU_AVX = 1u << 2,
    LK_CPU_AVX2 = 1u << 3,
    LK_CPU_FMA = 1u << 4,
    LK_CPU_AVX512F = 1u << 5,
    LK_CPU_AVX512CD = 1u << 6,
    LK_CPU_AVX512BW = 1u << 7,
    LK_CPU_AVX512DQ = 1u << 8,
    LK_CPU_AVX512VL = 1u << 9,
    LK_CPU_AVX512_VNNI = 1u << 10,
    LK_CPU_AVX512_BF16 = 1u << 11,
    LK_CPU_AVX512_FP16 = 1u << 12,
    /* the scalar extensions a compiler targeting Haswell (AVX2) may also emit */
    LK_CPU_POPCNT = 1u << 13,
    LK_CPU_F16C = 1u << 14,
    LK_CPU_MOVBE = 1u << 15,
    LK_CPU_BMI1 = 1u << 16,
    LK_CPU_BMI2 = 1u << 17,
    LK_CPU_LZCNT = 1u << 18,
    /* the SSE levels and AMD's own extensions, which OpenBLAS's older cores assume (BLASCore) */
    LK_CPU_SSE3 = 1u << 19,
    LK_CPU_SSSE3 = 1u << 20,
    LK_CPU_SSE41 = 1u << 21,
    LK_CPU_SSE4A = 1u << 22,
    LK_CPU_FMA4 = 1u << 23,
    LK_CPU_3DNOW = 1u << 24,
    LK_CPU_PREFETCHW = 1u << 25,
};

/* The LK_CPU_* bits this CPU and OS support. */
uint32_t lk_cpu_features(void);

/* The processor's brand string (cpuid 0x80000002-4), trimmed, into `out` (at least 49 bytes). */
void lk_cpu_model(char *out, int capacity);

#endif
