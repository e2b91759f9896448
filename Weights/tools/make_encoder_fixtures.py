#!/usr/bin/env python3
"""Generate the small, seeded reference fixtures for the voxenc encoder tests.

Run from the repository root:

    python3 Weights/tools/make_encoder_fixtures.py

Writes (and first deletes) everything under Tests/Fixtures/encoder/:

  voxtral-tiny-hf/        random tiny Voxtral in the Hugging Face on-disk layout (bf16, 2 shards + index,
                          audio_tower.embed_positions.weight kept in F32, config.json saved by transformers)
  voxtral-tiny-mistral/   the same weights in the Mistral-native layout (params.json + consolidated.safetensors)
  whisper-tiny-hf/        random tiny Whisper (f32 model.safetensors + config.json, saved by save_pretrained)
  reference-voxtral-{in1s,in30s,in75s}.safetensors, reference-whisper.safetensors   float32 reference activations
  README.md

All reference computation is float32 on CPU, attn_implementation="eager", model.eval(), single thread.
The Voxtral reference model runs on exactly the bf16-rounded weights (upcast to f32) that are written to disk;
the positional table is the float32 `sinusoids(1500, 64)` of transformers' Whisper code, stored as F32.

Test signals (16 kHz mono). Everything is computed in float64 (Python floats) and cast to float32 at the end:

  LCG(seed): state s = seed; for every sample, first s = (1103515245*s + 12345) % 2**31, then u = s / 2**31 - 0.5
  speech_like(count, seed), for n = 0 .. count-1:
      e   = u_n                                   (the n-th LCG output)
      y   = e + 1.3*y1 - 0.6*y2                   (y1 = y[n-1], y2 = y[n-2], both 0 before n = 0)
      env = 1 - abs(((n % 4000) - 2000) / 2000)
      x[n] = float32(0.1 * env * y)               (evaluated left to right)
  in1s  = speech_like(16000,   seed 11)
  in30s = speech_like(480000,  seed 22)
  in75s = speech_like(1200000, seed 33)

  X.audio_head = the first 8 float32 samples; X.audio_sum = math.fsum of the float32 samples (exact, in float64),
  rounded to float32, stored as a [1] tensor.

Mel input: WhisperFeatureExtractor(feature_size=128 (Voxtral) / 80 (Whisper)) called exactly as VoxtralProcessor
calls it: fe(audio, sampling_rate=16000, padding=True, truncation=False, pad_to_multiple_of=480000,
return_tensors="pt"), then input_features.reshape(n_mels, -1, 3000).transpose(0, 1) -> [N, n_mels, 3000].
"""

import json
import math
import os
import shutil
import sys

import numpy as np
import soundfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import signals  # noqa: E402
import torch
import realistic_weights  # noqa: E402
import safetensors
import transformers
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from transformers import (
    VoxtralConfig,
    VoxtralForConditionalGeneration,
    WhisperConfig,
    WhisperFeatureExtractor,
    WhisperForConditionalGeneration,
)
from transformers.models.whisper.modeling_whisper import sinusoids

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(REPO, "Tests", "Fixtures", "encoder")
SEED = 20250101
QK_GAIN = realistic_weights.QK_GAIN  # extra gain on q_proj/k_proj weights: attention clearly not uniform

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


# ---------------------------------------------------------------------------------------------------------------
# signals
# ---------------------------------------------------------------------------------------------------------------
speech_like = signals.speech_like  # the shared definition (Weights/tools/signals.py)


SIGNALS = [("in1s", 16000, 11), ("in30s", 480000, 22), ("in75s", 1200000, 33)]


def mel_chunks(fe, audio):
    feats = fe(
        audio,
        sampling_rate=16000,
        padding=True,
        truncation=False,
        pad_to_multiple_of=480000,
        return_tensors="pt",
    )["input_features"]
    return feats.reshape(fe.feature_size, -1, 3000).transpose(0, 1).contiguous().float()


# ---------------------------------------------------------------------------------------------------------------
# weights
# ---------------------------------------------------------------------------------------------------------------
def init_realistic(model, gen, keep=()):
    """Draw every parameter with O(1)-activation scales (in sorted name order, for determinism): realistic_weights.py."""
    realistic_weights.fill(model, gen, keep=keep)


def bf16_round(model, skip=()):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name not in skip:
                p.copy_(p.to(torch.bfloat16).to(torch.float32))


def hf_disk_name(module_name):
    """transformers v5 module name -> name in the real HF Voxtral checkpoint files."""
    for src, dst in (
        ("model.audio_tower.", "audio_tower."),
        ("model.multi_modal_projector.", "multi_modal_projector."),
        ("model.language_model.", "language_model.model."),
        ("lm_head.", "language_model.lm_head."),
    ):
        if module_name.startswith(src):
            return dst + module_name[len(src):]
    raise KeyError(module_name)


def inv_rope_permute(w, n_heads):
    """Inverse of the llama/mistral->HF `permute` (interleaved RoPE pairs -> half split)."""
    d1, d2 = w.shape
    return w.view(n_heads, 2, d1 // n_heads // 2, d2).transpose(1, 2).reshape(d1, d2)


def rope_permute(w, n_heads):
    d1, d2 = w.shape
    return w.view(n_heads, d1 // n_heads // 2, 2, d2).transpose(1, 2).reshape(d1, d2)


def mistral_name(disk_name):
    """HF on-disk name -> Mistral-native consolidated.safetensors name (SPEC 4.2)."""
    a = "mm_whisper_embeddings.whisper_encoder."
    if disk_name.startswith("audio_tower."):
        n = disk_name[len("audio_tower."):]
        if n.startswith("conv1."):
            return a + "conv_layers.0." + n[len("conv1."):]
        if n.startswith("conv2."):
            return a + "conv_layers.1." + n[len("conv2."):]
        if n.startswith("layer_norm."):
            return a + "transformer.norm." + n[len("layer_norm."):]
        if n.startswith("layers."):
            _, i, rest = n.split(".", 2)
            sub = {
                "self_attn.q_proj": "attention.wq",
                "self_attn.k_proj": "attention.wk",
                "self_attn.v_proj": "attention.wv",
                "self_attn.out_proj": "attention.wo",
                "self_attn_layer_norm": "attention_norm",
                "fc1": "feed_forward.w1",
                "fc2": "feed_forward.w2",
                "final_layer_norm": "ffn_norm",
            }
            mod, leaf = rest.rsplit(".", 1)
            return f"{a}transformer.layers.{i}.{sub[mod]}.{leaf}"
        raise KeyError(disk_name)
    if disk_name == "multi_modal_projector.linear_1.weight":
        return "mm_whisper_embeddings.audio_language_projection.0.weight"
    if disk_name == "multi_modal_projector.linear_2.weight":
        return "mm_whisper_embeddings.audio_language_projection.2.weight"
    if disk_name == "language_model.model.embed_tokens.weight":
        return "mm_whisper_embeddings.tok_embeddings.weight"
    if disk_name == "language_model.lm_head.weight":
        return "output.weight"
    if disk_name == "language_model.model.norm.weight":
        return "norm.weight"
    if disk_name.startswith("language_model.model.layers."):
        _, _, _, i, rest = disk_name.split(".", 4)
        sub = {
            "self_attn.q_proj.weight": "attention.wq.weight",
            "self_attn.k_proj.weight": "attention.wk.weight",
            "self_attn.v_proj.weight": "attention.wv.weight",
            "self_attn.o_proj.weight": "attention.wo.weight",
            "input_layernorm.weight": "attention_norm.weight",
            "post_attention_layernorm.weight": "ffn_norm.weight",
            "mlp.gate_proj.weight": "feed_forward.w1.weight",
            "mlp.down_proj.weight": "feed_forward.w2.weight",
            "mlp.up_proj.weight": "feed_forward.w3.weight",
        }
        return f"layers.{i}.{sub[rest]}"
    raise KeyError(disk_name)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def maxdiff(a, b):
    return (a.float() - b.float()).abs().max().item()


# ---------------------------------------------------------------------------------------------------------------
# Voxtral
# ---------------------------------------------------------------------------------------------------------------
def voxtral_config():
    cfg = VoxtralConfig(
        audio_config=dict(
            num_mel_bins=128,
            hidden_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=256,
            max_source_positions=1500,
        ),
        text_config=dict(
            vocab_size=64,
            hidden_size=96,
            intermediate_size=192,
            num_hidden_layers=1,
            num_attention_heads=4,
            num_key_value_heads=2,
            head_dim=24,
            max_position_embeddings=256,
            tie_word_embeddings=False,
        ),
        audio_token_id=24,
        projector_hidden_act="gelu",
    )
    cfg.dtype = torch.bfloat16
    cfg.architectures = ["VoxtralForConditionalGeneration"]
    return cfg


def build_voxtral(gen):
    cfg = voxtral_config()
    model = VoxtralForConditionalGeneration(cfg).float()
    model.config._attn_implementation = "eager"
    model.model.audio_tower.config._attn_implementation = "eager"
    pos_name = "model.audio_tower.embed_positions.weight"
    init_realistic(model, gen, keep=(pos_name,))
    bf16_round(model, skip=(pos_name,))
    table = sinusoids(1500, 64)
    assert table.dtype == torch.float32
    with torch.no_grad():
        model.model.audio_tower.embed_positions.weight.copy_(table)
    model.eval()
    return cfg, model


def save_voxtral_hf(cfg, model, d):
    os.makedirs(d)
    cfg.save_pretrained(d)
    WhisperFeatureExtractor(feature_size=128).save_pretrained(d)
    sd = model.state_dict()
    disk = {}
    for k, v in sd.items():
        name = hf_disk_name(k)
        if name == "audio_tower.embed_positions.weight":
            disk[name] = v.detach().to(torch.float32).contiguous()
        else:
            disk[name] = v.detach().to(torch.bfloat16).contiguous()
    # Cross-check our names against what transformers' own save_pretrained writes (it reverses the v5 renames).
    tmp = d + ".tmp_save_pretrained"
    model.save_pretrained(tmp)
    tp_names = set()
    for f in os.listdir(tmp):
        if f.endswith(".safetensors"):
            with safe_open(os.path.join(tmp, f), "pt") as s:
                tp_names |= set(s.keys())
    shutil.rmtree(tmp)
    assert tp_names == set(disk), sorted(tp_names ^ set(disk))
    shards = [
        ("model-00001-of-00002.safetensors", sorted(k for k in disk if k.startswith("audio_tower."))),
        ("model-00002-of-00002.safetensors", sorted(k for k in disk if not k.startswith("audio_tower."))),
    ]
    weight_map = {}
    total_size = 0
    for fname, keys in shards:
        save_file({k: disk[k] for k in keys}, os.path.join(d, fname), metadata={"format": "pt"})
        for k in keys:
            weight_map[k] = fname
            total_size += disk[k].numel() * disk[k].element_size()
    write_json(
        os.path.join(d, "model.safetensors.index.json"),
        {
            "metadata": {"total_parameters": sum(t.numel() for t in disk.values()), "total_size": total_size},
            "weight_map": dict(sorted(weight_map.items())),
        },
    )
    return disk


def save_voxtral_mistral(cfg, disk, d):
    os.makedirs(d)
    a = cfg.audio_config
    t = cfg.text_config
    params = {
        "dim": t.hidden_size,
        "n_layers": t.num_hidden_layers,
        "head_dim": t.head_dim,
        "hidden_dim": t.intermediate_size,
        "n_heads": t.num_attention_heads,
        "n_kv_heads": t.num_key_value_heads,
        "rope_theta": t.rope_parameters["rope_theta"],
        "norm_eps": t.rms_norm_eps,
        "vocab_size": t.vocab_size,
        "max_seq_len": t.max_position_embeddings,
        "multimodal": {
            "whisper_model_args": {
                "encoder_args": {
                    "audio_encoding_args": {
                        "sampling_rate": 16000,
                        "num_mel_bins": a.num_mel_bins,
                        "hop_length": 160,
                        "window_size": 400,
                    },
                    "dim": a.hidden_size,
                    "n_layers": a.num_hidden_layers,
                    "head_dim": a.hidden_size // a.num_attention_heads,
                    "hidden_dim": a.intermediate_size,
                    "n_heads": a.num_attention_heads,
                    "vocab_size": a.vocab_size,
                    "max_source_positions": a.max_source_positions,
                },
                "downsample_args": {"downsample_factor": 4},
            }
        },
    }
    write_json(os.path.join(d, "params.json"), params)
    out = {}
    for k, v in disk.items():
        if k == "audio_tower.embed_positions.weight":
            continue  # the Mistral format has no positional tensor
        w = v
        if k.endswith("self_attn.q_proj.weight") and k.startswith("language_model."):
            w = inv_rope_permute(v, t.num_attention_heads)
            assert torch.equal(rope_permute(w, t.num_attention_heads), v)
        elif k.endswith("self_attn.k_proj.weight") and k.startswith("language_model."):
            w = inv_rope_permute(v, t.num_key_value_heads)
            assert torch.equal(rope_permute(w, t.num_key_value_heads), v)
        out[mistral_name(k)] = w.contiguous()
    assert len(out) == len(disk) - 1
    save_file(out, os.path.join(d, "consolidated.safetensors"), metadata={"format": "pt"})
    return out


class Recorder:
    def __init__(self, tower):
        self.d = {}
        self.h = [tower.layers[0].register_forward_pre_hook(self._pre)]
        for i, layer in enumerate(tower.layers):
            self.h.append(layer.register_forward_hook(self._post(i)))

    def _pre(self, mod, args):
        self.d["conv"] = args[0].detach().clone()

    def _post(self, i):
        def f(mod, args, out):
            o = out[0] if isinstance(out, tuple) else out
            self.d[f"layer{i}"] = o.detach().clone()

        return f

    def remove(self):
        for h in self.h:
            h.remove()


# ---------------------------------------------------------------------------------------------------------------
# Whisper
# ---------------------------------------------------------------------------------------------------------------
def build_whisper(gen):
    cfg = WhisperConfig(
        vocab_size=100,
        num_mel_bins=80,
        d_model=64,
        encoder_layers=2,
        encoder_attention_heads=4,
        encoder_ffn_dim=256,
        decoder_layers=1,
        decoder_attention_heads=4,
        decoder_ffn_dim=64,
        max_source_positions=1500,
        max_target_positions=16,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        decoder_start_token_id=3,
        begin_suppress_tokens=None,
        suppress_tokens=None,
    )
    model = WhisperForConditionalGeneration(cfg).float()
    model.config._attn_implementation = "eager"
    pos_name = "model.encoder.embed_positions.weight"
    init_realistic(model, gen, keep=(pos_name,))
    with torch.no_grad():
        model.model.encoder.embed_positions.weight.copy_(sinusoids(1500, 64))
    model.eval()
    return cfg, model


# ---------------------------------------------------------------------------------------------------------------
def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)

    # ---- signals
    audio = {}
    for name, count, seed in SIGNALS:
        audio[name] = speech_like(count, seed)
        print(f"{name}: {count} samples, head {audio[name][:3]}, fsum {math.fsum(audio[name].astype(np.float64)):.9g}")

    # ---- Voxtral model + files
    vcfg, vox = build_voxtral(gen)
    vdisk = save_voxtral_hf(vcfg, vox, os.path.join(OUT, "voxtral-tiny-hf"))
    save_voxtral_mistral(vcfg, vdisk, os.path.join(OUT, "voxtral-tiny-mistral"))
    tower = vox.model.audio_tower

    fe128 = WhisperFeatureExtractor(feature_size=128)
    ref = {}
    with torch.no_grad():
        for name, _, _ in SIGNALS:
            x = audio[name]
            ref[f"{name}.audio_head"] = torch.from_numpy(x[:8].copy())
            ref[f"{name}.audio_sum"] = torch.tensor([math.fsum(x.astype(np.float64))], dtype=torch.float32)
            mel = mel_chunks(fe128, x)
            rec = Recorder(tower)
            enc_out = tower(mel, output_hidden_states=True, output_attentions=(name == "in1s"), return_dict=True)
            rec.remove()
            enc = enc_out.last_hidden_state
            adapter = vox.get_audio_features(mel, return_dict=True).pooler_output
            n = mel.shape[0]
            assert enc.shape == (n, 1500, 64) and adapter.shape == (375 * n, 96)
            hs = enc_out.hidden_states
            print(
                f"{name}: N={n}  hidden_states: len {len(hs)}; [0]==conv {maxdiff(hs[0], rec.d['conv'])}; "
                f"[1]==layer0 {maxdiff(hs[1], rec.d['layer0'])}; [2] vs layer1(raw) {maxdiff(hs[2], rec.d['layer1']):.3g}; "
                f"[2]==encoder(post layer_norm) {maxdiff(hs[2], enc)}"
            )
            for st in ("conv", "layer0", "layer1"):
                print(f"   {st}: std {rec.d[st].std().item():.3f} absmax {rec.d[st].abs().max().item():.3f}")
            print(f"   encoder std {enc.std().item():.3f}; adapter std {adapter.std().item():.3f}; "
                  f"mel range [{mel.min().item():.3f}, {mel.max().item():.3f}]")
            if name == "in1s":
                for li, att in enumerate(enc_out.attentions):
                    rowmax = att.max(dim=-1).values
                    print(f"   attention layer {li}: max prob {att.max().item():.4f}, "
                          f"mean row-max {rowmax.mean().item():.4f}, median row-max {rowmax.median().item():.4f} "
                          f"(uniform = {1/1500:.5f})")
                ref["in1s.mel"] = mel.clone()
                for st in ("conv", "layer0", "layer1"):
                    ref[f"in1s.{st}"] = rec.d[st]
            ref[f"{name}.encoder"] = enc.clone()
            ref[f"{name}.adapter"] = adapter.clone()
    # The committed espeak-ng speech sample through the reference front end (soundfile float32 → WhisperFeatureExtractor):
    # the CLI tests run `voxenc embed` on the file itself.
    speech, speech_rate = soundfile.read(os.path.join(REPO, "Tests", "Fixtures", "audio", "speech-16k.wav"),
                                         dtype="float32")
    assert speech_rate == 16000 and speech.ndim == 1
    with torch.no_grad():
        speech_ref = {"speech.adapter": vox.get_audio_features(mel_chunks(fe128, speech), return_dict=True)
                      .pooler_output.to(torch.float32).contiguous()}
    save_file(speech_ref, os.path.join(OUT, "reference-voxtral-speech.safetensors"), metadata={"format": "pt"})
    ref = {k: v.to(torch.float32).contiguous() for k, v in sorted(ref.items())}
    # One file per input keeps each file small; the 75 s encoder output is checked through its adapter output.
    for name, _, _ in SIGNALS:
        part = {k: v for k, v in ref.items() if k.startswith(name + ".") and k != "in75s.encoder"}
        save_file(part, os.path.join(OUT, f"reference-voxtral-{name}.safetensors"), metadata={"format": "pt"})

    # ---- Whisper
    wcfg, wh = build_whisper(gen)
    wdir = os.path.join(OUT, "whisper-tiny-hf")
    wh.save_pretrained(wdir)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(wdir)
    with safe_open(os.path.join(wdir, "model.safetensors"), "pt") as s:
        wkeys = sorted(s.keys())
        wdtypes = {s.get_slice(k).get_dtype() for k in wkeys}
    assert all(k.startswith(("model.encoder.", "model.decoder.")) for k in wkeys), wkeys
    assert wdtypes == {"F32"}, wdtypes
    print(f"whisper-tiny-hf: {len(wkeys)} tensors, dtypes {wdtypes}, proj_out saved: {any('proj_out' in k for k in wkeys)}")
    fe80 = WhisperFeatureExtractor(feature_size=80)
    wref = {}
    with torch.no_grad():
        for name in ("in1s", "in30s"):
            mel = mel_chunks(fe80, audio[name])
            out = wh.model.encoder(mel, output_attentions=(name == "in1s"), return_dict=True)
            if name == "in1s":
                wref["in1s.mel"] = mel.clone()
                print(f"   whisper attention max prob {max(a.max().item() for a in out.attentions):.4f}")
            wref[f"{name}.encoder"] = out.last_hidden_state.clone()
            print(f"whisper {name}: mel {tuple(mel.shape)} encoder std {out.last_hidden_state.std().item():.3f}")
    wref = {k: v.to(torch.float32).contiguous() for k, v in sorted(wref.items())}
    save_file(wref, os.path.join(OUT, "reference-whisper.safetensors"), metadata={"format": "pt"})

    write_readme()

    # ---- self-checks: reload from disk with transformers
    print("self-check:")
    d = os.path.join(OUT, "voxtral-tiny-hf")
    re_vox, info = VoxtralForConditionalGeneration.from_pretrained(
        d, dtype=torch.float32, attn_implementation="eager", output_loading_info=True
    )
    re_vox.eval()
    print(f"   voxtral-tiny-hf loading info: { {k: v for k, v in info.items() if v} or 'clean' }")
    with torch.no_grad():
        a = re_vox.get_audio_features(ref["in1s.mel"], return_dict=True).pooler_output
    print(f"   reload voxtral-tiny-hf -> in1s.adapter max abs diff {maxdiff(a, ref['in1s.adapter']):.3g}")
    assert maxdiff(a, ref["in1s.adapter"]) < 1e-5
    mis = load_file(os.path.join(OUT, "voxtral-tiny-mistral", "consolidated.safetensors"))
    hf_back = {}
    for f in ("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"):
        hf_back.update(load_file(os.path.join(d, f)))
    n_audio = 0
    for k, v in hf_back.items():
        if k == "audio_tower.embed_positions.weight":
            assert v.dtype == torch.float32 and torch.equal(v, sinusoids(1500, 64))
            continue
        if k.startswith(("audio_tower.", "multi_modal_projector.")):
            assert torch.equal(mis[mistral_name(k)], v), k
            n_audio += 1
    print(f"   mistral layout: {n_audio} audio/adapter tensors bit-identical to the HF shards; "
          f"embed_positions F32 == sinusoids(1500, 64)")
    re_wh = WhisperForConditionalGeneration.from_pretrained(wdir, dtype=torch.float32, attn_implementation="eager")
    re_wh.eval()
    with torch.no_grad():
        e = re_wh.model.encoder(wref["in1s.mel"], return_dict=True).last_hidden_state
    print(f"   reload whisper-tiny-hf -> in1s.encoder max abs diff {maxdiff(e, wref['in1s.encoder']):.3g}")
    assert maxdiff(e, wref["in1s.encoder"]) < 1e-5

    # ---- listing
    print("files:")
    total = 0
    for root, _, files in sorted(os.walk(OUT)):
        for f in sorted(files):
            p = os.path.join(root, f)
            sz = os.path.getsize(p)
            total += sz
            print(f"   {os.path.relpath(p, OUT):60s} {sz:>10d}")
    for fname in [f"reference-voxtral-{n}.safetensors" for n, _, _ in SIGNALS] + ["reference-whisper.safetensors"]:
        print(f"{fname}:")
        with safe_open(os.path.join(OUT, fname), "pt") as s:
            for k in s.keys():
                print(f"   {k:20s} {s.get_slice(k).get_dtype()} {s.get_slice(k).get_shape()}")
    print(f"total {total} bytes ({total / 2**20:.2f} MiB)")


README = """# Encoder fixtures

Generated by `Weights/tools/make_encoder_fixtures.py` (seeded, deterministic). Regenerate from the repository root:

    python3 Weights/tools/make_encoder_fixtures.py

Generated with transformers {tf}, torch {torch}, safetensors {st}, numpy {np}, Python {py}
(CPU, float32, `attn_implementation="eager"`, `model.eval()`, `torch.set_num_threads(1)`).
The script's header documents the test signals (`in1s`, `in30s`, `in75s`) so that Swift can regenerate them.

| Path | What |
| --- | --- |
| `voxtral-tiny-hf/` | Random tiny Voxtral in the Hugging Face on-disk layout: `config.json` (VoxtralConfig saved by transformers; audio: 128 mels, hidden 64, 2 layers, 4 heads (head_dim 16), ffn 256, 1500 positions; text: llama, hidden 96, 1 layer, vocab 64), `preprocessor_config.json` (WhisperFeatureExtractor, 128 mels), `model-0000{{1,2}}-of-00002.safetensors` + `model.safetensors.index.json`. All tensors BF16 except `audio_tower.embed_positions.weight` (F32, equal to transformers' `sinusoids(1500, 64)`). Names as in the real checkpoints: `audio_tower.*`, `multi_modal_projector.linear_{{1,2}}.weight`, `language_model.model.*`, `language_model.lm_head.weight` (same set transformers' `save_pretrained` writes). Shard 1 = `audio_tower.*`, shard 2 = the rest. |
| `voxtral-tiny-mistral/` | The same weights in the Mistral-native layout: `params.json` and `consolidated.safetensors` (BF16, `mm_whisper_embeddings.*` names, no positional tensor). Audio/adapter tensors are bit-identical to the HF shards. Text tensors (`layers.0.*`, `norm.weight`, `output.weight`, `mm_whisper_embeddings.tok_embeddings.weight`) are included only so loaders learn to skip them; q/k get the inverse of the HF RoPE permutation (not checked against a real checkpoint). |
| `whisper-tiny-hf/` | Random tiny Whisper saved by `WhisperForConditionalGeneration.save_pretrained`: F32 `model.safetensors` (`model.encoder.*`, `model.decoder.*`; `proj_out` is tied and not stored), `config.json`, `generation_config.json`, `preprocessor_config.json` (80 mels). 80 mels, d_model 64, 2 encoder layers, 4 heads, ffn 256; `model.encoder.embed_positions.weight` = `sinusoids(1500, 64)`. |
| `reference-voxtral-{{in1s,in30s,in75s}}.safetensors` | F32 reference activations of `voxtral-tiny-hf` (run on the bf16 weights upcast to f32), one file per input. |
| `reference-whisper.safetensors` | F32 reference activations of `whisper-tiny-hf`. |
| `reference-voxtral-speech.safetensors` | `speech.adapter` [375, 96]: `get_audio_features` of `voxtral-tiny-hf` on `Tests/Fixtures/audio/speech-16k.wav` (read with soundfile, float32), for the CLI tests. |

Weights use realistic scales (linear/conv weights N(0, 1/fan_in) variance, q/k x{qk}, norm weights 1 + 0.1 N, biases 0.1 N), so attention is not uniform.

## reference-voxtral-X.safetensors

For X in `in1s` (N = 1 chunk), `in30s` (N = 1), `in75s` (N = 3; the audio is zero-padded to 90 s):

- `X.audio_head` [8]: first 8 float32 samples of the signal; `X.audio_sum` [1]: exact float64 sum of the float32 samples, rounded to float32.
- `X.encoder` [N, 1500, 64]: `audio_tower(...).last_hidden_state` (after the final `layer_norm`); not stored for `in75s` (size: its adapter output checks the same path).
- `X.adapter` [375 N, 96]: `VoxtralForConditionalGeneration.get_audio_features(mel).pooler_output`.

For `in1s` only:

- `in1s.mel` [1, 128, 3000]: the exact `input_features` fed to the model (WhisperFeatureExtractor(feature_size=128) called as VoxtralProcessor calls it, then split into 3000-frame chunks).
- `in1s.conv` [1, 1500, 64]: conv1 + GELU + conv2 + GELU + embed_positions = the input of layer 0 (= `hidden_states[0]`).
- `in1s.layer0`, `in1s.layer1` [1, 1500, 64]: outputs of encoder layers 0 and 1 (forward hooks). `in1s.layer1` is before the final `layer_norm`. Note: in transformers {tf}, `output_hidden_states` returns 3 tensors whose LAST one is replaced by `last_hidden_state` (after the final layer_norm), so `hidden_states[2]` is NOT layer 1's raw output; `hidden_states[0]` = `in1s.conv`, `hidden_states[1]` = `in1s.layer0`.

The mel of `in30s` and `in75s` is not stored (size); the Swift side regenerates the audio (check with `audio_head`/`audio_sum`) and computes the mel itself.

## reference-whisper.safetensors

- `in1s.mel` [1, 80, 3000]: WhisperFeatureExtractor(feature_size=80), same call as above.
- `in1s.encoder`, `in30s.encoder` [1, 1500, 64]: `WhisperForConditionalGeneration.model.encoder(mel).last_hidden_state`.
"""


def write_readme():
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(
            README.format(
                tf=transformers.__version__,
                torch=torch.__version__,
                st=safetensors.__version__,
                np=np.__version__,
                py=sys.version.split()[0],
                qk=QK_GAIN,
            )
        )


if __name__ == "__main__":
    main()
