// The kernels for baseline x86-64 (SSE2): 4-lane registers, no fused multiply-add; any x86-64 CPU.
// Bodies: kernels_template.h. Selected at run time by kernels.c.

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "voxenc_kernels.h"

#pragma STDC FP_CONTRACT OFF
#define VOXENC_ISA sse2
#define VOXENC_LANES 16  // four xmm registers per value (as the Swift SIMD16 code compiled for SSE2): more ILP
#define VOXENC_HAS_FMA 0
#include "kernels_template.h"
