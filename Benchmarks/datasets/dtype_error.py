"""The error float16 and bfloat16 outputs add to the float32 result, measured: for each model (the real Whisper
tiny.en and base, and the random tiny Voxtral fixture) and each committed recording, `voxenc embed` at float32,
float16 (npy) and bfloat16 (safetensors); relative L2 ‖x₁₆ − x₃₂‖ / ‖x₃₂‖ over the rows that cover the audio, the
largest element-wise relative error over |x| ≥ 2⁻¹⁴ (float16's normal range), and values that overflow float16.

    python3 Benchmarks/datasets/dtype_error.py > Benchmarks/results/CPU/datasets-dtype-error.json
"""
import json
import os
import subprocess
import sys
import tempfile

import ml_dtypes
import numpy as np

from corpus import AUDIO, REPO, VOXENC, machine

MODELS = {"whisper-tiny.en (real)": "Weights/models/whisper-tiny.en", "whisper-base (real)": "Weights/models/whisper-base",
          "voxtral tiny (random, adapter)": "Tests/Fixtures/encoder/voxtral-tiny-hf"}


def safetensors(path):
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    entry = json.loads(raw[8:8 + n])["embeddings"]
    return np.frombuffer(raw[8 + n:], dtype=ml_dtypes.bfloat16).reshape(entry["shape"])


def main():
    work, rows = tempfile.mkdtemp(), []
    for label, model in MODELS.items():
        model = os.path.join(REPO, model)
        if not os.path.isdir(model):
            continue
        for name in sorted(os.listdir(AUDIO)):
            audio, run = os.path.join(AUDIO, name), lambda *a: subprocess.run(
                [VOXENC, "embed", os.path.join(AUDIO, name), "--model", model, "--threads", "2", "--force", "--quiet", *a],
                check=True, capture_output=True)
            run("-o", f"{work}/f32.npy")
            run("-o", f"{work}/f16.npy", "--dtype", "float16")
            run("-o", f"{work}/bf16.safetensors", "--format", "safetensors", "--dtype", "bfloat16")
            valid = json.load(open(f"{work}/f32.json"))["valid_frame_count"]
            full = np.load(f"{work}/f32.npy")[:valid].astype(np.float64)
            for dtype, narrow in (("float16", np.load(f"{work}/f16.npy")), ("bfloat16", safetensors(f"{work}/bf16.safetensors"))):
                x = narrow[:valid].astype(np.float64)
                normal = np.abs(full) >= 2.0 ** -14
                finite = np.isfinite(x)
                rows.append({"model": label, "audio": name, "dtype": dtype, "values": int(full.size),
                             "relative_l2": float(np.linalg.norm((x - full)[finite]) / np.linalg.norm(full)),
                             "max_relative": float(np.max(np.abs(x - full)[normal & finite] / np.abs(full)[normal & finite])),
                             "overflowed": int((~finite).sum()), "max_abs_float32": float(np.abs(full).max())})
    json.dump({"machine": machine(), "bounds": {"float16": 2.0 ** -11, "bfloat16": 2.0 ** -8}, "rows": rows},
              sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
