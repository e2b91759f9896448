"""End-to-end parity check, the way the encoder issue is checked: a random Voxtral of a NEW shape and seed (HF
layout sharded in bf16, and Mistral layout) and a random Whisper, on audio the fixtures never used; `voxenc embed`
against transformers' get_audio_features / WhisperModel.encoder fed by the reference front end (soundfile → channel
mean → soxr HQ → WhisperFeatureExtractor called as VoxtralProcessor calls it).

    swift build -c release && python3 Weights/tools/check_embed_parity.py [--seed 7] [--width 128] [--layers 3]

Prints relative L2 per output and exits non-zero above 1e-4. Needs torch/transformers (not used by CI).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import soundfile
import soxr
import torch
from transformers import VoxtralConfig, VoxtralForConditionalGeneration, WhisperConfig, WhisperFeatureExtractor
from transformers import WhisperForConditionalGeneration
from transformers.models.whisper.modeling_whisper import sinusoids

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_encoder_fixtures as fx  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
VOXENC = os.path.join(REPO, ".build", "release", "voxenc")
BOUND = 1e-4


def reference_samples(path):
    x, rate = soundfile.read(path, dtype="float32", always_2d=True)
    x = x.mean(axis=1, dtype=np.float32) if x.shape[1] > 1 else x[:, 0]
    return soxr.resample(x, rate, 16000, quality="HQ").astype(np.float32) if rate != 16000 else x


def relative_l2(a, b):
    return float(np.linalg.norm(a.astype(np.float64) - b) / np.linalg.norm(b.astype(np.float64)))


def embed(model_dir, audio, out, *extra):
    subprocess.run([VOXENC, "embed", audio, "--model", model_dir, "-o", out, "--force", *extra], check=True,
                   capture_output=True)
    with open(out[:-4] + ".json") as f:
        return np.load(out), json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--text-width", type=int, default=160)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    d = args.width
    work = tempfile.mkdtemp(prefix="voxenc-check-")

    # Audio the fixtures never used: a 44.1 kHz stereo file of 40 s (two chunks) made with libsndfile.
    rate = 44100
    t = np.arange(rate * 40) / rate
    left = 0.2 * np.sin(2 * np.pi * (220 + 30 * t) * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.7 * t))
    right = 0.1 * np.sin(2 * np.pi * 1500 * t) + 0.05 * np.random.default_rng(args.seed).standard_normal(t.size)
    audio = os.path.join(work, "unseen-44k-stereo.wav")
    soundfile.write(audio, np.stack([left, right], axis=1).astype(np.float32), rate, subtype="PCM_24")
    samples = reference_samples(audio)
    duration = t.size / rate
    failures = 0

    # Voxtral, new shape and seed.
    cfg = VoxtralConfig(
        audio_config=dict(num_mel_bins=128, hidden_size=d, num_hidden_layers=args.layers,
                          num_attention_heads=args.heads, intermediate_size=4 * d, max_source_positions=1500),
        text_config=dict(vocab_size=64, hidden_size=args.text_width, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=64,
                         tie_word_embeddings=False),
        audio_token_id=24, projector_hidden_act="gelu")
    cfg.dtype = torch.bfloat16
    model = VoxtralForConditionalGeneration(cfg).float()
    model.config._attn_implementation = "eager"
    model.model.audio_tower.config._attn_implementation = "eager"
    pos = "model.audio_tower.embed_positions.weight"
    fx.init_realistic(model, gen, keep=(pos,))
    fx.bf16_round(model, skip=(pos,))
    with torch.no_grad():
        model.model.audio_tower.embed_positions.weight.copy_(sinusoids(1500, d))
    model.eval()
    hf_dir, mistral_dir = os.path.join(work, "voxtral-hf"), os.path.join(work, "voxtral-mistral")
    disk = fx.save_voxtral_hf(cfg, model, hf_dir)
    fx.save_voxtral_mistral(cfg, disk, mistral_dir)
    fe = WhisperFeatureExtractor(feature_size=128)
    with torch.no_grad():
        expected = model.get_audio_features(fx.mel_chunks(fe, samples), return_dict=True).pooler_output.numpy()
    for name, directory in (("HF bf16 sharded", hf_dir), ("Mistral", mistral_dir)):
        ours, meta = embed(directory, audio, os.path.join(work, f"out-{name[:2]}.npy"))
        err = relative_l2(ours, expected)
        ok = (ours.shape == expected.shape and err <= BOUND and meta["frame_rate_hz"] == 12.5
              and meta["rows_per_chunk"] == 375 and meta["valid_frame_count"] == math.ceil(duration * 12.5))
        failures += not ok
        print(f"voxtral {name}: shape {ours.shape} vs {expected.shape}, relative L2 {err:.2e}, sidecar "
              f"{meta['frame_rate_hz']} Hz, {meta['rows_per_chunk']} rows/chunk, {meta['valid_frame_count']} valid "
              f"→ {'ok' if ok else 'FAIL'}")

    # Whisper, encoder only.
    wcfg = WhisperConfig(vocab_size=100, num_mel_bins=80, d_model=d, encoder_layers=args.layers,
                         encoder_attention_heads=args.heads, encoder_ffn_dim=4 * d, decoder_layers=1,
                         decoder_attention_heads=2, decoder_ffn_dim=32, max_source_positions=1500,
                         max_target_positions=16, pad_token_id=0, bos_token_id=1, eos_token_id=2,
                         decoder_start_token_id=3, begin_suppress_tokens=None, suppress_tokens=None)
    whisper = WhisperForConditionalGeneration(wcfg).float()
    whisper.config._attn_implementation = "eager"
    fx.init_realistic(whisper, gen, keep=("model.encoder.embed_positions.weight",))
    with torch.no_grad():
        whisper.model.encoder.embed_positions.weight.copy_(sinusoids(1500, d))
    whisper.eval()
    wdir = os.path.join(work, "whisper-hf")
    whisper.save_pretrained(wdir)
    with torch.no_grad():
        wexpected = whisper.model.encoder(fx.mel_chunks(WhisperFeatureExtractor(feature_size=80), samples)) \
            .last_hidden_state.reshape(-1, d).numpy()
    ours, meta = embed(wdir, audio, os.path.join(work, "out-whisper.npy"), "--encoder-only")
    err = relative_l2(ours, wexpected)
    ok = ours.shape == wexpected.shape and err <= BOUND and meta["frame_rate_hz"] == 50
    failures += not ok
    print(f"whisper --encoder-only: shape {ours.shape}, relative L2 {err:.2e} → {'ok' if ok else 'FAIL'}")
    print(f"(work files in {work})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
