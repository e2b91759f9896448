// Run-time dispatch: which copy of the kernels (kernels_avx512.c, kernels_avx2.c, kernels_sse2.c) this CPU runs.
// Chosen once, on the first call, from cpu.c's CPUID and XGETBV reading (the OS must save the YMM registers for
// AVX2, ZMM and the mask registers for AVX-512), then lowered by VOXENC_KERNEL_ISA=avx512|avx2|baseline.
// Why not __builtin_cpu_supports: it needs the compiler runtime's __cpu_model, which the Swift toolchain's link does
// not always bring in.

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "voxenc_kernels.h"

#include "voxenc_cpu.h"

/// The best copy the hardware and OS allow (cpu.c reads CPUID and XGETBV): 2 avx512, 1 avx2, 0 sse2.
static int detect_cpu(void) {
    voxenc_cpu info;
    voxenc_cpu_detect(&info);
    if (info.avx512f && info.avx512bw && info.avx512dq && info.avx512vl && info.fma) return 2;
    if (info.avx2 && info.fma) return 1;
    return 0;
}

static atomic_int cpu_level = -1;
static atomic_int chosen_level = -1;

static int cpu(void) {
    int level = atomic_load_explicit(&cpu_level, memory_order_relaxed);
    if (level < 0) {
        level = detect_cpu();
        atomic_store_explicit(&cpu_level, level, memory_order_relaxed);
    }
    return level;
}

int voxenc_kernel_isa_choosing(const char *requested) {
    int level = cpu();
    if (requested && *requested) {
        int cap = -1;
        if (strcmp(requested, "avx512") == 0) cap = 2;
        else if (strcmp(requested, "avx2") == 0) cap = 1;
        else if (strcmp(requested, "baseline") == 0 || strcmp(requested, "sse2") == 0) cap = 0;
        if (cap < 0) fprintf(stderr, "voxenc: ignoring VOXENC_KERNEL_ISA=%s (expected avx512, avx2 or baseline)\n", requested);
        else if (cap < level) level = cap;
    }
    return level;
}

static int choose(void) { return voxenc_kernel_isa_choosing(getenv("VOXENC_KERNEL_ISA")); }

int voxenc_kernel_isa(void) {
    int level = atomic_load_explicit(&chosen_level, memory_order_relaxed);
    if (level < 0) {  // racing first calls compute the same value
        level = choose();
        atomic_store_explicit(&chosen_level, level, memory_order_relaxed);
    }
    return level;
}

const char *voxenc_kernel_isa_name(void) {
    switch (voxenc_kernel_isa()) {
    case 2: return "avx512";
    case 1: return "avx2";
    default: return "sse2";
    }
}

bool voxenc_cpu_supports_avx2(void) { return cpu() >= 1; }
bool voxenc_cpu_supports_avx512(void) { return cpu() >= 2; }

// MARK: - Dispatching entry points

#define DISPATCH(name, ...)                                                                                            \
    switch (voxenc_kernel_isa()) {                                                                                     \
    case 2: return name##_avx512(__VA_ARGS__);                                                                         \
    case 1: return name##_avx2(__VA_ARGS__);                                                                           \
    default: return name##_sse2(__VA_ARGS__);                                                                          \
    }

void voxenc_gelu(float *x, size_t count) { DISPATCH(voxenc_gelu, x, count) }

void voxenc_gelu_bias_rows(float *x, size_t rows, size_t columns, const float *bias) {
    DISPATCH(voxenc_gelu_bias_rows, x, rows, columns, bias)
}

void voxenc_dequantise_row(const int32_t *c, float row_scale, int32_t zero_point, const float *column_scales,
                           const int32_t *column_sums, const float *bias, size_t width, float *y, bool accumulate,
                           bool gelu) {
    DISPATCH(voxenc_dequantise_row, c, row_scale, zero_point, column_scales, column_sums, bias, width, y, accumulate,
             gelu)
}

float voxenc_softmax_exponentiate_row(float *row, size_t width) {
    DISPATCH(voxenc_softmax_exponentiate_row, row, width)
}

float voxenc_softmax_exponentiate_row_bf16(float *row, size_t width, uint16_t *rounded) {
    DISPATCH(voxenc_softmax_exponentiate_row_bf16, row, width, rounded)
}

void voxenc_layer_norm_rows(const float *x, size_t rows, size_t width, const float *gamma, const float *beta,
                            float epsilon, float *y) {
    DISPATCH(voxenc_layer_norm_rows, x, rows, width, gamma, beta, epsilon, y)
}

void voxenc_key_scores(const float *q, size_t ldq, size_t queries, const float *kt, size_t ldk, size_t count,
                       size_t dh, float *scores, size_t lds) {
    DISPATCH(voxenc_key_scores, q, ldq, queries, kt, ldk, count, dh, scores, lds)
}

void voxenc_weighted_rows(const float *p, size_t ldp, size_t queries, const float *v, size_t ldv, size_t count,
                          size_t dh, float *out, size_t ldo) {
    DISPATCH(voxenc_weighted_rows, p, ldp, queries, v, ldv, count, dh, out, ldo)
}

void voxenc_key_scores_bf16(const float *q, size_t ldq, size_t queries, const uint16_t *kt, size_t ldk, size_t count,
                            size_t dh, float *scores, size_t lds) {
    DISPATCH(voxenc_key_scores_bf16, q, ldq, queries, kt, ldk, count, dh, scores, lds)
}

void voxenc_weighted_rows_bf16(const float *p, size_t ldp, size_t queries, const uint16_t *v, size_t ldv, size_t count,
                               size_t dh, float *out, size_t ldo) {
    DISPATCH(voxenc_weighted_rows_bf16, p, ldp, queries, v, ldv, count, dh, out, ldo)
}

void voxenc_log10(const float *x, float *y, size_t count) { DISPATCH(voxenc_log10, x, y, count) }

void voxenc_exp(const float *x, float *y, size_t count) { DISPATCH(voxenc_exp, x, y, count) }

void voxenc_swiglu_rows(const float *gate_up, size_t rows, size_t width, float *out) {
    DISPATCH(voxenc_swiglu_rows, gate_up, rows, width, out)
}

void voxenc_round_bf16_rows(const float *x, size_t rows, size_t columns, size_t ldx, uint16_t *y, size_t ldy) {
    DISPATCH(voxenc_round_bf16_rows, x, rows, columns, ldx, y, ldy)
}

void voxenc_round_f16(const float *x, size_t count, uint16_t *y) { DISPATCH(voxenc_round_f16, x, count, y) }

void voxenc_log10_mel_block(const double *spectra, size_t bins, const float *weights, const ptrdiff_t *offsets,
                            const ptrdiff_t *starts, size_t mel_bins, float floor, float *power, float *mel) {
    DISPATCH(voxenc_log10_mel_block, spectra, bins, weights, offsets, starts, mel_bins, floor, power, mel)
}
