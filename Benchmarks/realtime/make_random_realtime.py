"""A random Voxtral-Realtime-shaped checkpoint on disk (Hugging Face layout, one model.safetensors, bf16 by default),
for timing transformers' Voxtral Realtime encoder + adapter (run_pytorch.py) and `voxenc embed` on a model of the
real size without the real weights.

The audio tower and adapter have the real shapes of Voxtral-Mini-4B-Realtime-2602 (REALTIME.md §2): 32 layers, d 1280,
32 heads × 64 (attention width 2048), SwiGLU 5120, causal conv stem, RoPE θ 1e6, sliding window 750, RMSNorm eps 1e-5,
128 mels, adapter 4×1280 → 3072 → 3072. The text model is a one-layer toy whose only real number is its width 3072
(the adapter's output width); it exists so that VoxtralRealtimeForConditionalGeneration.from_pretrained loads the
folder. Weights have realistic scales, as Weights/tools/make_realtime_fixtures.py draws them: N(0, 1/fan_in), q/k ×2.5,
RMSNorm weights 1 + 0.1 N, biases 0.1 N, drawn in float32 in sorted name order from one seeded generator and rounded
to the written dtype. The model is built on the meta device and materialised directly in the written dtype, so the
32-layer bf16 model needs ≈2 GB for the tensors and ≈2 GB more while safetensors serialises them (≈4.5 GB peak RSS).

    python3 Benchmarks/realtime/make_random_realtime.py --out /tmp/voxtral-realtime-random [--layers 32]
        [--dtype bf16|f32] [--seed 11] [--no-check] [--size-only]

--size-only prints the parameter count and file size of that configuration without drawing or writing anything.
Unless --no-check, the folder is loaded back with from_pretrained (no missing, unexpected or mismatched keys; every
tensor equal to the one written).
"""
import argparse
import math
import os
import sys
import resource
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Weights", "tools"))
import realistic_weights  # noqa: E402
from transformers import VoxtralRealtimeConfig, VoxtralRealtimeFeatureExtractor, VoxtralRealtimeForConditionalGeneration

D, LAYERS, HEADS, HEAD_DIM, FFN, MELS, TEXT, WINDOW, THETA = 1280, 32, 32, 64, 5120, 128, 3072, 750, 1e6
DTYPES = {"bf16": torch.bfloat16, "f32": torch.float32}


def config(layers=LAYERS):
    cfg = VoxtralRealtimeConfig(
        audio_config=dict(num_mel_bins=MELS, hidden_size=D, intermediate_size=FFN, num_hidden_layers=layers,
                          num_attention_heads=HEADS, head_dim=HEAD_DIM, sliding_window=WINDOW,
                          rope_parameters={"rope_type": "default", "rope_theta": THETA}, rms_norm_eps=1e-5),
        text_config=dict(vocab_size=64, hidden_size=TEXT, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=16, rope_theta=THETA,
                         rms_norm_eps=1e-5, sliding_window=8192, max_position_embeddings=131072),
        downsample_factor=4, projector_hidden_act="gelu")
    cfg.architectures = ["VoxtralRealtimeForConditionalGeneration"]
    return cfg


def meta_model(cfg, dtype):
    with torch.device("meta"):
        return VoxtralRealtimeForConditionalGeneration(cfg).to(dtype)


def stored_sizes(model, dtype):
    """(parameters written, bytes of tensor data written): the tied lm_head is not stored."""
    names = dict(model.named_parameters())  # shared parameters are listed once
    n = sum(p.numel() for p in names.values())
    audio = sum(p.numel() for k, p in names.items() if k.startswith(("model.audio_tower.",
                                                                     "model.multi_modal_projector.")))
    return n, audio, n * torch.finfo(dtype).bits // 8


def init_realistic(model, gen):
    """Every parameter drawn in float32 with O(1)-activation scales (realistic_weights.py), rounded to the model's dtype."""
    realistic_weights.fill(model, gen)


def rebuild_buffers(model, cfg):
    """The non-persistent buffers (RoPE and time-embedding frequencies, never written) as a fresh float32 model has
    them: to_empty() leaves them uninitialised. Taken from a tiny model of the same config family."""
    ref = dict(VoxtralRealtimeForConditionalGeneration(config(1)).named_buffers())
    for name, buf in model.named_buffers():
        module_name, _, attr = name.rpartition(".")
        module = model.get_submodule(module_name)
        setattr(module, attr, ref[name].clone())


def make(directory, seed=11, layers=LAYERS, dtype="bf16", check=True):
    torch_dtype = DTYPES[dtype]
    start = time.perf_counter()
    cfg = config(layers)
    cfg.dtype = torch_dtype
    model = meta_model(cfg, torch_dtype)
    model.to_empty(device="cpu")
    model.tie_weights()
    assert model.lm_head.weight is model.model.language_model.embed_tokens.weight
    rebuild_buffers(model, cfg)
    init_realistic(model, torch.Generator().manual_seed(seed))
    model.eval()
    os.makedirs(directory, exist_ok=True)
    model.save_pretrained(directory)  # one model.safetensors (max_shard_size 50GB); transformers' on-disk names
    VoxtralRealtimeFeatureExtractor().save_pretrained(directory)
    drawn = time.perf_counter() - start
    path = os.path.join(directory, "model.safetensors")
    assert os.path.exists(path), os.listdir(directory)
    if check:
        loaded, info = VoxtralRealtimeForConditionalGeneration.from_pretrained(
            directory, dtype=torch_dtype, output_loading_info=True)
        bad = {k: v for k, v in info.items() if v}
        assert not bad, bad
        mine = model.state_dict()
        for k, v in loaded.state_dict().items():
            assert v.dtype == torch_dtype and torch.equal(v, mine[k]), k
        a = loaded.config.audio_config
        assert (a.num_hidden_layers, a.hidden_size, a.head_dim, a.sliding_window, a.rope_parameters["rope_theta"]) \
            == (layers, D, HEAD_DIM, WINDOW, THETA)
        del loaded
    return directory, os.path.getsize(path), time.perf_counter() - start, drawn


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="the folder to write")
    ap.add_argument("--layers", type=int, default=LAYERS)
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="bf16")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--no-check", action="store_true", help="do not load the folder back with from_pretrained")
    ap.add_argument("--size-only", action="store_true", help="print the sizes; draw and write nothing")
    args = ap.parse_args()
    n, audio, size = stored_sizes(meta_model(config(args.layers), DTYPES[args.dtype]), DTYPES[args.dtype])
    print(f"{args.layers} layers, {args.dtype}: {n / 1e6:.1f} M parameters written ({audio / 1e6:.1f} M audio tower + "
          f"adapter), {size / 1e9:.3f} GB of tensor data")
    if not args.size_only:
        directory, written, seconds, drawn = make(args.out, args.seed, args.layers, args.dtype, not args.no_check)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        print(f"{directory}: random Voxtral-Realtime-shaped checkpoint, model.safetensors {written / 1e9:.3f} GB, "
              f"seed {args.seed}; drawn and written in {drawn:.1f} s, {seconds:.1f} s with the check; "
              f"peak RSS {rss:.2f} GB")
