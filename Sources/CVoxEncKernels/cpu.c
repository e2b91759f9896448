// CPUID leaves 0, 1, 7 (sub-leaves 0 and 1) and 0x80000002–4, XGETBV for the OS-enabled register state.
// Intel SDM vol. 2A "CPUID"; AMD APM vol. 3 appendix E. A feature counts only when the OS saves its registers:
// AVX needs XCR0 bits 1–2, AVX-512 bits 5–7, AMX bits 17–18.
#include "voxenc_cpu.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long read_xcr0(void) {
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

void voxenc_cpu_detect(voxenc_cpu *out) {
    memset(out, 0, sizeof *out);
    unsigned int a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    unsigned int max_leaf = a;
    memcpy(out->vendor + 0, &b, 4);
    memcpy(out->vendor + 4, &d, 4);
    memcpy(out->vendor + 8, &c, 4);

    __cpuid(1, a, b, c, d);
    int base_family = (a >> 8) & 0xf, base_model = (a >> 4) & 0xf;
    out->family = base_family == 0xf ? base_family + ((a >> 20) & 0xff) : base_family;
    out->model = (base_family == 0x6 || base_family == 0xf) ? (((a >> 16) & 0xf) << 4) + base_model : base_model;
    out->sse3 = (c >> 0) & 1;
    int osxsave = (c >> 27) & 1;
    unsigned long long xcr0 = osxsave ? read_xcr0() : 0;
    int ymm = (xcr0 & 0x6) == 0x6, zmm = ymm && (xcr0 & 0xe0) == 0xe0, tiles = (xcr0 & 0x60000) == 0x60000;
    out->avx = ymm && ((c >> 28) & 1);
    out->fma = out->avx && ((c >> 12) & 1);

    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        out->avx2 = out->avx && ((b >> 5) & 1);
        out->avx512f = zmm && ((b >> 16) & 1);
        out->avx512dq = zmm && ((b >> 17) & 1);
        out->avx512bw = zmm && ((b >> 30) & 1);
        out->avx512vl = zmm && ((b >> 31) & 1);
        out->avx512_vnni = zmm && ((c >> 11) & 1);
        out->amx_bf16 = tiles && ((d >> 22) & 1);
        out->amx_tile = tiles && ((d >> 24) & 1);
        out->amx_int8 = tiles && ((d >> 25) & 1);
        unsigned int sub_leaves = a;
        if (sub_leaves >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            out->avx_vnni = out->avx2 && ((a >> 4) & 1);
            out->avx512_bf16 = zmm && ((a >> 5) & 1);
        }
    }

    __cpuid(0x80000000, a, b, c, d);
    if (a >= 0x80000004) {
        unsigned int words[12];
        for (unsigned int i = 0; i < 3; i++) __cpuid(0x80000002 + i, words[4 * i], words[4 * i + 1], words[4 * i + 2], words[4 * i + 3]);
        memcpy(out->brand, words, 48);
        out->brand[48] = 0;
    }
}
#else
void voxenc_cpu_detect(voxenc_cpu *out) { memset(out, 0, sizeof *out); }
#endif

static __thread int thread_budget;
int voxenc_thread_budget(void) { return thread_budget; }
void voxenc_set_thread_budget(int threads) { thread_budget = threads; }
