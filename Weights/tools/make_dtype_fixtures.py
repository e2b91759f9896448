"""The reference roundings of float32 to float16 and bfloat16, from numpy and ml_dtypes (not from voxenc), for
Tests/VoxEncTests/OutputDTypeTests.swift: float32 bit patterns and what `np.float32.astype(np.float16)` and
`astype(ml_dtypes.bfloat16)` make of them.

    pip install numpy ml_dtypes && python3 Weights/tools/make_dtype_fixtures.py   # → Tests/Fixtures/dtype/

The patterns: every float32 exponent with mantissas at and around each format's halfway points (ties to even, just
below and just above), float16's subnormal and overflow ranges, ±0, ±inf, and random bit patterns (seeded). NaNs are
left out: both formats keep a NaN a NaN, and voxenc's embeddings hold none.
Files (little-endian, no header): float32.u32, float16.u16, bfloat16.u16, one value per element, the same order.
"""
import os

import ml_dtypes
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Fixtures", "dtype")

patterns = []
for exponent in range(0, 255):
    for sign in (0, 1):
        base = (sign << 31) | (exponent << 23)
        for low_bits, top in ((13, 0x3FF), (16, 0x7F)):  # float16 keeps 10 mantissa bits (normals), bfloat16 7
            half = 1 << (low_bits - 1)
            for upper in (0, 1, 2, 3, top):
                for delta in (-1, 0, 1):
                    mantissa = (upper << low_bits) + half + delta
                    if 0 <= mantissa < (1 << 23):
                        patterns.append(base | mantissa)
        patterns += [base, base | 0x7FFFFF, base | 1]
# float16's subnormal range (exponents 103 … 112) at every shift, halfway points included.
for exponent in range(100, 114):
    for shift in range(13, 24):
        for delta in (-1, 0, 1):
            mantissa = (1 << (shift - 1)) + delta
            if 0 <= mantissa < (1 << 23):
                patterns.append((exponent << 23) | mantissa)
# Around float16's largest finite value (65504) and the overflow threshold (65520).
for value in (65504.0, 65519.0, 65520.0, 65536.0, 1e5, 6.1035156e-05, 5.9604645e-08, 2.9802322e-08):
    bits = int(np.float32(value).view(np.uint32))
    patterns += [bits + d for d in range(-2, 3)] + [(bits + d) | 0x80000000 for d in range(-2, 3)]
patterns += [0x7F800000, 0xFF800000, 0, 0x80000000]
rng = np.random.default_rng(27)
patterns += [int(x) for x in rng.integers(0, 2**32, size=20000, dtype=np.uint64)]

bits = np.array(sorted(set(patterns)), dtype=np.uint32)
values = bits.view(np.float32)
bits = bits[~np.isnan(values)]
values = bits.view(np.float32)
with np.errstate(over="ignore"):
    half = values.astype(np.float16).view(np.uint16)
brain = values.astype(ml_dtypes.bfloat16).view(np.uint16)
os.makedirs(OUT, exist_ok=True)
bits.astype("<u4").tofile(os.path.join(OUT, "float32.u32"))
half.astype("<u2").tofile(os.path.join(OUT, "float16.u16"))
brain.astype("<u2").tofile(os.path.join(OUT, "bfloat16.u16"))
print(f"{len(bits)} float32 patterns → {OUT} (numpy {np.__version__}, ml_dtypes {ml_dtypes.__version__})")
