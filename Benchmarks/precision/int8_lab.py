"""int8 lab: the encoder in PyTorch float32 with simulated quantisation of its large GEMMs, to compare schemes on real
or random weights before building one (llm.c's dev/ "validate, then time"). Prints the relative L2 of each scheme's
encoder output to float32. The "asym (shipped)" row is voxenc's scheme (docs/precision.md): it matches
`voxenc embed --precision int8 --encoder-only` on the same audio to the third digit.

    python3 Weights/tools/ctranslate2_to_hf_whisper.py Weights/models/whisper-tiny.en /tmp/tiny-hf
    python3 Benchmarks/precision/int8_lab.py /tmp/tiny-hf Tests/Fixtures/audio/speech-16k.wav
    python3 Benchmarks/precision/int8_lab.py /tmp/voxtral-mini-random Tests/Fixtures/audio/speech-16k.wav --fast

A Hugging Face Whisper directory or a Voxtral one (make_random_voxtral.py); the first 30 s of the audio.
Schemes: QKV, out_proj, fc1, fc2 quantised (conv2 as im2col + GEMM only where said), weights symmetric per output
channel, 8-bit unless said:
  sym      activations per row, symmetric (zero point 128)
  asym     activations per row, asymmetric (min/max, zero point per row)      ← shipped
  ...      and variants: conv2 in int8 too, weights or activations left in float32, 7-bit weights (AVX2 without
           VNNI), the largest input columns kept in float32 (LLM.int8-style), per-group activation scales, LayerNorm γ
           folded into the weights, one GEMM kind quantised alone, 9 and 10-bit codes.
"""
import argparse

import numpy as np
import soundfile
import soxr
import torch
from transformers import VoxtralForConditionalGeneration, WhisperFeatureExtractor, WhisperModel

F = torch.nn.functional


def load(model_dir):
    if "voxtral" in open(model_dir + "/config.json").read().lower():
        return VoxtralForConditionalGeneration.from_pretrained(model_dir, dtype=torch.float32).model.audio_tower.eval()
    return WhisperModel.from_pretrained(model_dir, dtype=torch.float32).encoder.eval()


def mel_of(path, bins):
    x, rate = soundfile.read(path, dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    if rate != 16000:
        x = soxr.resample(x, rate, 16000, quality="HQ").astype(np.float32)
    return torch.tensor(WhisperFeatureExtractor(feature_size=bins)(x, sampling_rate=16000, return_tensors="np").input_features)


def rows_symmetric(a, levels=127):
    s = a.abs().amax(-1, keepdim=True) / levels
    s = torch.where(s > 0, s, torch.ones_like(s))
    return torch.round(a / s).clamp(-levels, levels) * s


def rows_asymmetric(a, levels=255):
    lo, hi = a.amin(-1, keepdim=True).clamp(max=0), a.amax(-1, keepdim=True).clamp(min=0)
    s = (hi - lo) / levels
    s = torch.where(s > 0, s, torch.ones_like(s))
    z = torch.round(-lo / s)
    return (torch.clamp(torch.round(a / s) + z, 0, levels) - z) * s


def channels_symmetric(w, levels=127):
    s = w.abs().amax(1, keepdim=True) / levels
    s = torch.where(s > 0, s, torch.ones_like(s))
    return torch.round(w / s) * s


def outliers_in_float(count, inner):
    def quantise(a):
        columns = a.abs().amax(0).topk(min(count, a.shape[-1])).indices
        kept = a.clone()
        kept[:, columns] = 0
        out = inner(kept)
        out[:, columns] = a[:, columns]
        return out
    return quantise


def groups(size, inner):
    return lambda a: torch.cat([inner(a[:, i:i + size]) for i in range(0, a.shape[-1], size)], -1)


GEMMS = {"qkv", "out", "fc1", "fc2"}  # what voxenc quantises; "conv2" can be added


def bf16(a):
    """Round to bfloat16 (8 significant bits, nearest even) and back: a bf16 GEMM with float32 accumulation."""
    return a.bfloat16().float()


def encode(m, mel, activations=None, weights=None, only=GEMMS, fold=False, layers=None, kept=None):
    """The encoder (= transformers WhisperEncoder / VoxtralEncoder, eager attention) with conv2 as im2col + GEMM.
    `layers`: the indices of the layers whose GEMMs are quantised (all when None); `kept`: {layer: kinds} left in
    float32 in those layers."""
    current = [None]

    def linear(kind, x, w, b):
        layer = current[0]
        if (kind in only and (layers is None or layer is None or layer in layers)
                and not (kept and kind in kept.get(layer, ()))):
            x = activations(x) if activations else x
            w = weights(w) if weights else w
        return F.linear(x, w, b)

    with torch.no_grad():
        h = F.gelu(m.conv1(mel))
        t = (h.shape[-1] - 1) // 2 + 1
        padded = F.pad(h, (1, 1))[0]
        columns = torch.stack([padded[:, 2 * i:2 * i + 3] for i in range(t)]).permute(0, 2, 1).reshape(t, -1)
        w2 = m.conv2.weight.permute(0, 2, 1).reshape(m.conv2.weight.shape[0], -1)
        h = F.gelu(linear("conv2", columns, w2, m.conv2.bias)) + m.embed_positions.weight[:t]
        for index, layer in enumerate(m.layers):
            current[0] = index
            a = layer.self_attn
            if fold:  # quantise the normalised x̂; γ folded into the weights, W·β into the bias
                g, b = layer.self_attn_layer_norm.weight, layer.self_attn_layer_norm.bias
                x = F.layer_norm(h, h.shape[-1:], eps=layer.self_attn_layer_norm.eps)
                q = linear("qkv", x, a.q_proj.weight * g, a.q_proj.bias + a.q_proj.weight @ b)
                k = linear("qkv", x, a.k_proj.weight * g, a.k_proj.weight @ b)
                v = linear("qkv", x, a.v_proj.weight * g, a.v_proj.bias + a.v_proj.weight @ b)
            else:
                x = layer.self_attn_layer_norm(h)
                q = linear("qkv", x, a.q_proj.weight, a.q_proj.bias)
                k = linear("qkv", x, a.k_proj.weight, None)
                v = linear("qkv", x, a.v_proj.weight, a.v_proj.bias)
            heads = a.num_heads
            dh = q.shape[-1] // heads
            q, k, v = (y.view(t, heads, dh).transpose(0, 1) for y in (q * dh ** -0.5, k, v))
            o = (torch.softmax(q @ k.transpose(1, 2), -1) @ v).transpose(0, 1).reshape(t, -1)
            h = h + linear("out", o, a.out_proj.weight, a.out_proj.bias)
            if fold:
                g, b = layer.final_layer_norm.weight, layer.final_layer_norm.bias
                x = F.layer_norm(h, h.shape[-1:], eps=layer.final_layer_norm.eps)
                f = linear("fc1", x, layer.fc1.weight * g, layer.fc1.bias + layer.fc1.weight @ b)
            else:
                f = linear("fc1", layer.final_layer_norm(h), layer.fc1.weight, layer.fc1.bias)
            h = h + linear("fc2", F.gelu(f), layer.fc2.weight, layer.fc2.bias)
        return m.layer_norm(h)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("audio")
    ap.add_argument("--fast", action="store_true", help="only the main schemes (for 32-layer models)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", help="run only the schemes whose names contain one of these comma-separated words")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    m = load(args.model)
    mel = mel_of(args.audio, m.config.num_mel_bins)
    reference = encode(m, mel)
    with torch.no_grad():
        official = m(mel).last_hidden_state[0]
    print(f"lab float32 vs transformers: relative L2 {float((reference - official).norm() / official.norm()):.1e}")
    schemes = {
        "sym": dict(activations=rows_symmetric, weights=channels_symmetric),
        "asym (shipped)": dict(activations=rows_asymmetric, weights=channels_symmetric),
        "asym, weights float32": dict(activations=rows_asymmetric),
        "weights only (activations float32)": dict(weights=channels_symmetric),
        "asym, 7-bit weights (AVX2)": dict(activations=rows_asymmetric, weights=lambda w: channels_symmetric(w, 63)),
        "asym, qkv in float32": dict(activations=rows_asymmetric, weights=channels_symmetric, only=GEMMS - {"qkv"}),
        "asym, conv2 in int8 too": dict(activations=rows_asymmetric, weights=channels_symmetric, only=GEMMS | {"conv2"}),
        "asym, 9-bit codes (W9A9)": dict(activations=lambda a: rows_asymmetric(a, 511),
                                         weights=lambda w: channels_symmetric(w, 255)),
        "asym, 10-bit codes (W10A10)": dict(activations=lambda a: rows_asymmetric(a, 1023),
                                            weights=lambda w: channels_symmetric(w, 511)),
    }
    n = len(m.layers)
    asym = dict(activations=rows_asymmetric, weights=channels_symmetric)
    schemes.update({
        "bf16 operands, float32 accumulation": dict(activations=bf16, weights=bf16),
        "asym, first layer float32": dict(asym, layers=set(range(1, n))),
        "asym, first 2 layers float32": dict(asym, layers=set(range(2, n))),
        "asym, first 4 layers float32": dict(asym, layers=set(range(4, n))),
        "asym, first layer's qkv float32": dict(asym, kept={0: {"qkv"}}),
        "asym, first layer's out, fc1, fc2 float32": dict(asym, kept={0: {"out", "fc1", "fc2"}}),
        "asym, first 8 layers float32": dict(asym, layers=set(range(8, n))),
        "asym, last 8 layers float32": dict(asym, layers=set(range(n - 8))),
        "asym, first layer alone": dict(asym, layers={0}),
        "asym, middle layer alone": dict(asym, layers={n // 2}),
        "asym, last layer alone": dict(asym, layers={n - 1}),
    })
    if not args.fast:
        schemes.update({
            "asym, 7-bit activations": dict(activations=lambda a: rows_asymmetric(a, 127), weights=channels_symmetric),
            "asym, 8 largest columns in float32": dict(activations=outliers_in_float(8, rows_asymmetric),
                                                        weights=channels_symmetric),
            "sym, groups of 128 along k": dict(activations=groups(128, rows_symmetric), weights=channels_symmetric),
            "asym, LayerNorm γ folded": dict(activations=rows_asymmetric, weights=channels_symmetric, fold=True),
        })
        for kind in sorted(GEMMS | {"conv2"}):
            schemes[f"asym, {kind} alone"] = dict(activations=rows_asymmetric, weights=channels_symmetric, only={kind})
    if args.only:
        words = args.only.split(",")
        schemes = {name: scheme for name, scheme in schemes.items() if any(w in name for w in words)}
    for name, scheme in schemes.items():
        out = encode(m, mel, **scheme)
        print(f"{name:40s} relative L2 {float((out - reference).norm() / reference.norm()):.4f}", flush=True)


if __name__ == "__main__":
    main()
