#include "lk_cpu.h"
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* XCR0: which register states the OS saves. AVX needs SSE and YMM (bits 1-2); AVX-512 also
   the opmask and upper ZMM states (bits 5-7). */
static uint64_t xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

uint32_t lk_cpu_features(void) {
    unsigned a, b, c, d;
    uint32_t f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (d & (1u << 26)) f |= LK_CPU_SSE2;
    if (c & (1u << 0)) f |= LK_CPU_SSE3;
    if (c & (1u << 9)) f |= LK_CPU_SSSE3;
    if (c & (1u << 19)) f |= LK_CPU_SSE41;
    if (c & (1u << 20)) f |= LK_CPU_SSE42;
    if (c & (1u << 23)) f |= LK_CPU_POPCNT;
    if (c & (1u << 22)) f |= LK_CPU_MOVBE;
    unsigned ea = 0, eb = 0, ec = 0, ed = 0;
    if (__get_cpuid_max(0x80000000, 0) >= 0x80000001) {
        __get_cpuid(0x80000001, &ea, &eb, &ec, &ed);
        if (ec & (1u << 5)) f |= LK_CPU_LZCNT;
        if (ec & (1u << 6)) f |= LK_CPU_SSE4A;
        if (ec & (1u << 8)) f |= LK_CPU_PREFETCHW;
        if (ed & (1u << 31)) f |= LK_CPU_3DNOW;
    }
    int osxsave = (c & (1u << 27)) != 0;
    uint64_t xcr = osxsave ? xcr0() : 0;
    int ymm = (xcr & 0x6) == 0x6, zmm = (xcr & 0xE6) == 0xE6;
    if (!ymm) return f;
    if (ec & (1u << 16)) f |= LK_CPU_FMA4;
    if (c & (1u << 28)) f |= LK_CPU_AVX;
    if (c & (1u << 12)) f |= LK_CPU_FMA;
    if (c & (1u << 29)) f |= LK_CPU_F16C;
    unsigned max = __get_cpuid_max(0, 0);
    if (max < 7) return f;
    __cpuid_count(7, 0, a, b, c, d);
    if (b & (1u << 5)) f |= LK_CPU_AVX2;
    if (b & (1u << 3)) f |= LK_CPU_BMI1;
    if (b & (1u << 8)) f |= LK_CPU_BMI2;
    if (zmm) {
        if (b & (1u << 16)) f |= LK_CPU_AVX512F;
        if (b & (1u << 17)) f |= LK_CPU_AVX512DQ;
        if (b & (1u << 28)) f |= LK_CPU_AVX512CD;
        if (b & (1u << 30)) f |= LK_CPU_AVX512BW;
        if (b & (1u << 31)) f |= LK_CPU_AVX512VL;
        if (c & (1u << 11)) f |= LK_CPU_AVX512_VNNI;
        if (d & (1u << 23)) f |= LK_CPU_AVX512_FP16;
        unsigned subleaves = a;
        if (subleaves >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            if (a & (1u << 5)) f |= LK_CPU_AVX512_BF16;
        }
    }
    return f;
}

/* Swift's runtime uses CMPXCHG16B (double-word atomics in libswiftCore and its concurrency
   library), which the first AMD64 and Pentium 4 models and some virtual CPUs lack (QEMU's Conroe
   and Opteron_G1): there, a Swift program dies of SIGILL on its first atomic. This constructor
   runs before any Swift code does and stops with a line that says why instead. */
__attribute__((constructor)) static void lk_cpu_require_cmpxchg16b(void) {
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d) && !(c & (1u << 13))) {
        static const char line[] =
            "error: this CPU lacks CMPXCHG16B, which Swift's runtime (and so LossKit) needs; "
            "every x86-64 CPU since 2006 has it (a virtual machine may hide it: pass the host's CPU model)\n";
        (void)!write(2, line, sizeof line - 1);
        _exit(1);
    }
}

void lk_cpu_model(char *out, int capacity) {
    if (capacity <= 0) return;
    out[0] = 0;
    unsigned regs[12];
    if (capacity < 49 || __get_cpuid_max(0x80000000, 0) < 0x80000004) return;
    for (unsigned i = 0; i < 3; i++)
        __get_cpuid(0x80000002 + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
    char text[49];
    memcpy(text, regs, 48);
    text[48] = 0;
    const char *start = text;
    while (*start == ' ') start++;
    strncpy(out, start, (size_t)capacity - 1);
    out[capacity - 1] = 0;
    for (int n = (int)strlen(out); n > 0 && (out[n - 1] == ' ' || out[n - 1] == 0); n--) out[n - 1] = 0;
}

#else
uint32_t lk_cpu_features(void) { return 0; }
void lk_cpu_model(char *out, int capacity) { if (capacity > 0) out[0] = 0; }
#endif
