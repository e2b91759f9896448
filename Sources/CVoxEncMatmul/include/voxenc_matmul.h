// A Linear layer's weights packed once for oneDNN's matmul primitive, and the products with them.
// Why: oneDNN's brgemm matmul with weights reordered once into its blocked layout runs 5–10 % faster than sgemm on
// AVX-512 (no packing of B on every call), and it is the only route to bf16 (AVX512-BF16, AMX) and AMX kernels.
// Every call runs single-threaded on the calling thread (threading is the caller's: fixed row blocks).
#ifndef VOXENC_MATMUL_H
#define VOXENC_MATMUL_H

#include <stddef.h>
#include <stdint.h>

typedef struct voxenc_packed voxenc_packed;

/// Operand types of the products: float32 throughout; bf16 operands (weights rounded to nearest even once here,
/// activations on each call) with float32 accumulation and output; or u8 activations × s8 weights summed exactly in
/// int32 (int8: the caller quantises, and removes the zero point).
typedef enum { VOXENC_MATMUL_F32 = 0, VOXENC_MATMUL_BF16 = 1, VOXENC_MATMUL_U8S8 = 2 } voxenc_matmul_type;

/// Packs W [n, k] row-major (a Linear's [out, in]; float32, or int8 for VOXENC_MATMUL_U8S8) in the layout oneDNN's
/// matmul prefers for products of `typical_m` rows. NULL on failure, with a message in `error` (size `error_size`).
voxenc_packed *voxenc_packed_create(const void *weight, int64_t n, int64_t k, voxenc_matmul_type type,
                                    int64_t typical_m, char *error, size_t error_size);
void voxenc_packed_free(voxenc_packed *packed);
/// Bytes of packed weights held.
size_t voxenc_packed_bytes(const voxenc_packed *packed);
/// oneDNN's implementation for `typical_m` rows ("brg:avx512_core", "brg:avx512_core_amx_bf16", …).
const char *voxenc_packed_implementation(const voxenc_packed *packed);

/// C[m, n] = A[m, k] · Wᵀ, or C += … when `accumulate`, with leading dimensions lda, ldc: A and C float32, or A u8
/// and C int32 for VOXENC_MATMUL_U8S8. A primitive is made once per (m, lda, ldc, accumulate) and kept. Thread-safe:
/// scratch memory is per calling thread. Returns 0, or a oneDNN status.
int voxenc_packed_multiply(voxenc_packed *packed, const void *a, int64_t m, int64_t lda, void *c, int64_t ldc,
                           int accumulate);
/// The same product for bf16 packings with A already rounded (voxenc_round_bf16_rows: the bits
/// voxenc_packed_multiply would make) and dense, [m, k] rows k apart: callers running many packings over one input
/// round it once. The same primitive, so the same C bits. Returns 0, or a oneDNN status (invalid arguments for
/// another packing type).
int voxenc_packed_multiply_rounded(voxenc_packed *packed, const uint16_t *a, int64_t m, void *c, int64_t ldc,
                                   int accumulate);

/// C[m, n] = A[m, k] · op(B) with bf16 operands in plain row-major layouts (strides lda, ldb) and float32 C (ldc):
/// op(B) = B[k, n], or B[n, k]ᵀ when `transpose_b` — products of two activations (attention's q·kᵀ and P·v).
/// A primitive is made once per shape and strides and kept for the process. Returns 0 or a oneDNN status.
int voxenc_matmul_bf16(int transpose_b, int64_t m, int64_t n, int64_t k, const uint16_t *a, int64_t lda,
                       const uint16_t *b, int64_t ldb, float *c, int64_t ldc);

#endif
