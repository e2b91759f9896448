// The kernels for AVX-512 F/BW/DQ/VL + FMA: 16-lane registers (Skylake-SP, Ice Lake, Zen 4 and later).
// Bodies: kernels_template.h. Selected at run time by kernels.c.

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "voxenc_kernels.h"

#pragma STDC FP_CONTRACT OFF
#define VOXENC_ISA avx512
#if defined(__x86_64__)
#define VOXENC_LANES 16
#define VOXENC_HAS_FMA 1
#define VOXENC_ATTENTION_TILE 4  // 16 accumulators of the 32 zmm registers
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")
#endif
#include "kernels_template.h"
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#else  // not x86-64: the portable body under this name, never selected (voxenc_cpu_supports_avx512() is false)
#define VOXENC_LANES 4
#define VOXENC_HAS_FMA 0
#include "kernels_template.h"
#endif
