// The kernels' bodies, compiled once per instruction set: kernels_avx512.c, kernels_avx2.c and kernels_sse2.c each
// define VOXENC_ISA (the name suffix), VOXENC_LANES (floats per vector value: 16 everywhere now, i.e. one zmm, two ymm
// or four xmm registers; two or four independent chains per value hide latency) and VOXENC_HAS_FMA, open a target region
// and include this file. GCC/Clang vector extensions: the compiler emits that ISA's instructions for `vf`.
// Numerics follow the Swift SIMD code these replace (Activations.swift, VectorMath.swift, VectorLog.swift at 87dac54)
// operation for operation: FP contraction is off, and a·b + c is fused only where FMA() says so, as the Swift
// `fusedMultiplyAdd` / `multiplyAdd` were under VOXENC_FMA. Reductions keep the Swift code's logical lanes (softmax:
// 8, LayerNorm: 16) whatever the register width, so the avx512 and avx2 copies agree bit for bit.
// Letters: W floats per vector value; N row width.

#ifndef VOXENC_ISA
#error "include from kernels_<isa>.c"
#endif

#define VOXENC_JOIN2(name, isa) name##_##isa
#define VOXENC_JOIN(name, isa) VOXENC_JOIN2(name, isa)
#define KERNEL(name) VOXENC_JOIN(name, VOXENC_ISA)
#define W VOXENC_LANES
// Helpers take and return vectors wider than the baseline ABI's registers; they are always inlined, so no call ever
// passes one (clang's -Wpsabi warns about the calling convention all the same).
#pragma clang diagnostic ignored "-Wpsabi"
#define INLINE static inline __attribute__((always_inline))

typedef float vf __attribute__((vector_size(W * 4)));
typedef int32_t vi __attribute__((vector_size(W * 4)));
typedef uint32_t vu __attribute__((vector_size(W * 4)));
typedef float v8f __attribute__((vector_size(32)));
typedef uint32_t v8u __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));
typedef double v8d __attribute__((vector_size(64)));
typedef double v16d __attribute__((vector_size(128)));

#if VOXENC_HAS_FMA
#define FMA(a, b, c) __builtin_elementwise_fma((a), (b), (c))
#else
#define FMA(a, b, c) ((a) * (b) + (c))
#endif

INLINE vf load(const float *p) { vf v; memcpy(&v, p, sizeof v); return v; }
INLINE vu load_u(const int32_t *p) { vu v; memcpy(&v, p, sizeof v); return v; }
INLINE void store(float *p, vf v) { memcpy(p, &v, sizeof v); }
INLINE vf splat(float x) { return (vf){0} + x; }
INLINE v8f splat8(float x) { return (v8f){0} + x; }
INLINE v8f load8(const float *p) { v8f v; memcpy(&v, p, sizeof v); return v; }
INLINE v16f load16(const float *p) { v16f v; memcpy(&v, p, sizeof v); return v; }
/// mask ? a : b per lane (mask lanes all ones or all zeros: a comparison's result).
INLINE vf select(vi mask, vf a, vf b) { return (vf)(((vu)a & (vu)mask) | ((vu)b & ~(vu)mask)); }
INLINE v8f select8(v8u mask, v8f a, v8f b) { return (v8f)(((v8u)a & mask) | ((v8u)b & ~mask)); }

// MARK: - exp (Cephes expf; VectorMath.swift `cephesExponential`, `exponential`, `exponentialOfNonPositive`)

/// Cephes expf on x in [−87.34, 88.38] (the callers clamp): n = round(x / ln 2), r = x − n·ln 2 with ln 2 in two
/// parts, a degree-5 polynomial, then 2^n through the exponent bits. Rounding to an integer through the 1.5·2²³
/// "magic number" (exact for |n| < 2²²).
INLINE vf cephes_exp(vf v) {
    const vf magic = splat(12582912.0f);
    const vf shifted = v * 1.44269504088896341f + magic;
    const vf n = shifted - magic;
    vf r = FMA(n, splat(-0.693359375f), v);
    r = FMA(n, splat(2.12194440e-4f), r);
    const vf r2 = r * r;
    vf p = splat(1.9875691500e-4f);
    p = FMA(p, r, splat(1.3981999507e-3f));
    p = FMA(p, r, splat(8.3334519073e-3f));
    p = FMA(p, r, splat(4.1665795894e-2f));
    p = FMA(p, r, splat(1.6666665459e-1f));
    p = FMA(p, r, splat(5.0000001201e-1f));
    p = FMA(p, r2, r) + 1.0f;
    const vu integer = (vu)shifted - 0x4B400000u;
    const vu exponent_bits = (integer + 127u) << 23;
    return p * (vf)exponent_bits;
}

/// e^x; 0 below −87.34; above 88.38 clamped to it (≈ 2.4e38, as the Swift version: erf only asks for e^(−x²)).
INLINE vf exp_full(vf x) {
    vf v = select(x > 88.3762626647949f, splat(88.3762626647949f), x);
    const vi underflow = v < -87.3365447504019f;
    v = select(underflow, splat(-87.3365447504019f), v);
    return select(underflow, splat(0.0f), cephes_exp(v));
}

/// e^x for x ≤ 0 (softmax after the max shift); below −87.34 gives ≈ 1.2e−38 instead of 0: one clamp.
INLINE vf exp_non_positive(vf x) {
    return cephes_exp(select(x < -87.3365447504019f, splat(-87.3365447504019f), x));
}

// MARK: - erf and GELU (PyTorch ATen vec512/vec256 Vectorized<float>::erf; VectorMath.swift `errorFunction`)

/// erf(x) = sign(x)·(1 − r(t)·t·e^(−x²)), t = 1 / (1 + p·|x|): Abramowitz & Stegun 7.1.26, max abs error 1.5e-7.
INLINE vf erf_vector(vf x) {
    const vu sign_bits = (vu)x & 0x80000000u;
    const vf absolute = (vf)((vu)x & 0x7FFFFFFFu);
    const vf t = 1.0f / FMA(splat(0.3275911f), absolute, splat(1.0f));
    vf r = FMA(splat(1.061405429f), t, splat(-1.453152027f));
    r = FMA(r, t, splat(1.421413741f));
    r = FMA(r, t, splat(-0.284496736f));
    r = FMA(r, t, splat(0.254829592f));
    const vf negative_square = -(x * x);
    const vf e = -exp_full(negative_square);
    const vf value = FMA(e * t, r, splat(1.0f));
    return (vf)((vu)value ^ sign_bits);
}

#define INVERSE_SQUARE_ROOT_TWO 0.70710678118654752440f

/// x·½·(1 + erf(x/√2)), the vectorised form (Activations.swift `GELU.gelu(Vector16)`).
INLINE vf gelu_vector(vf x) { return x * 0.5f * (1.0f + erf_vector(x * INVERSE_SQUARE_ROOT_TWO)); }

/// torch's scalar tail: x * 0.5 * (1 + std::erf(x * M_SQRT1_2)), libm erff.
INLINE float gelu_scalar(float x) { return x * 0.5f * (1.0f + erff(x * INVERSE_SQUARE_ROOT_TWO)); }

void KERNEL(voxenc_gelu)(float *x, size_t count) {
    const size_t vector_end = count / 16 * 16;  // blocks of 16 vectorised, as the Swift Vector16 loop
    for (size_t i = 0; i < vector_end; i += W) store(x + i, gelu_vector(load(x + i)));
    for (size_t i = vector_end; i < count; i++) x[i] = gelu_scalar(x[i]);
}

void KERNEL(voxenc_gelu_bias_rows)(float *x, size_t rows, size_t columns, const float *bias) {
    const size_t vector_end = columns / 16 * 16;
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * columns;
        for (size_t c = 0; c < vector_end; c += W) store(row + c, gelu_vector(load(row + c) + load(bias + c)));
        for (size_t c = vector_end; c < columns; c++) row[c] = gelu_scalar(row[c] + bias[c]);
    }
}

// MARK: - int8 epilogue (QuantisedLinear.swift `dequantiseRow`)

void KERNEL(voxenc_dequantise_row)(const int32_t *c, float row_scale, int32_t zero_point, const float *column_scales,
                                   const int32_t *column_sums, const float *bias, size_t width, float *y,
                                   bool accumulate, bool gelu) {
    const size_t vector_end = width / 16 * 16;
    const vf a = splat(row_scale);
    const vu shift = (vu){0} + (uint32_t)zero_point;
    for (size_t j = 0; j < vector_end; j += W) {
        const vu exact = load_u(c + j) - load_u(column_sums + j) * shift;  // wraps, as Swift's &- and &*
        vf value = __builtin_convertvector((vi)exact, vf) * (a * load(column_scales + j));
        if (bias) value += load(bias + j);
        if (accumulate) value += load(y + j);
        if (gelu) value = gelu_vector(value);
        store(y + j, value);
    }
    for (size_t j = vector_end; j < width; j++) {
        const int32_t exact = (int32_t)((uint32_t)c[j] - (uint32_t)column_sums[j] * (uint32_t)zero_point);
        float value = (float)exact * (row_scale * column_scales[j]);
        if (bias) value += bias[j];
        if (accumulate) value += y[j];
        y[j] = gelu ? gelu_scalar(value) : value;
    }
}

// MARK: - float32 → bf16, ties to even (the bf16 GEMMs' operands; BFloat16GEMM.swift `BFloat16GEMM.round`)

typedef uint16_t vh __attribute__((vector_size(W * 2)));

/// The upper 16 bits after adding 0x7FFF plus the lowest kept bit: round to nearest, ties to even; a NaN stays a quiet
/// NaN (its payload's top bits and the quiet bit), never rounded into infinity. Integer operations only, so every
/// copy gives the same bits, denormals included.
INLINE uint16_t bf16_scalar(float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((bits >> 16) | 0x40u);
    return (uint16_t)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

/// bf16_scalar on every lane, stored at `out` (memcpy: `out` may lie in the buffer `x` was loaded from).
INLINE void store_bf16(uint16_t *out, vf x) {
    const vu bits = (vu)x;
    const vu rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
    const vu nan = (vu)((bits & 0x7FFFFFFFu) > 0x7F800000u);
    const vh narrow = __builtin_convertvector((rounded & ~nan) | (((bits >> 16) | 0x40u) & nan), vh);
    memcpy(out, &narrow, sizeof narrow);
}

void KERNEL(voxenc_round_bf16_rows)(const float *x, size_t rows, size_t columns, size_t ldx, uint16_t *y, size_t ldy) {
    for (size_t r = 0; r < rows; r++) {
        const float *in = x + r * ldx;
        uint16_t *out = y + r * ldy;
        size_t i = 0;
        for (; i + W <= columns; i += W) store_bf16(out + i, load(in + i));  // loads before stores: y may trail x
        for (; i < columns; i++) {
            const uint16_t value = bf16_scalar(in[i]);
            memcpy(out + i, &value, sizeof value);
        }
    }
}

// MARK: - float → float16 (output embeddings, --dtype float16)

typedef _Float16 vhalf __attribute__((vector_size(W * 2)));

void KERNEL(voxenc_round_f16)(const float *x, size_t count, uint16_t *y) {
    size_t i = 0;
    for (; i + W <= count; i += W) {
        const vhalf narrow = __builtin_convertvector(load(x + i), vhalf);
        memcpy(y + i, &narrow, sizeof narrow);
    }
    for (; i < count; i++) {
        const _Float16 narrow = (_Float16)x[i];
        memcpy(y + i, &narrow, sizeof narrow);
    }
}

// MARK: - softmax's row pass (Activations.swift `Softmax.exponentiateRow`)

/// exp(values[k] − maximum) for k < count ≤ 16 through the vector exp (lanes past `count` padded with −inf).
INLINE void exp_shifted_short(const float *values, float maximum, size_t count, float *out) {
    float buffer[16];
    for (size_t k = 0; k < 16; k++) buffer[k] = k < count ? values[k] - maximum : -INFINITY;
    for (size_t k = 0; k < count; k += W) store(buffer + k, exp_non_positive(load(buffer + k)));
    memcpy(out, buffer, count * sizeof(float));
}

/// values[0 ..< count] to row[start...], or as bf16 to rounded[start...] when given.
INLINE void put_row_part(float *row, uint16_t *rounded, size_t start, const float *values, size_t count) {
    if (!rounded) { memcpy(row + start, values, count * sizeof(float)); return; }
    for (size_t k = 0; k < count; k++) {
        const uint16_t value = bf16_scalar(values[k]);
        memcpy(rounded + start + k, &value, sizeof value);
    }
}

/// The row pass; with `rounded`, the exponentials go there as bf16 instead of into `row` (the same sum either way).
INLINE float exponentiate_row(float *row, size_t width, uint16_t *rounded) {
    const size_t vector_end = width / 8 * 8;
    // The maximum (exact in any order).
    vf maxima = splat(-INFINITY);
    size_t i = 0;
    for (; i + W <= vector_end; i += W) {
        const vf v = load(row + i);
        maxima = select(v > maxima, v, maxima);
    }
    float maximum = maxima[0];
    for (int lane = 1; lane < W; lane++) if (maxima[lane] > maximum) maximum = maxima[lane];
    for (; i < width; i++) if (row[i] > maximum) maximum = row[i];
    // exp(x − max) in place; 8 lanes of sums over blocks of 8, in block order.
    const vf shift = splat(maximum);
    v8f sums = {0};
    i = 0;
#if W == 16
    for (; i + 16 <= vector_end; i += 16) {
        const vf e = exp_non_positive(load(row + i) - shift);
        if (rounded) store_bf16(rounded + i, e); else store(row + i, e);
        sums += __builtin_shufflevector(e, e, 0, 1, 2, 3, 4, 5, 6, 7);
        sums += __builtin_shufflevector(e, e, 8, 9, 10, 11, 12, 13, 14, 15);
    }
    if (i < vector_end) {  // one block of 8 left
        float block[8];
        exp_shifted_short(row + i, maximum, 8, block);
        sums += load8(block);
        put_row_part(row, rounded, i, block, 8);
        i += 8;
    }
#elif W == 8
    for (; i < vector_end; i += 8) {
        const vf e = exp_non_positive(load(row + i) - shift);
        if (rounded) store_bf16(rounded + i, e); else store(row + i, e);
        sums += e;
    }
#else
    for (; i < vector_end; i += 8) {
        const vf low = exp_non_positive(load(row + i) - shift), high = exp_non_positive(load(row + i + W) - shift);
        if (rounded) { store_bf16(rounded + i, low); store_bf16(rounded + i + W, high); }
        else { store(row + i, low); store(row + i + W, high); }
        sums += __builtin_shufflevector(low, high, 0, 1, 2, 3, 4, 5, 6, 7);
    }
#endif
    float sum = -0.0f;  // Swift's SIMD sum(): lanes in order from −0
    for (int lane = 0; lane < 8; lane++) sum += sums[lane];
    if (vector_end < width) {
        float tail[8];
        exp_shifted_short(row + vector_end, maximum, width - vector_end, tail);
        for (size_t k = 0; k < width - vector_end; k++) sum += tail[k];
        put_row_part(row, rounded, vector_end, tail, width - vector_end);
    }
    return sum;
}

float KERNEL(voxenc_softmax_exponentiate_row)(float *row, size_t width) { return exponentiate_row(row, width, NULL); }

float KERNEL(voxenc_softmax_exponentiate_row_bf16)(float *row, size_t width, uint16_t *rounded) {
    return exponentiate_row(row, width, rounded);
}

// MARK: - LayerNorm rows (Activations.swift `LayerNorm.normaliseRow`)

INLINE double lanes_in_double(v16f v) {
    double total = 0.0;
    for (int lane = 0; lane < 16; lane++) total += (double)v[lane];
    return total;
}

INLINE void layer_norm_row(const float *x, size_t width, const float *gamma, const float *beta, float epsilon,
                                  float *y) {
    const size_t vector_end = width / 16 * 16;
    v16f sums = {0};
    for (size_t c = 0; c < vector_end; c += 16) sums += load16(x + c);
    double sum = lanes_in_double(sums);
    for (size_t c = vector_end; c < width; c++) sum += (double)x[c];
    const double mean = sum / (double)width;
    const float mean_high = (float)mean, mean_low = (float)(mean - (double)mean_high);
    const v16f high = (v16f){0} + mean_high, low = (v16f){0} + mean_low;
    v16f squares = {0};
    for (size_t c = 0; c < vector_end; c += 16) {
        const v16f d = (load16(x + c) - high) - low;
        squares = FMA(d, d, squares);
    }
    double square_sum = lanes_in_double(squares);
    for (size_t c = vector_end; c < width; c++) {
        const double d = (double)x[c] - mean;
        square_sum += d * d;
    }
    const float scale = (float)(1.0 / sqrt(square_sum / (double)width + (double)epsilon));
    const v16f scale_vector = (v16f){0} + scale;
    for (size_t c = 0; c < vector_end; c += 16) {
        const v16f normalised = ((load16(x + c) - high) - low) * scale_vector;
        const v16f out = FMA(normalised, load16(gamma + c), load16(beta + c));
        memcpy(y + c, &out, sizeof out);
    }
    for (size_t c = vector_end; c < width; c++) y[c] = ((x[c] - mean_high) - mean_low) * scale * gamma[c] + beta[c];
}

void KERNEL(voxenc_layer_norm_rows)(const float *x, size_t rows, size_t width, const float *gamma, const float *beta,
                                    float epsilon, float *y) {
    for (size_t r = 0; r < rows; r++) layer_norm_row(x + r * width, width, gamma, beta, epsilon, y + r * width);
}

// MARK: - log10 (Cephes log10f; VectorLog.swift `log10Positive`)

/// x = 2^e · m with m in [√½, √2), ln(1 + f) by a degree-9 polynomial (Cephes logf), log10(e) and log10(2) split into
/// a short exact head and a tail, the small terms summed first (Cephes order). Positive normal x only.
INLINE vf log10_positive(vf x) {
    const vu bits = (vu)x;
    vi exponent = (vi)(bits >> 23) - 127;
    vf mantissa = (vf)((bits & 0x007FFFFFu) | 0x3F800000u);  // [1, 2)
    const vi large = mantissa > 1.41421356237f;
    mantissa = select(large, mantissa * 0.5f, mantissa);
    exponent = exponent - large;  // large is −1 where true
    const vf f = mantissa - 1.0f;
    const vf f2 = f * f;
    vf p = splat(7.0376836292e-2f);
    p = FMA(p, f, splat(-1.1514610310e-1f));
    p = FMA(p, f, splat(1.1676998740e-1f));
    p = FMA(p, f, splat(-1.2420140846e-1f));
    p = FMA(p, f, splat(1.4249322787e-1f));
    p = FMA(p, f, splat(-1.6668057665e-1f));
    p = FMA(p, f, splat(2.0000714765e-1f));
    p = FMA(p, f, splat(-2.4999993993e-1f));
    p = FMA(p, f, splat(3.3333331174e-1f));
    vf y = f * (f2 * p);
    y = y - 0.5f * f2;
    const vf e = __builtin_convertvector(exponent, vf);
    vf z = (f + y) * 7.00731903251827651129e-4f;  // log10(e) tail
    z = z + y * 4.3359375e-1f;                    // log10(e) head
    z = z + f * 4.3359375e-1f;
    z = z + e * 2.48745663981195213739e-4f;  // log10(2) tail
    z = z + e * 3.0078125e-1f;               // log10(2) head
    return z;
}

// y[i] = f(x[i]) over `count` values, W at a time; the tail padded with `pad` (a value f takes without trouble).
#define ELEMENTWISE_KERNEL(name, f, pad)                                                    \
    void KERNEL(name)(const float *x, float *y, size_t count) {                             \
        size_t i = 0;                                                                       \
        for (; i + W <= count; i += W) store(y + i, f(load(x + i)));                        \
        if (i < count) {                                                                    \
            float buffer[W];                                                                \
            for (size_t k = 0; k < W; k++) buffer[k] = i + k < count ? x[i + k] : (pad);    \
            store(buffer, f(load(buffer)));                                                 \
            memcpy(y + i, buffer, (count - i) * sizeof(float));                             \
        }                                                                                   \
    }

ELEMENTWISE_KERNEL(voxenc_log10, log10_positive, 1.0f)
ELEMENTWISE_KERNEL(voxenc_exp, exp_full, 0.0f)
#undef ELEMENTWISE_KERNEL

// MARK: - SwiGLU's activation (SwiGLU.swift)

/// silu(g)·u = g / (1 + e^(−g)) · u; e^ is exp_full below 88.38 and +inf above (as float32 expf overflows), so
/// g < −88.38 gives ±0 as torch does, not g / 2.4e38.
INLINE vf swiglu_vector(vf g, vf u) {
    const vf x = -g;
    const vf e = select(x > 88.3762626647949f, splat(__builtin_inff()), exp_full(x));
    return g / (1.0f + e) * u;
}

void KERNEL(voxenc_swiglu_rows)(const float *gate_up, size_t rows, size_t width, float *out) {
    for (size_t r = 0; r < rows; r++) {
        const float *gate = gate_up + r * 2 * width, *up = gate + width;
        float *y = out + r * width;
        size_t i = 0;
        for (; i + W <= width; i += W) store(y + i, swiglu_vector(load(gate + i), load(up + i)));
        if (i < width) {  // the tail through the same vector code, padded with zeros
            float g[W] = {0}, u[W] = {0};
            memcpy(g, gate + i, (width - i) * sizeof(float));
            memcpy(u, up + i, (width - i) * sizeof(float));
            store(g, swiglu_vector(load(g), load(u)));
            memcpy(y + i, g, (width - i) * sizeof(float));
        }
    }
}

// MARK: - One block of 8 frames of log-mel (LogMelSpectrogram.swift `log10Mel`)

void KERNEL(voxenc_log10_mel_block)(const double *spectra, size_t bins, const float *weights, const ptrdiff_t *offsets,
                                    const ptrdiff_t *starts, size_t mel_bins, float floor, float *power, float *mel) {
    // |X|² as [bin, frame] in float64 (re² + im², each rounded), rounded to float32 (torch's power is float32).
    for (size_t b = 0; b < bins; b++) {
        v16d pair;
        memcpy(&pair, spectra + b * 16, sizeof pair);
        const v16d squares = pair * pair;
        const v8d sum = __builtin_shufflevector(squares, squares, 0, 2, 4, 6, 8, 10, 12, 14)
                      + __builtin_shufflevector(squares, squares, 1, 3, 5, 7, 9, 11, 13, 15);
        const v8f rounded = __builtin_convertvector(sum, v8f);
        memcpy(power + b * 8, &rounded, sizeof rounded);
    }
    // Sparse filterbank, 8 frames per vector; floored at `floor`.
    const v8f floor_vector = splat8(floor);
    for (size_t m = 0; m < mel_bins; m++) {
        const float *band_power = power + starts[m] * 8;
        const float *band_weights = weights + offsets[m];
        const ptrdiff_t band_count = offsets[m + 1] - offsets[m];
        v8f energy = {0};
        for (ptrdiff_t w = 0; w < band_count; w++) energy = FMA(splat8(band_weights[w]), load8(band_power + w * 8), energy);
        energy = select8((v8u)(energy < floor_vector), floor_vector, energy);
        memcpy(mel + m * 8, &energy, sizeof energy);
    }
    // log10 over the block (mel_bins · 8 values; a tight loop keeps the polynomial's constants in registers).
    KERNEL(voxenc_log10)(mel, mel, mel_bins * 8);
}

// MARK: - Windowed attention (causal encoders: SlidingWindowAttention.swift)

#if VOXENC_HAS_FMA
#define FMA1(a, b, c) __builtin_fmaf((a), (b), (c))
#else
#define FMA1(a, b, c) ((a) * (b) + (c))
#endif
// Vector values of keys (or of a head's outputs) per query in the four-query tiles: 4 × T accumulators must fit the
// register file (32 zmm for avx512; 16 ymm or xmm for the others, whose values are two or four registers).
#ifdef VOXENC_ATTENTION_TILE
#define T VOXENC_ATTENTION_TILE
#else
#define T 1
#endif

/// bf16 values [W] widened to float32 (exact: the bf16 bits are a float32's upper half).
INLINE vf load_bf16(const uint16_t *p) {
    vh narrow;
    memcpy(&narrow, p, sizeof narrow);
    return (vf)(__builtin_convertvector(narrow, vu) << 16);
}

INLINE float bf16_to_float(uint16_t x) {
    const uint32_t bits = (uint32_t)x << 16;
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

// The two kernels over float32 keys and values (voxenc_key_scores, voxenc_weighted_rows), then over bf16 ones
// (…_bf16: the same chains on the widened values).
#define ATTENTION_ELEMENT float
#define ATTENTION_LOAD load
#define ATTENTION_SCALAR(x) (x)
#define ATTENTION_NAME(name) name
#include "attention_template.h"
#define ATTENTION_ELEMENT uint16_t
#define ATTENTION_LOAD load_bf16
#define ATTENTION_SCALAR(x) bf16_to_float(x)
#define ATTENTION_NAME(name) name##_bf16
#include "attention_template.h"

#undef T
#undef FMA1
#undef W
