"""Deterministic test signals shared by the fixture scripts and rebuilt bit for bit by the Swift tests
(Tests/VoxEncTestSupport/Signals.swift). All arithmetic is float64 in a fixed order, cast to float32 at the end."""
import math

import numpy as np


def lcg_uniform(count, seed):
    """SPEC.md §1.8 Test C generator: s <- (1103515245 s + 12345) mod 2^31 before each sample; u = s/2^31 - 0.5."""
    s = seed
    out = np.empty(count, dtype=np.float64)
    for n in range(count):
        s = (1103515245 * s + 12345) % 2**31
        out[n] = s / 2**31 - 0.5
    return out


def speech_like(count, seed):
    """LCG noise through an AR(2) resonator, under a 4000-sample triangular (syllable-like) envelope."""
    s = seed
    y1 = 0.0
    y2 = 0.0
    out = np.empty(count, dtype=np.float64)
    for n in range(count):
        s = (1103515245 * s + 12345) % 2**31
        e = s / 2**31 - 0.5
        y = e + 1.3 * y1 - 0.6 * y2
        y2 = y1
        y1 = y
        env = 1 - abs(((n % 4000) - 2000) / 2000)
        out[n] = 0.1 * env * y
    return out.astype(np.float32)


def tones(count):
    """0.3 sin(2π 440 t) + 0.2 sin(2π 1000 t) + 0.1 sin(2π 3000 t), t = n / 16000."""
    out = np.empty(count, dtype=np.float64)
    for n in range(count):
        t = n / 16000.0
        out[n] = 0.3 * math.sin(2 * math.pi * 440 * t) + 0.2 * math.sin(2 * math.pi * 1000 * t) \
            + 0.1 * math.sin(2 * math.pi * 3000 * t)
    return out.astype(np.float32)


def test_a():
    """SPEC.md §1.8 Test A: 0.5 sin(2π 440 n / 16000), 1 s."""
    return np.array([0.5 * math.sin(2 * math.pi * 440 * n / 16000) for n in range(16000)]).astype(np.float32)


def test_b():
    """SPEC.md §1.8 Test B: 45 s chirp + tone, two chunks."""
    out = np.empty(720000, dtype=np.float64)
    for n in range(720000):
        t = n / 16000
        out[n] = 0.1 * math.sin(2 * math.pi * (300 * t + 20 * t * t)) + 0.05 * math.sin(2 * math.pi * 1234.5 * t)
    return out.astype(np.float32)


def test_c():
    """SPEC.md §1.8 Test C: broadband LCG noise, 40000 samples, seed 12345."""
    return (lcg_uniform(40000, 12345) * 0.2).astype(np.float32)


def near_silence(count, seed):
    """Amplitude 1e-6 noise."""
    return (lcg_uniform(count, seed) * 2e-6).astype(np.float32)


def resampler_source(rate, seconds, seed, frequency, amplitude):
    """int16 codes round(32767 (a sin(2π f t) + 0.05 u)) at `rate`: exact in every integer PCM format and float."""
    count = int(rate * seconds)
    u = lcg_uniform(count, seed)
    out = np.empty(count, dtype=np.int16)
    for n in range(count):
        v = amplitude * math.sin(2 * math.pi * frequency * n / rate) + 0.05 * u[n]
        out[n] = int(round(32767 * v))
    return out
