#!/usr/bin/env python3
"""What the reference front end makes of each decodable audio seed of the fuzzer corpus (Tests/Fuzz/Corpus/audio):
soundfile (libsndfile) → float32 → mean of the channels → python-soxr HQ to 16 kHz, as mistral-common reads audio.
Written to Tests/Fixtures/fuzz/audio-seeds.json: per seed the source rate and frame count, the 16 kHz sample count,
the RMS and the first 8 samples. `broken-*` and `regression-*` seeds (which must be refused) are left out.

    python3 Weights/tools/make_seed_references.py      # from the repository root
"""
import json
import os

import numpy as np
import soundfile
import soxr

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(REPO, "Tests", "Fuzz", "Corpus", "audio")


def main():
    out = {}
    for name in sorted(os.listdir(CORPUS)):
        if name.startswith((".", "broken-", "regression-")):
            continue
        try:
            data, rate = soundfile.read(os.path.join(CORPUS, name), dtype="float32", always_2d=True)
        except Exception as error:  # a format this libsndfile build cannot read: no reference
            print(f"{name}: skipped ({error})")
            continue
        mono = data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0]
        x = mono if rate == 16000 else soxr.resample(mono, rate, 16000, quality="HQ").astype(np.float32)
        out[name] = {"source_rate": rate, "source_frames": int(data.shape[0]), "sample_count": int(x.size),
                     "rms": float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if x.size else 0.0,
                     "head": [float(v) for v in x[:8]]}
        print(name, out[name]["source_rate"], out[name]["sample_count"], f"{out[name]['rms']:.6f}")
    with open(os.path.join(REPO, "Tests", "Fixtures", "fuzz", "audio-seeds.json"), "w") as f:
        json.dump({"made_by": "Weights/tools/make_seed_references.py", "soundfile": soundfile.__version__,
                   "libsndfile": soundfile.__libsndfile_version__, "soxr": soxr.__version__, "seeds": out}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
