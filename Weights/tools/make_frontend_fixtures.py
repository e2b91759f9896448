"""Front-end parity fixtures from the reference (Hugging Face transformers' WhisperFeatureExtractor, torch path,
and python-soxr), written to Tests/Fixtures/frontend/. Never derived from voxenc's own output.

    pip install "torch==2.13.0+cpu" transformers soxr soundfile numpy
    python3 Weights/tools/make_frontend_fixtures.py

Mel: each signal is fed to WhisperFeatureExtractor(feature_size=M) exactly as VoxtralProcessor calls it (the whole
audio, padding=True, pad_to_multiple_of=480000, truncation=False). To keep the files small, each `<signal>-<M>.npy`
holds the values [M, K] at K selected frames (listed in frontend.json: the first 120, every 64th, ±4 around every
30 s boundary and around the end of the audio, and the last 4); frontend.json also holds the float64 mean over ALL
values, so the frames in between are checked too.
Resampler: `resample-<rate>.npy` holds the int16 source [frames, 2] (left, right); `resample-<rate>-left.npy` and
`resample-<rate>-mean.npy` hold soxr.resample(x, rate, 16000, quality="HQ") of the left channel (x = code / 32768)
and of the float32 channel mean.
"""
import json
import os
import sys

import numpy as np
import soundfile
import soxr
import torch
import transformers
from transformers import WhisperFeatureExtractor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import signals  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(REPO, "Tests", "Fixtures", "frontend")
AUDIO = os.path.join(REPO, "Tests", "Fixtures", "audio")
torch.set_num_threads(1)


def reference_mel(samples, mel_bins):
    """VoxtralProcessor._retrieve_input_features' call, whole audio → [M, 3000·N]."""
    fe = WhisperFeatureExtractor(feature_size=mel_bins)
    features = fe(samples, sampling_rate=16000, padding=True, pad_to_multiple_of=480000, truncation=False,
                  return_tensors="pt").input_features
    return features[0].numpy().astype(np.float32)


def selected_frames(sample_count, frame_count):
    frames = set(range(min(120, frame_count)))
    frames.update(range(0, frame_count, 64))
    for boundary in range(3000, frame_count, 3000):
        frames.update(range(boundary - 4, boundary + 4))
    end = sample_count // 160
    frames.update(f for f in range(end - 4, end + 5) if 0 <= f < frame_count)
    frames.update(range(frame_count - 4, frame_count))
    return sorted(frames)


def file_samples(name):
    x, rate = soundfile.read(os.path.join(AUDIO, name), dtype="float32", always_2d=True)
    x = x.mean(axis=1, dtype=np.float32) if x.shape[1] > 1 else x[:, 0]
    if rate != 16000:
        x = soxr.resample(x, rate, 16000, quality="HQ")
    return x.astype(np.float32)


SIGNALS = {
    # name: (how the Swift side rebuilds it, samples)
    "speech_like_10s": ({"kind": "speech_like", "count": 160000, "seed": 101}, lambda: signals.speech_like(160000, 101)),
    "tones_3s": ({"kind": "tones", "count": 48000}, lambda: signals.tones(48000)),
    "silence_5s": ({"kind": "silence", "count": 80000}, lambda: np.zeros(80000, dtype=np.float32)),
    "near_silence_5s": ({"kind": "near_silence", "count": 80000, "seed": 7}, lambda: signals.near_silence(80000, 7)),
    "test_a_1s": ({"kind": "test_a"}, signals.test_a),
    "exact_30s": ({"kind": "speech_like", "count": 480000, "seed": 202}, lambda: signals.speech_like(480000, 202)),
    "plus_one_30s": ({"kind": "speech_like", "count": 480001, "seed": 303}, lambda: signals.speech_like(480001, 303)),
    "test_b_chirp_45s": ({"kind": "test_b"}, signals.test_b),
    "long_75s": ({"kind": "speech_like", "count": 1200000, "seed": 404}, lambda: signals.speech_like(1200000, 404)),
    "test_c": ({"kind": "test_c"}, signals.test_c),
    "speech_16k_wav": ({"kind": "file", "path": "audio/speech-16k.wav"}, lambda: file_samples("speech-16k.wav")),
    "speech_22k_stereo_flac": ({"kind": "file", "path": "audio/speech-22k-stereo.flac"},
                               lambda: file_samples("speech-22k-stereo.flac")),
}

RESAMPLER_RATES = [8000, 22050, 44100, 48000]


def main():
    os.makedirs(OUT, exist_ok=True)
    index = {"generator": "Weights/tools/make_frontend_fixtures.py",
             "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                          "soxr": soxr.__version__, "numpy": np.__version__},
             "signals": [], "resampler": []}
    for name, (recipe, make) in SIGNALS.items():
        x = make()
        entry = {"name": name, "recipe": recipe, "sample_count": int(x.size),
                 "audio_sum": float(np.sum(x, dtype=np.float64)),
                 "audio_head": [float(v) for v in x[:8]], "mels": {}}
        for mel_bins in (128, 80):
            mel = reference_mel(x, mel_bins)
            frames = selected_frames(x.size, mel.shape[1])
            np.save(os.path.join(OUT, f"{name}-{mel_bins}.npy"), np.ascontiguousarray(mel[:, frames]))
            entry["mels"][str(mel_bins)] = {"frame_count": int(mel.shape[1]), "frames": frames,
                                            "mean": float(np.mean(mel, dtype=np.float64)),
                                            "file": f"{name}-{mel_bins}.npy"}
        index["signals"].append(entry)
        print(name, x.size, {k: v["frame_count"] for k, v in entry["mels"].items()})

    for seed, rate in enumerate(RESAMPLER_RATES):
        left = signals.resampler_source(rate, 1.0, 1000 + seed, 440.0, 0.3)
        right = signals.resampler_source(rate, 1.0, 2000 + seed, 1000.0, 0.2)
        source = np.stack([left, right], axis=1)
        np.save(os.path.join(OUT, f"resample-{rate}.npy"), source)
        as_float = source.astype(np.float32) / np.float32(32768)
        left_16k = soxr.resample(np.ascontiguousarray(as_float[:, 0]), rate, 16000, quality="HQ")
        mean_16k = soxr.resample(as_float.mean(axis=1, dtype=np.float32), rate, 16000, quality="HQ")
        np.save(os.path.join(OUT, f"resample-{rate}-left.npy"), left_16k.astype(np.float32))
        np.save(os.path.join(OUT, f"resample-{rate}-mean.npy"), mean_16k.astype(np.float32))
        index["resampler"].append({"rate": rate, "frames": int(source.shape[0]), "output_count": int(left_16k.size)})

    # Reference filterbanks (float64 construction → float32, as the torch path uses them).
    for mel_bins in (128, 80):
        fe = WhisperFeatureExtractor(feature_size=mel_bins)
        np.save(os.path.join(OUT, f"filters-{mel_bins}.npy"), fe.mel_filters.astype(np.float32))

    with open(os.path.join(OUT, "frontend.json"), "w") as f:
        json.dump(index, f, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {OUT}: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
