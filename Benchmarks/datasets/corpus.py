"""What the dataset benchmarks share: the voxenc binary, the machine's CPU name, and a corpus of speech made from the
committed recordings (each file the 3 fixtures concatenated and repeated to `seconds`, at varying gains), with a
JSON-lines manifest."""
import json
import os
import platform
import subprocess
import wave

import numpy as np
import soundfile

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VOXENC = os.environ.get("VOXENC", os.path.join(REPO, ".build", "release", "voxenc"))
AUDIO = os.path.join(REPO, "Tests", "Fixtures", "audio")


def cpu_name():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def cpuinfo_field(name):
    for line in open("/proc/cpuinfo"):
        if line.split(":")[0].strip() == name:
            return line.split(":", 1)[1].strip()
    return None


def machine():
    flags = open("/proc/cpuinfo").read()
    return {"cpu": cpu_name(), "cpu_family": cpuinfo_field("cpu family"), "cpu_model": cpuinfo_field("model"),
            "note": "AMD EPYC family 26 (Zen 5) VM, 2 cores, shared: another engineer's builds and the host's steal "
                    "time make whole-job timings vary ±5 %" if cpuinfo_field("cpu family") == "26" else None,
            "cores": os.cpu_count(), "avx512": " avx512f " in flags,
            "avx512_bf16": " avx512_bf16 " in flags, "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
            "commit": subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                                     text=True).stdout.strip()}


def speech(seconds):
    """16 kHz mono speech: the committed recordings, resampled by soundfile's reader as stored, looped."""
    pieces = []
    for name in sorted(os.listdir(AUDIO)):
        data, rate = soundfile.read(os.path.join(AUDIO, name), dtype="float32", always_2d=True)
        data = data.mean(axis=1)
        if rate != 16000:   # nearest-sample resampling: a benchmark needs speech-like sound, not fidelity
            data = data[(np.arange(int(len(data) * 16000 / rate)) * rate / 16000).astype(int)]
        pieces.append(data)
    joined = np.concatenate(pieces)
    return np.resize(joined, int(seconds * 16000))


def make(directory, count, seconds):
    """`count` WAV files of `seconds` under directory/audio and a manifest; returns the manifest's path."""
    os.makedirs(os.path.join(directory, "audio"), exist_ok=True)
    base = speech(seconds)
    lines = []
    for index in range(count):
        path = os.path.join(directory, "audio", f"{index:05d}.wav")
        gain = 0.5 + 0.5 * ((index * 7919) % 100) / 100
        soundfile.write(path, (base * gain).astype(np.float32), 16000, subtype="PCM_16")
        lines.append(json.dumps({"id": f"clip{index:05d}", "path": path}))
    manifest = os.path.join(directory, "manifest.jsonl")
    open(manifest, "w").write("\n".join(lines) + "\n")
    return manifest
