#!/usr/bin/env python3
"""Reference outputs of the committed tiny models on the committed speech sample, for the CLI tests that embed the
file itself (Tests/Fixtures/encoder/reference-speech-encoder.safetensors):

  voxtral.encoder [1, 1500, 64]  voxtral-tiny-hf's audio_tower(...).last_hidden_state (`voxenc embed --encoder-only`)
  whisper.encoder [1, 1500, 64]  whisper-tiny-hf's encoder(...).last_hidden_state (`voxenc embed` on a Whisper model)
  tone.RATE.SUBTYPE.SECONDS [375, 96]  voxtral-tiny-hf's get_audio_features of the bad-input corpus's valid edge cases
                                 (BadInputCorpusTests `tone`: 0.3·sin(2π·440·n/RATE) as float32, written by soundfile
                                 with SUBTYPE, read back, channels averaged, python-soxr HQ to 16 kHz)
  one.sample [375, 96]           the same of a single sample 0.5 at 16 kHz (PCM_16)

Both read Tests/Fixtures/audio/speech-16k.wav with soundfile (float32) through WhisperFeatureExtractor (128 / 80 mels,
padded to 30 s), run the committed weights with transformers (float32, eager, 1 thread). voxenc is never run.

    python3 Weights/tools/make_speech_references.py      # from the repository root
"""
import io
import os

import numpy as np
import soxr

import soundfile
import torch
from safetensors.torch import save_file
from transformers import VoxtralForConditionalGeneration, WhisperFeatureExtractor, WhisperForConditionalGeneration

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENCODER = os.path.join(REPO, "Tests", "Fixtures", "encoder")
torch.set_num_threads(1)


def mel(feature_size, audio):
    fe = WhisperFeatureExtractor(feature_size=feature_size)
    feats = fe(audio, sampling_rate=16000, padding=True, truncation=False, pad_to_multiple_of=480000,
               return_tensors="pt")["input_features"]
    return feats.reshape(feature_size, -1, 3000).transpose(0, 1).contiguous().float()


def roundtrip(x, rate, subtype):
    """x written as a WAV of `subtype` at `rate` and read back (float32), resampled to 16 kHz as mistral-common does."""
    buffer = io.BytesIO()
    soundfile.write(buffer, x, rate, subtype=subtype, format="WAV")
    buffer.seek(0)
    y, r = soundfile.read(buffer, dtype="float32")
    assert r == rate
    return y if rate == 16000 else soxr.resample(y, rate, 16000, quality="HQ").astype(np.float32)


def main():
    speech, rate = soundfile.read(os.path.join(REPO, "Tests", "Fixtures", "audio", "speech-16k.wav"), dtype="float32")
    assert rate == 16000 and speech.ndim == 1
    out = {}
    with torch.no_grad():
        vox = VoxtralForConditionalGeneration.from_pretrained(os.path.join(ENCODER, "voxtral-tiny-hf"),
                                                              dtype=torch.float32, attn_implementation="eager").eval()
        out["voxtral.encoder"] = vox.model.audio_tower(mel(128, speech)).last_hidden_state
        wh = WhisperForConditionalGeneration.from_pretrained(os.path.join(ENCODER, "whisper-tiny-hf"),
                                                             dtype=torch.float32, attn_implementation="eager").eval()
        out["whisper.encoder"] = wh.model.encoder(mel(80, speech)).last_hidden_state
        fe = WhisperFeatureExtractor(feature_size=128)

        def adapter(x):
            return vox.get_audio_features(mel(128, x), return_dict=True).pooler_output

        for rate, subtype, seconds in [(16000, "PCM_16", 1), (16000, "PCM_16", 2), (8000, "PCM_16", 1),
                                       (48000, "PCM_24", 1), (192000, "PCM_24", 1), (44100, "PCM_16", 1)]:
            n = np.arange(int(seconds * rate))
            x = (0.3 * np.sin(2 * np.pi * 440 * n / rate)).astype(np.float32)
            out[f"tone.{rate}.{subtype}.{seconds}"] = adapter(roundtrip(x, rate, subtype))
        out["one.sample"] = adapter(roundtrip(np.array([0.5], dtype=np.float32), 16000, "PCM_16"))
    out = {k: v.to(torch.float32).contiguous() for k, v in out.items()}
    for k, v in out.items():
        print(k, tuple(v.shape), f"std {v.std().item():.4f}")
    save_file(out, os.path.join(ENCODER, "reference-speech-encoder.safetensors"), metadata={"format": "pt"})


if __name__ == "__main__":
    main()
