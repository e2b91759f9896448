// The kernels for AVX2 + FMA: 8-lane registers (x86-64-v3: Haswell, Zen 1 and later).
// Bodies: kernels_template.h. Selected at run time by kernels.c.

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "voxenc_kernels.h"

#pragma STDC FP_CONTRACT OFF
#define VOXENC_ISA avx2
#if defined(__x86_64__)
#define VOXENC_LANES 16  // two ymm registers per value: two independent chains hide the FMA and division latency
#define VOXENC_HAS_FMA 1
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
#include "kernels_template.h"
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#else  // not x86-64: the portable body under this name, never selected (voxenc_cpu_supports_avx2() is false)
#define VOXENC_LANES 4
#define VOXENC_HAS_FMA 0
#include "kernels_template.h"
#endif
