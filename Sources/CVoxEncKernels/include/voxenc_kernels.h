// voxenc's hot element-wise kernels in C, compiled for several x86-64 instruction sets and chosen once at run time
// (no -march flag, so a package depending on voxenc by version builds, and one binary uses AVX-512 where the CPU has
// it, AVX2 + FMA where it has that, and SSE2 everywhere else). Every kernel has three copies with the same numerics:
//   _avx512  AVX-512 F/BW/DQ/VL + FMA        _avx2  AVX2 + FMA        _sse2  baseline x86-64 (SSE2, no FMA)
// (all work on 16-float vector values: one zmm, two ymm or four xmm registers each).
// The avx512 and avx2 copies give identical bits (the same fused multiply-adds, the same summation order: reductions
// keep fixed logical lanes whatever the register width); the sse2 copy differs from them only by rounding the
// products that the FMA copies fuse. The entry points without a suffix dispatch to the best copy the CPU runs, lowered
// by the environment variable VOXENC_KERNEL_ISA=avx512|avx2|baseline (read once; never above what the CPU has).
// Row loops stay with the caller (Swift splits rows across threads); each call here is single-threaded.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Instruction-set dispatch

/// The copy the dispatching entry points run: 2 avx512, 1 avx2, 0 sse2 (baseline).
int voxenc_kernel_isa(void);
/// Its name: "avx512", "avx2" or "sse2".
const char *voxenc_kernel_isa_name(void);
/// The level chosen for a VOXENC_KERNEL_ISA value ("avx512", "avx2", "baseline" or "sse2"; NULL or "" for none):
/// the CPU's best, lowered to the request. An unknown value is reported on stderr and ignored.
int voxenc_kernel_isa_choosing(const char *requested);
/// Whether this CPU (and its OS, which must save the wider registers) runs the avx2 / avx512 copies.
bool voxenc_cpu_supports_avx2(void);
bool voxenc_cpu_supports_avx512(void);

// MARK: - Kernels (dispatching)

/// x ← GELU(x) = x·½·(1 + erf(x/√2)) over `count` values, exact-erf form (nn.functional.gelu, approximate="none").
/// erf is PyTorch's vectorised CPU formula (A&S 7.1.26 with Cephes expf) over whole blocks of 16 values from x, libm
/// erff on the last count mod 16 (torch's scalar tail). Callers splitting a buffer must split on multiples of 16.
void voxenc_gelu(float *x, size_t count);
/// x[r, :] ← GELU(x[r, :] + bias) over [rows, columns] (fc1's bias fused with its activation; the sum is rounded to
/// float32 first, as addmm then gelu). Blocks of 16 columns vectorised, the row's last columns mod 16 scalar.
void voxenc_gelu_bias_rows(float *x, size_t rows, size_t columns, const float *bias);
/// The int8 Linear epilogue for one row of width N: y[j] (+)= float(c[j] − z·Σq[j]) · (a·s[j]) (+ b[j]), then
/// GELU when `gelu` (fc1 and the adapter's linear_1, while the row is in cache). Integer arithmetic wraps (int32).
/// c: [N] int32 products, column_scales s: [N], column_sums Σq: [N], bias b: [N] or NULL, y: [N].
void voxenc_dequantise_row(const int32_t *c, float row_scale, int32_t zero_point, const float *column_scales,
                           const int32_t *column_sums, const float *bias, size_t width, float *y, bool accumulate,
                           bool gelu);
/// Softmax's row pass: x ← exp(x − max x) in place, returns Σ exp(x − max) (the caller divides). exp is Cephes expf
/// with inputs below −87.34 clamped (they give ≈ 1.2e−38, nothing next to the max's 1). Sums in 8 float32 lanes over
/// blocks of 8, the lanes added in order, then the last width mod 8 values one by one.
float voxenc_softmax_exponentiate_row(float *row, size_t width);
/// The same row pass, the exponentials written as bf16 (voxenc_round_bf16_rows' rounding) to `rounded` [width]
/// instead of into `row`; the same sum. `rounded` may alias `row` (bf16 values land on floats already read).
float voxenc_softmax_exponentiate_row_bf16(float *row, size_t width, uint16_t *rounded);
/// y[r, :] = (x[r, :] − mean) / sqrt(var + eps) · γ + β over [rows, width] (nn.LayerNorm, biased variance). Two passes
/// in 16 float32 lanes, lanes summed in float64; the mean kept as a float32 pair (high + low) so x − mean is exact to
/// float32 rounding when |mean| ≫ std. In place (y == x) is allowed.
void voxenc_layer_norm_rows(const float *x, size_t rows, size_t width, const float *gamma, const float *beta,
                            float epsilon, float *y);
/// y = log10(x) for positive normal float32 x (Cephes log10f: ≈ 1 ulp). The front end's mel energies, floored at 1e-10.
void voxenc_log10(const float *x, float *y, size_t count);
/// e^x over `count` values (Cephes expf, ≤ 2 ulp on [−87.34, 88.38]); 0 below −87.34; inputs above 88.38 are clamped
/// to it (≈ 2.4e38). The exp inside erf (whose argument −x² is ≤ 0), exposed for tests.
void voxenc_exp(const float *x, float *y, size_t count);
/// out[r, i] = silu(g)·u = g / (1 + e^(−g)) · u with g = gate_up[r, i], u = gate_up[r, width + i] over `rows` rows
/// ([rows, 2·width] in, [rows, width] out): the gated MLP's activation. e^ as voxenc_exp; the row's last width mod 16
/// values through the same vector code.
void voxenc_swiglu_rows(const float *gate_up, size_t rows, size_t width, float *out);
/// y[r, i] = bf16(x[r, i]) over [rows, columns] with leading dimensions: round to nearest, ties to even, on the bits
/// (denormals kept, ±inf kept, NaN stays a quiet NaN); every copy gives the same bits. The bf16 GEMMs' operands.
/// y may alias x when ldy ≤ 2·ldx (each row's values are read before they are overwritten, rows in order).
void voxenc_round_bf16_rows(const float *x, size_t rows, size_t columns, size_t ldx, uint16_t *y, size_t ldy);
/// y[i] = IEEE binary16 bits of x[i] for i < count: the C conversion float → _Float16, round to nearest, ties to even
/// (subnormals kept, overflow to ±inf, NaN stays NaN): numpy's astype(float16). The avx512 copy converts 16 lanes at a
/// time (vcvtps2ph); every copy gives the same bits. Output embeddings at --dtype float16.
void voxenc_round_f16(const float *x, size_t count, uint16_t *y);
/// One block of 8 frames of the log-mel front end: power |X|² from the FFT's float64 spectra [B, 8, 2] (re, im)
/// rounded to float32 into `power` [B, 8]; the sparse filterbank (filter m: weights[offsets[m] ..< offsets[m + 1]] on
/// bins starts[m] ...) in 8 lanes (one per frame); max(·, floor); log10 into `mel` [M, 8].
void voxenc_log10_mel_block(const double *spectra, size_t bins, const float *weights, const ptrdiff_t *offsets,
                            const ptrdiff_t *starts, size_t mel_bins, float floor, float *power, float *mel);

/// Attention scores of `queries` queries (rows of q, ldq apart) against keys stored transposed (causal encoders' key
/// rings): scores[i · lds + j] = Σ_d q[i · ldq + d] · kt[d · ldk + j] for j < count, d in order 0 ..< dh (one
/// multiply-add chain per query and key, fused where the copy has FMA), so a score does not depend on where its key
/// falls in the vector lanes nor on which queries were computed with it.
void voxenc_key_scores(const float *q, size_t ldq, size_t queries, const float *kt, size_t ldk, size_t count,
                       size_t dh, float *scores, size_t lds);
/// out[i · ldo + d] += Σ_j p[i · ldp + j] · v[j · ldv + d] for i < queries, d < dh, j in order 0 ..< count
/// (attention's probabilities times values; one chain per output value, whatever the queries computed with it).
void voxenc_weighted_rows(const float *p, size_t ldp, size_t queries, const float *v, size_t ldv, size_t count,
                          size_t dh, float *out, size_t ldo);
/// The same two kernels over bf16 keys and values (bf16 key/value rings): each widened to float32 exactly, then the
/// same float32 chains.
void voxenc_key_scores_bf16(const float *q, size_t ldq, size_t queries, const uint16_t *kt, size_t ldk, size_t count,
                            size_t dh, float *scores, size_t lds);
void voxenc_weighted_rows_bf16(const float *p, size_t ldp, size_t queries, const uint16_t *v, size_t ldv, size_t count,
                               size_t dh, float *out, size_t ldo);

// MARK: - The same kernels, one instruction set each (tests and benchmarks; call only what the CPU supports)

#define VOXENC_DECLARE_KERNELS(isa)                                                                                   \
    void voxenc_gelu_##isa(float *x, size_t count);                                                                   \
    void voxenc_gelu_bias_rows_##isa(float *x, size_t rows, size_t columns, const float *bias);                       \
    void voxenc_dequantise_row_##isa(const int32_t *c, float row_scale, int32_t zero_point, const float *column_scales, \
                                     const int32_t *column_sums, const float *bias, size_t width, float *y,            \
                                     bool accumulate, bool gelu);                                                     \
    float voxenc_softmax_exponentiate_row_##isa(float *row, size_t width);                                            \
    float voxenc_softmax_exponentiate_row_bf16_##isa(float *row, size_t width, uint16_t *rounded);                    \
    void voxenc_layer_norm_rows_##isa(const float *x, size_t rows, size_t width, const float *gamma,                  \
                                      const float *beta, float epsilon, float *y);                                    \
    void voxenc_log10_##isa(const float *x, float *y, size_t count);                                                  \
    void voxenc_exp_##isa(const float *x, float *y, size_t count);                                                    \
    void voxenc_swiglu_rows_##isa(const float *gate_up, size_t rows, size_t width, float *out);                       \
    void voxenc_round_bf16_rows_##isa(const float *x, size_t rows, size_t columns, size_t ldx, uint16_t *y,           \
                                      size_t ldy);                                                                    \
    void voxenc_round_f16_##isa(const float *x, size_t count, uint16_t *y);                                           \
    void voxenc_log10_mel_block_##isa(const double *spectra, size_t bins, const float *weights,                       \
                                      const ptrdiff_t *offsets, const ptrdiff_t *starts, size_t mel_bins, float floor, \
                                      float *power, float *mel);                                                       \
    void voxenc_key_scores_##isa(const float *q, size_t ldq, size_t queries, const float *kt, size_t ldk,            \
                                 size_t count, size_t dh, float *scores, size_t lds);                                 \
    void voxenc_weighted_rows_##isa(const float *p, size_t ldp, size_t queries, const float *v, size_t ldv,          \
                                    size_t count, size_t dh, float *out, size_t ldo);                                 \
    void voxenc_key_scores_bf16_##isa(const float *q, size_t ldq, size_t queries, const uint16_t *kt, size_t ldk,    \
                                      size_t count, size_t dh, float *scores, size_t lds);                            \
    void voxenc_weighted_rows_bf16_##isa(const float *p, size_t ldp, size_t queries, const uint16_t *v, size_t ldv,  \
                                         size_t count, size_t dh, float *out, size_t ldo);

VOXENC_DECLARE_KERNELS(avx512)
VOXENC_DECLARE_KERNELS(avx2)
VOXENC_DECLARE_KERNELS(sse2)

#ifdef __cplusplus
}
#endif
