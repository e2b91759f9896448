"""A random Voxtral-Mini-shaped checkpoint on disk (Hugging Face layout, bf16, sharded; a one-layer toy text model),
for timing the whole `voxenc embed` process and measuring int8 against float32 on real speech.
Weights have realistic scales (make_encoder_fixtures.init_realistic: N(0, 1/fan_in), q/k ×2.5, norms 1 + 0.1 N,
biases 0.1 N), so activations are O(1) and attention is far from uniform.

    python3 Benchmarks/peers/make_random_voxtral.py /tmp/voxtral-mini-random [--seed 11] [--layers 32]
"""
import argparse
import os
import sys

import torch
from transformers import VoxtralConfig, VoxtralForConditionalGeneration
from transformers.models.whisper.modeling_whisper import sinusoids

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "Weights", "tools"))
import make_encoder_fixtures as fx  # noqa: E402

D, LAYERS, HEADS, FFN, MELS, TEXT = 1280, 32, 20, 5120, 128, 3072


def make(directory, seed=11, layers=LAYERS):
    gen = torch.Generator().manual_seed(seed)
    cfg = VoxtralConfig(
        audio_config=dict(num_mel_bins=MELS, hidden_size=D, num_hidden_layers=layers, num_attention_heads=HEADS,
                          intermediate_size=FFN, max_source_positions=1500),
        text_config=dict(vocab_size=64, hidden_size=TEXT, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=64,
                         tie_word_embeddings=False),
        audio_token_id=24, projector_hidden_act="gelu")
    cfg.dtype = torch.bfloat16
    cfg.architectures = ["VoxtralForConditionalGeneration"]
    model = VoxtralForConditionalGeneration(cfg).float()
    pos = "model.audio_tower.embed_positions.weight"
    fx.init_realistic(model, gen, keep=(pos,))
    fx.bf16_round(model, skip=(pos,))
    with torch.no_grad():
        model.model.audio_tower.embed_positions.weight.copy_(sinusoids(1500, D))
    fx.save_voxtral_hf(cfg, model, directory)
    return directory


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("directory")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--layers", type=int, default=LAYERS)
    args = ap.parse_args()
    make(args.directory, args.seed, args.layers)
    print(f"{args.directory}: random Voxtral-Mini-shaped checkpoint ({args.layers} layers), seed {args.seed}")
