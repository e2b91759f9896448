#!/usr/bin/env python3
"""Reference outputs of the committed tiny models on the committed speech sample, for the CLI tests that embed the
file itself (Tests/Fixtures/encoder/reference-speech-encoder.safetensors):

  voxtral.encoder [1, 1500, 64]  voxtral-tiny-hf's audio_tower(...).last_hidden_state (`voxenc embed --encoder-only`)
  whisper.encoder [1, 1500, 64]  whisper-tiny-hf's encoder(...).last_hidden_state (`voxenc embed` on a Whisper model)

Both read Tests/Fixtures/audio/speech-16k.wav with soundfile (float32) through WhisperFeatureExtractor (128 / 80 mels,
padded to 30 s), run the committed weights with transformers (float32, eager, 1 thread). voxenc is never run.

    python3 Weights/tools/make_speech_references.py      # from the repository root
"""
import os

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
    out = {k: v.to(torch.float32).contiguous() for k, v in out.items()}
    for k, v in out.items():
        print(k, tuple(v.shape), f"std {v.std().item():.4f}")
    save_file(out, os.path.join(ENCODER, "reference-speech-encoder.safetensors"), metadata={"format": "pt"})


if __name__ == "__main__":
    main()
