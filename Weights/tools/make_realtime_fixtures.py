#!/usr/bin/env python3
"""Generate the small, seeded reference fixtures for Voxtral Realtime (Voxtral-Mini-4B-Realtime-2602-style) encoders.

Run from the repository root:

    python3 Weights/tools/make_realtime_fixtures.py [--official-convert PATH]

Writes (and first deletes) everything under Tests/Fixtures/realtime/:

  realtime-tiny-hf/        random tiny VoxtralRealtimeForConditionalGeneration, saved by transformers' save_pretrained
                           (config.json, generation_config.json, model.safetensors in BF16) + preprocessor_config.json
  realtime-tiny-mistral/   the same weights in the Mistral-native layout (params.json + consolidated.safetensors, BF16)
  realtime-window-hf/      a second random model with sliding_window 20 (evicts), 3 layers, odd shapes
  reference-realtime.safetensors   float32 reference activations (see README.md)
  README.md

--official-convert PATH: a copy of transformers' convert_voxtral_realtime_weights_to_hf.py (it is not in the
transformers wheel or sdist). When given, the Mistral files are converted with ITS convert_config / convert_state_dict
and compared with the HF files (bit-identical tensors required). Without it the same check runs with this script's own
statement of that mapping (MISTRAL_TO_HF below).

All reference computation is float32 on CPU, attn_implementation="eager", model.eval(), torch.set_num_threads(1).
The weights are drawn in float32, rounded to bfloat16, and the references are computed by the models RELOADED from the
written HF folders with from_pretrained(dtype=torch.float32), i.e. on the bf16 weights upcast exactly to float32.

Test signals (16 kHz mono), built from Weights/tools/signals.py (rebuilt bit for bit by Tests/VoxEncTestSupport/Signals.swift):
  in0p7s = tones(11213)                                         (0.7 s, odd count)
  in2p5s = speech_like(40001, seed 25)
  in10s  = float32(speech_like(160000, seed 100) + 0.5 * tones(160000))   -- numpy float32: one product, one sum,
           each rounded to float32, i.e. x[n] = fl(a[n] + fl(0.5 * b[n])) (0.5*b is exact)
  in6s   = speech_like(96017, seed 66)                           (window model only)
  speech = Tests/Fixtures/audio/speech-16k.wav read with soundfile as float32 (x / 32768)
  X.audio_head = first 8 float32 samples; X.audio_sum = math.fsum of the float32 samples, rounded to float32.

Offline front end, as mistral-common (src/mistral_common/tokens/tokenizers/audio.py @ bc022b91) pads a
StreamingMode.OFFLINE transcription request before transformers' feature extractor sees it:
  AudioEncoder.pad (lines 524-527):   audio = np.pad(audio, (left_pad, right_pad))
  _get_streaming_pad (lines 560-579): mult_of   = raw_audio_length_per_tok = int(16000 // 12.5) = 1280 (lines 423-425)
                                      right_pad = (mult_of - n % mult_of) % mult_of + mult_of * n_right_pad_tokens
                                      left_pad  = mult_of * streaming_n_left_pad_tokens (= 32, lines 443-451)
  n_right_pad_tokens (lines 434-441) = num_delay_tokens + 1 + OFFLINE_STREAMING_BUFFER_TOKENS (10, line 269)
  num_delay_tokens (lines 402-411, 387-393): delay_len = int(480 / 1000 * 16000) = 7680 samples = 48 hops
                                      -> ceil(48 / 8) = 6 tokens  => n_right_pad_tokens = 17
then VoxtralRealtimeFeatureExtractor()(padded, sampling_rate=16000, center=True, return_tensors="pt").
NOTE: transformers' VoxtralRealtimeProcessor (offline, processing_voxtral_realtime.py:176-191) first serializes the
float audio with Audio.to_base64("wav") = soundfile.write(format="WAV"), whose default subtype is PCM_16, and
mistral-common decodes it back (Audio.from_base64 -> read(dtype="float32")). That quantizes the audio to 16 bits.
These fixtures do NOT do that: the float32 audio is padded and featurized directly (the size of the effect is printed).
"""

import argparse
import copy
import importlib.util
import io
import json
import math
import os
import platform
import re
import shutil
import sys
import time

T_START = time.time()

import numpy as np  # noqa: E402
import soundfile  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import signals  # noqa: E402
import safetensors  # noqa: E402
import torch  # noqa: E402
import realistic_weights  # noqa: E402
import transformers  # noqa: E402
from safetensors import safe_open  # noqa: E402
from safetensors.torch import save_file  # noqa: E402
from transformers import (  # noqa: E402
    VoxtralRealtimeConfig,
    VoxtralRealtimeFeatureExtractor,
    VoxtralRealtimeForConditionalGeneration,
)

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(REPO, "Tests", "Fixtures", "realtime")
SPEECH_WAV = os.path.join(REPO, "Tests", "Fixtures", "audio", "speech-16k.wav")
SEED = 20260107

SR = 16000
HOP = 160
TOKEN_SAMPLES = 1280  # int(16000 // 12.5)
LEFT_PAD_TOKENS = 32
RIGHT_PAD_TOKENS = 6 + 1 + 10
FIRST_CHUNK_FRAMES = 312  # (32 left-pad + 6 delay + 1) tokens x 8 mel frames: transformers' streaming recipe
CHUNK_FRAMES = 8

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


# ---------------------------------------------------------------------------------------------------------------
# configs
# ---------------------------------------------------------------------------------------------------------------
def realtime_config(d, ffn, layers, heads, head_dim, window, text_ffn, text_kv_heads):
    """A tiny VoxtralRealtimeConfig: the audio encoder's shape as given (RoPE θ 1e6, eps 1e-5, 128 mels), and a one-layer
    text model whose width (= the adapter's output width) is the attention width heads × head_dim."""
    cfg = VoxtralRealtimeConfig(
        audio_config=dict(
            num_mel_bins=128,
            hidden_size=d,
            intermediate_size=ffn,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            head_dim=head_dim,
            sliding_window=window,
            rope_parameters={"rope_type": "default", "rope_theta": 1e6},
            rms_norm_eps=1e-5,
        ),
        text_config=dict(
            vocab_size=64,
            hidden_size=heads * head_dim,  # = adapter output width
            intermediate_size=text_ffn,
            num_hidden_layers=1,
            num_attention_heads=heads,
            num_key_value_heads=text_kv_heads,
            head_dim=head_dim,
            rope_theta=1e6,
            rms_norm_eps=1e-5,
            sliding_window=8192,
            max_position_embeddings=131072,
        ),
    )
    cfg.architectures = ["VoxtralRealtimeForConditionalGeneration"]
    return cfg


def tiny_config():
    """d 64, attention width 96 != d, window 750."""
    return realtime_config(d=64, ffn=160, layers=2, heads=4, head_dim=24, window=750, text_ffn=192, text_kv_heads=2)


def window_config():
    """d 48, attention width 80 != d, 3 layers, window 20 (0.4 s: evicts constantly)."""
    return realtime_config(d=48, ffn=96, layers=3, heads=2, head_dim=40, window=20, text_ffn=96, text_kv_heads=1)


# ---------------------------------------------------------------------------------------------------------------
# weights
# ---------------------------------------------------------------------------------------------------------------
def init_realistic(model, gen):
    """Every parameter drawn with O(1)-activation scales (realistic_weights.py), then rounded to bf16."""
    realistic_weights.fill(model, gen, dtype=torch.bfloat16)


def build_and_save_hf(cfg, gen, d):
    model = VoxtralRealtimeForConditionalGeneration(cfg).float().eval()
    init_realistic(model, gen)
    assert model.lm_head.weight.data_ptr() == model.model.language_model.embed_tokens.weight.data_ptr()
    os.makedirs(d)
    disk_model = copy.deepcopy(model).to(torch.bfloat16)  # only for writing: buffers stay f32 in `model`
    disk_model.save_pretrained(d)
    VoxtralRealtimeFeatureExtractor().save_pretrained(d)
    # Reload exactly as a user would, in float32: this is the model every reference is computed with.
    loaded = VoxtralRealtimeForConditionalGeneration.from_pretrained(d, dtype=torch.float32, attn_implementation="eager")
    loaded.eval()
    assert loaded.model.audio_tower.config._attn_implementation == "eager"
    mine = model.state_dict()
    for k, v in loaded.state_dict().items():
        assert v.dtype == torch.float32 and torch.equal(v, mine[k]), k
    for k, v in loaded.named_buffers():
        assert torch.equal(v, dict(model.named_buffers())[k]), k
    return loaded


def read_safetensors(path):
    out = {}
    with safe_open(path, "pt") as f:
        for k in f.keys():
            out[k] = f.get_tensor(k)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Mistral-native layout
# ---------------------------------------------------------------------------------------------------------------
A = "mm_streams_embeddings.embedding_module."
W = A + "whisper_encoder."

# Mistral name (regex) -> HF on-disk name, restating transformers' STATE_DICT_MAPPING of
# convert_voxtral_realtime_weights_to_hf.py (huggingface/transformers @ 63253a6f) for the tensors that exist.
MISTRAL_TO_HF = [
    (r"^norm\.weight$", r"language_model.model.norm.weight"),
    (r"^layers\.(\d+)\.attention_norm\.weight$", r"language_model.model.layers.\1.input_layernorm.weight"),
    (r"^layers\.(\d+)\.ffn_norm\.weight$", r"language_model.model.layers.\1.post_attention_layernorm.weight"),
    (r"^layers\.(\d+)\.attention\.w(q|k|v|o)\.weight$", r"language_model.model.layers.\1.self_attn.\2_proj.weight"),
    (r"^layers\.(\d+)\.feed_forward\.w1\.weight$", r"language_model.model.layers.\1.mlp.gate_proj.weight"),
    (r"^layers\.(\d+)\.feed_forward\.w2\.weight$", r"language_model.model.layers.\1.mlp.down_proj.weight"),
    (r"^layers\.(\d+)\.feed_forward\.w3\.weight$", r"language_model.model.layers.\1.mlp.up_proj.weight"),
    (r"^layers\.(\d+)\.ada_rms_norm_t_cond\.0\.weight$", r"language_model.model.layers.\1.ada_rms_norm.linear1.weight"),
    (r"^layers\.(\d+)\.ada_rms_norm_t_cond\.2\.weight$", r"language_model.model.layers.\1.ada_rms_norm.linear2.weight"),
    (r"^" + re.escape(A) + r"tok_embeddings\.weight$", r"language_model.model.embed_tokens.weight"),
    (r"^" + re.escape(W) + r"conv_layers\.0\.conv\.(weight|bias)$", r"audio_tower.embedder.conv1.\1"),
    (r"^" + re.escape(W) + r"conv_layers\.1\.conv\.(weight|bias)$", r"audio_tower.embedder.conv2.\1"),
    (r"^" + re.escape(W) + r"transformer\.norm\.weight$", r"audio_tower.norm.weight"),
    (r"^" + re.escape(W) + r"transformer\.layers\.(\d+)\.attention\.w([qkv])\.(weight|bias)$",
     r"audio_tower.layers.\1.self_attn.\2_proj.\3"),
    (r"^" + re.escape(W) + r"transformer\.layers\.(\d+)\.attention\.wo\.(weight|bias)$",
     r"audio_tower.layers.\1.self_attn.o_proj.\2"),
    (r"^" + re.escape(W) + r"transformer\.layers\.(\d+)\.attention_norm\.weight$",
     r"audio_tower.layers.\1.self_attn_layer_norm.weight"),
    (r"^" + re.escape(W) + r"transformer\.layers\.(\d+)\.ffn_norm\.weight$",
     r"audio_tower.layers.\1.final_layer_norm.weight"),
    (r"^" + re.escape(W) + r"transformer\.layers\.(\d+)\.feed_forward\.w1\.weight$",
     r"audio_tower.layers.\1.mlp.gate_proj.weight"),
    (r"^" + re.escape(W) + r"transformer\.layers\.(\d+)\.feed_forward\.w2\.(weight|bias)$",
     r"audio_tower.layers.\1.mlp.down_proj.\2"),
    (r"^" + re.escape(W) + r"transformer\.layers\.(\d+)\.feed_forward\.w3\.weight$",
     r"audio_tower.layers.\1.mlp.up_proj.weight"),
    (r"^" + re.escape(A) + r"audio_language_projection\.0\.weight$", r"multi_modal_projector.linear_1.weight"),
    (r"^" + re.escape(A) + r"audio_language_projection\.2\.weight$", r"multi_modal_projector.linear_2.weight"),
]


def hf_to_mistral_name(hf):
    """Inverse of MISTRAL_TO_HF (written out, not derived, so the two check each other)."""
    m = re.match(r"^audio_tower\.layers\.(\d+)\.(.+)$", hf)
    if m:
        i, rest = m.groups()
        sub = {
            "self_attn.q_proj.weight": "attention.wq.weight",
            "self_attn.q_proj.bias": "attention.wq.bias",
            "self_attn.k_proj.weight": "attention.wk.weight",
            "self_attn.v_proj.weight": "attention.wv.weight",
            "self_attn.v_proj.bias": "attention.wv.bias",
            "self_attn.o_proj.weight": "attention.wo.weight",
            "self_attn.o_proj.bias": "attention.wo.bias",
            "self_attn_layer_norm.weight": "attention_norm.weight",
            "final_layer_norm.weight": "ffn_norm.weight",
            "mlp.gate_proj.weight": "feed_forward.w1.weight",
            "mlp.down_proj.weight": "feed_forward.w2.weight",
            "mlp.down_proj.bias": "feed_forward.w2.bias",
            "mlp.up_proj.weight": "feed_forward.w3.weight",
        }[rest]
        return f"{W}transformer.layers.{i}.{sub}"
    m = re.match(r"^language_model\.model\.layers\.(\d+)\.(.+)$", hf)
    if m:
        i, rest = m.groups()
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
            "ada_rms_norm.linear1.weight": "ada_rms_norm_t_cond.0.weight",
            "ada_rms_norm.linear2.weight": "ada_rms_norm_t_cond.2.weight",
        }[rest]
        return f"layers.{i}.{sub}"
    return {
        "audio_tower.embedder.conv1.weight": W + "conv_layers.0.conv.weight",
        "audio_tower.embedder.conv1.bias": W + "conv_layers.0.conv.bias",
        "audio_tower.embedder.conv2.weight": W + "conv_layers.1.conv.weight",
        "audio_tower.embedder.conv2.bias": W + "conv_layers.1.conv.bias",
        "audio_tower.norm.weight": W + "transformer.norm.weight",
        "multi_modal_projector.linear_1.weight": A + "audio_language_projection.0.weight",
        "multi_modal_projector.linear_2.weight": A + "audio_language_projection.2.weight",
        "language_model.model.embed_tokens.weight": A + "tok_embeddings.weight",
        "language_model.model.norm.weight": "norm.weight",
    }[hf]


def rope_permute(w, n_heads):
    """Mistral (interleaved pairs 2j, 2j+1) -> HF (rotate_half: j, j + head_dim/2); = transformers' permute_for_rope.
    Works on [rows, cols] weights and [rows] biases."""
    shape = w.shape
    rows = shape[0]
    return w.reshape(n_heads, rows // n_heads // 2, 2, -1).transpose(1, 2).reshape(shape)


def rope_unpermute(w, n_heads):
    """HF -> Mistral: inverse of rope_permute (HF row j -> Mistral row 2j, HF row j + head_dim/2 -> row 2j + 1)."""
    shape = w.shape
    rows = shape[0]
    return w.reshape(n_heads, 2, rows // n_heads // 2, -1).transpose(1, 2).reshape(shape)


def heads_for(hf_name, cfg):
    """Number of heads to (un)permute an HF tensor with, or None if it is not RoPE-permuted."""
    a, t = cfg.audio_config, cfg.text_config
    if hf_name.startswith("audio_tower.") and re.search(r"self_attn\.(q_proj\.(weight|bias)|k_proj\.weight)$", hf_name):
        return a.num_attention_heads  # MHA: num_key_value_heads == num_attention_heads
    if hf_name.startswith("language_model.") and hf_name.endswith("self_attn.q_proj.weight"):
        return t.num_attention_heads
    if hf_name.startswith("language_model.") and hf_name.endswith("self_attn.k_proj.weight"):
        return t.num_key_value_heads
    return None


def to_mistral(hf_disk, cfg):
    out = {}
    for k, v in hf_disk.items():
        n = heads_for(k, cfg)
        w = rope_unpermute(v, n) if n else v
        if n:
            assert torch.equal(rope_permute(w, n), v)
        out[hf_to_mistral_name(k)] = w.contiguous()
    assert len(out) == len(hf_disk)
    return out


def params_json(cfg):
    """params.json with the keys of the real Voxtral-Mini-4B-Realtime-2602 file (tiny values)."""
    a, t = cfg.audio_config, cfg.text_config
    return {
        "dim": t.hidden_size,
        "n_layers": t.num_hidden_layers,
        "head_dim": t.head_dim,
        "hidden_dim": t.intermediate_size,
        "n_heads": t.num_attention_heads,
        "n_kv_heads": t.num_key_value_heads,
        "use_biases": False,
        "causal": True,
        "rope_theta": t.rope_parameters["rope_theta"],
        "norm_eps": t.rms_norm_eps,
        "vocab_size": t.vocab_size,
        "model_parallel": 1,
        "tied_embeddings": True,
        "sliding_window": t.sliding_window,
        "model_max_length": t.max_position_embeddings,
        "multimodal": {
            "whisper_model_args": {
                "encoder_args": {
                    "audio_encoding_args": {
                        "sampling_rate": SR,
                        "frame_rate": 12.5,
                        "num_mel_bins": a.num_mel_bins,
                        "hop_length": HOP,
                        "window_size": 400,
                        "chunk_length_s": None,
                        "global_log_mel_max": 1.5,
                        "transcription_format": "streaming",
                    },
                    "dim": a.hidden_size,
                    "n_layers": a.num_hidden_layers,
                    "head_dim": a.head_dim,
                    "hidden_dim": a.intermediate_size,
                    "n_heads": a.num_attention_heads,
                    "vocab_size": a.vocab_size,
                    "n_kv_heads": a.num_attention_heads,
                    "use_biases": True,
                    "use_cache": False,
                    "rope_theta": a.rope_parameters["rope_theta"],
                    "causal": True,
                    "norm_eps": a.rms_norm_eps,
                    "pos_embed": "rope",
                    "max_source_positions": None,
                    "ffn_type": "swiglu",
                    "norm_type": "rms_norm",
                    "sliding_window": a.sliding_window,
                },
                "downsample_args": {"downsample_factor": cfg.downsample_factor},
            }
        },
        "ada_rms_norm_t_cond": True,
        "ada_rms_norm_t_cond_dim": 32,
    }


def own_convert(mistral, cfg):
    """Mistral -> HF with MISTRAL_TO_HF and rope_permute (this script's statement of the official conversion)."""
    out = {}
    for k, v in mistral.items():
        for pat, rep in MISTRAL_TO_HF:
            new, n = re.subn(pat, rep, k)
            if n:
                break
        else:
            raise KeyError(k)
        h = heads_for(new, cfg)
        out[new] = rope_permute(v, h).contiguous() if h else v
    return out


def check_conversion(mistral, params, hf_disk, hf_cfg, official_path):
    """Mistral files -> HF tensors must be bit-identical to what save_pretrained wrote."""
    results = []
    conv = own_convert(mistral, hf_cfg)
    assert set(conv) == set(hf_disk), sorted(set(conv) ^ set(hf_disk))
    for k in hf_disk:
        assert conv[k].dtype == hf_disk[k].dtype and torch.equal(conv[k], hf_disk[k]), k
    results.append("own mapping: %d tensors bit-identical" % len(hf_disk))
    if official_path:
        spec = importlib.util.spec_from_file_location("official_convert", official_path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        ocfg = mod.convert_config(copy.deepcopy(params))
        off = mod.convert_state_dict(dict(mistral), ocfg)
        off.pop("language_model.lm_head.weight", None)  # tied; the official writer adds a clone of embed_tokens
        assert set(off) == set(hf_disk), sorted(set(off) ^ set(hf_disk))
        for k in hf_disk:
            assert off[k].dtype == hf_disk[k].dtype and torch.equal(off[k], hf_disk[k]), k
        oa, ha = ocfg.audio_config, hf_cfg.audio_config
        same = {}
        for key in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                    "num_key_value_heads", "head_dim", "num_mel_bins", "sliding_window", "rms_norm_eps"):
            same[key] = (getattr(oa, key), getattr(ha, key))
        same["rope_theta"] = (oa.rope_parameters["rope_theta"], ha.rope_parameters["rope_theta"])
        same["downsample_factor"] = (ocfg.downsample_factor, hf_cfg.downsample_factor)
        same["text hidden_size"] = (ocfg.text_config.hidden_size, hf_cfg.text_config.hidden_size)
        for key, (o, h) in same.items():
            assert o == h, (key, o, h)
        results.append("official convert_state_dict: %d tensors bit-identical; official convert_config audio "
                       "fields equal (%s)" % (len(hf_disk), ", ".join(sorted(same))))
    return results


# ---------------------------------------------------------------------------------------------------------------
# front end
# ---------------------------------------------------------------------------------------------------------------
def offline_pad(audio):
    n = audio.shape[-1]
    right = (TOKEN_SAMPLES - n % TOKEN_SAMPLES) % TOKEN_SAMPLES + TOKEN_SAMPLES * RIGHT_PAD_TOKENS
    left = TOKEN_SAMPLES * LEFT_PAD_TOKENS
    return np.pad(audio, (left, right)).astype(np.float32)


def mel_of(fe, padded):
    f = fe(padded, sampling_rate=SR, center=True, return_tensors="pt").input_features
    assert f.dtype == torch.float32 and f.shape[0] == 1 and f.shape[1] == 128
    return f


def numpy_mel(fe, padded):
    """float64 numpy restatement: reflect pad 200, periodic Hann(400), |rfft|^2, drop last frame, Slaney filters,
    log10(max(., 1e-10)), max(., 1.5 - 8), (x + 4) / 4."""
    x = np.pad(padded.astype(np.float64), (200, 200), mode="reflect")
    n_frames = 1 + (len(x) - 400) // HOP
    idx = np.arange(400)[None, :] + HOP * np.arange(n_frames)[:, None]
    win = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(400) / 400)
    spec = np.abs(np.fft.rfft(x[idx] * win, axis=1)) ** 2  # [frames, 201]
    spec = spec[:-1]
    mel = spec @ fe.mel_filters  # [frames, 128]
    log = np.log10(np.maximum(mel, 1e-10))
    log = np.maximum(log, 1.5 - 8.0)
    return ((log + 4.0) / 4.0).T


def audio_stats(x):
    return torch.from_numpy(x[:8].copy()), torch.tensor([math.fsum(float(v) for v in x)], dtype=torch.float32)


def wav16_roundtrip(x):
    """What VoxtralRealtimeProcessor's offline path does to the audio (Audio.to_base64('wav') / from_base64)."""
    buf = io.BytesIO()
    soundfile.write(buf, x, SR, format="WAV")
    buf.seek(0)
    with soundfile.SoundFile(buf) as f:
        return f.read(dtype="float32")


# ---------------------------------------------------------------------------------------------------------------
# model runs
# ---------------------------------------------------------------------------------------------------------------
class Recorder:
    def __init__(self, tower):
        self.d = {}
        self.h = [
            tower.embedder.register_forward_hook(self._embed),
            tower.layers[0].register_forward_pre_hook(self._pre, with_kwargs=True),
            tower.layers[0].register_forward_hook(self._post),
        ]

    def _embed(self, mod, args, out):
        self.d["embedder"] = out.detach().clone()

    def _pre(self, mod, args, kwargs):
        hs = args[0] if args else kwargs["hidden_states"]
        self.d["conv"] = hs.detach().clone()

    def _post(self, mod, args, out):
        o = out[0] if isinstance(out, tuple) else out
        self.d["layer0"] = o.detach().clone()

    def remove(self):
        for h in self.h:
            h.remove()


@torch.no_grad()
def offline(model, mel):
    rec = Recorder(model.model.audio_tower)
    o = model.get_audio_features(input_features=mel)
    rec.remove()
    assert torch.equal(rec.d["embedder"], rec.d["conv"])
    return {
        "conv": rec.d["conv"][0],
        "layer0": rec.d["layer0"][0],
        "encoder": o.last_hidden_state[0].clone(),
        "adapter": o.pooler_output[0].clone(),
    }


@torch.no_grad()
def streamed(model, mel):
    """transformers' streaming recipe: 312-frame first chunk, then 8-frame chunks, conv padding cache + KV cache."""
    frames = mel.shape[-1]
    assert frames >= FIRST_CHUNK_FRAMES and (frames - FIRST_CHUNK_FRAMES) % CHUNK_FRAMES == 0
    bounds = [0, FIRST_CHUNK_FRAMES] + list(range(FIRST_CHUNK_FRAMES + CHUNK_FRAMES, frames + 1, CHUNK_FRAMES))
    cache = pc = None
    enc, ada = [], []
    for s, e in zip(bounds[:-1], bounds[1:]):
        o = model.get_audio_features(input_features=mel[:, :, s:e], cache=cache, padding_cache=pc, use_cache=True)
        cache, pc = o.cache, o.padding_cache
        enc.append(o.last_hidden_state[0])
        ada.append(o.pooler_output[0])
    layer_types = sorted({type(layer).__name__ for layer in cache.layers})
    return torch.cat(enc), torch.cat(ada), len(bounds) - 1, layer_types


@torch.no_grad()
def mistral_reference(mt, params, mel):
    """Independent float64 forward pass from the MISTRAL-layout tensors: interleaved RoPE on the unpermuted q/k,
    causal convs, RMSNorm, sliding-window causal attention, SwiGLU, final norm, 4x concat, GELU(erf) adapter."""
    e = params["multimodal"]["whisper_model_args"]["encoder_args"]
    ds = params["multimodal"]["whisper_model_args"]["downsample_args"]["downsample_factor"]
    H, hd, eps, theta, win = e["n_heads"], e["head_dim"], e["norm_eps"], e["rope_theta"], e["sliding_window"]
    g = {k: v.to(torch.float64) for k, v in mt.items()}
    F = torch.nn.functional
    x = mel[0].to(torch.float64)[None]  # [1, 128, T]
    x = F.gelu(F.conv1d(F.pad(x, (2, 0)), g[W + "conv_layers.0.conv.weight"], g[W + "conv_layers.0.conv.bias"]))
    x = F.gelu(F.conv1d(F.pad(x, (1, 0)), g[W + "conv_layers.1.conv.weight"], g[W + "conv_layers.1.conv.bias"],
                        stride=2))
    h = x[0].T.contiguous()  # [N, d]
    conv = h.clone()
    N = h.shape[0]

    def rms(v, w):
        return w * (v / torch.sqrt((v * v).mean(-1, keepdim=True) + eps))

    inv = theta ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)  # [hd/2]
    ang = torch.arange(N, dtype=torch.float64)[:, None] * inv[None, :]
    cos, sin = torch.cos(ang)[:, None, :], torch.sin(ang)[:, None, :]  # [N, 1, hd/2]

    def rope(v):  # v [N, H, hd], pairs (2j, 2j+1)
        a, b = v[..., 0::2], v[..., 1::2]
        out = torch.empty_like(v)
        out[..., 0::2] = a * cos - b * sin
        out[..., 1::2] = a * sin + b * cos
        return out

    i = torch.arange(N)[:, None]
    j = torch.arange(N)[None, :]
    allowed = (j <= i) & (j > i - win)
    layer0 = None
    for li in range(e["n_layers"]):
        p = f"{W}transformer.layers.{li}."
        a = rms(h, g[p + "attention_norm.weight"])
        q = (a @ g[p + "attention.wq.weight"].T + g[p + "attention.wq.bias"]).view(N, H, hd)
        k = (a @ g[p + "attention.wk.weight"].T).view(N, H, hd)
        v = (a @ g[p + "attention.wv.weight"].T + g[p + "attention.wv.bias"]).view(N, H, hd)
        q, k = rope(q), rope(k)
        s = torch.einsum("nhd,mhd->hnm", q, k) / math.sqrt(hd)
        s = s.masked_fill(~allowed[None], float("-inf"))
        o = torch.einsum("hnm,mhd->nhd", torch.softmax(s, -1), v).reshape(N, H * hd)
        h = h + o @ g[p + "attention.wo.weight"].T + g[p + "attention.wo.bias"]
        f = rms(h, g[p + "ffn_norm.weight"])
        up = F.silu(f @ g[p + "feed_forward.w1.weight"].T) * (f @ g[p + "feed_forward.w3.weight"].T)
        h = h + up @ g[p + "feed_forward.w2.weight"].T + g[p + "feed_forward.w2.bias"]
        if li == 0:
            layer0 = h.clone()
    enc = rms(h, g[W + "transformer.norm.weight"])
    z = enc.reshape(N // ds, ds * enc.shape[1])
    ada = F.gelu(z @ g[A + "audio_language_projection.0.weight"].T) @ g[A + "audio_language_projection.2.weight"].T
    return {"conv": conv, "layer0": layer0, "encoder": enc, "adapter": ada}


def maxdiff(a, b):
    return (a.double() - b.double()).abs().max().item()


def relmax(a, b):
    return maxdiff(a, b) / max(b.double().abs().max().item(), 1e-30)


# ---------------------------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--official-convert", default=None,
                    help="path to transformers' convert_voxtral_realtime_weights_to_hf.py, to check against")
    args = ap.parse_args()

    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    gen = torch.Generator().manual_seed(SEED)
    notes = {}

    # ---- models -----------------------------------------------------------------------------------------------
    tiny_dir = os.path.join(OUT, "realtime-tiny-hf")
    mistral_dir = os.path.join(OUT, "realtime-tiny-mistral")
    window_dir = os.path.join(OUT, "realtime-window-hf")
    tiny_cfg = tiny_config()
    tiny = build_and_save_hf(tiny_cfg, gen, tiny_dir)
    win_cfg = window_config()
    window = build_and_save_hf(win_cfg, gen, window_dir)

    hf_disk = read_safetensors(os.path.join(tiny_dir, "model.safetensors"))
    assert all(v.dtype == torch.bfloat16 for v in hf_disk.values())
    mistral = to_mistral(hf_disk, tiny_cfg)
    params = params_json(tiny_cfg)
    os.makedirs(mistral_dir)
    with open(os.path.join(mistral_dir, "params.json"), "w") as f:
        json.dump(params, f, indent=2)
        f.write("\n")
    save_file(dict(sorted(mistral.items())), os.path.join(mistral_dir, "consolidated.safetensors"))
    mistral_back = read_safetensors(os.path.join(mistral_dir, "consolidated.safetensors"))
    with open(os.path.join(mistral_dir, "params.json")) as f:
        params_back = json.load(f)
    notes["conversion"] = check_conversion(mistral_back, params_back, hf_disk, tiny_cfg, args.official_convert)
    for line in notes["conversion"]:
        print("conversion:", line)
    win_disk = read_safetensors(os.path.join(window_dir, "model.safetensors"))
    win_mistral = to_mistral(win_disk, win_cfg)  # in memory only, for the independent reference below
    win_params = params_json(win_cfg)

    # ---- signals ----------------------------------------------------------------------------------------------
    tones_10 = signals.tones(160000)
    sig = {
        "in0p7s": signals.tones(11213),
        "in2p5s": signals.speech_like(40001, 25),
        "in10s": (signals.speech_like(160000, 100) + np.float32(0.5) * tones_10).astype(np.float32),
        "in6s": signals.speech_like(96017, 66),
    }
    speech, sr = soundfile.read(SPEECH_WAV, dtype="float32")
    assert sr == SR and speech.ndim == 1
    for x in sig.values():
        assert x.dtype == np.float32

    fe = VoxtralRealtimeFeatureExtractor()
    assert fe.global_log_mel_max == 1.5 and fe.n_fft == 400 and fe.hop_length == HOP
    ref = {}
    report = []

    def run(name, model, x, keep_mel, keep_conv=True):
        padded = offline_pad(x)
        mel = mel_of(fe, padded)
        frames = mel.shape[-1]
        assert len(padded) % TOKEN_SAMPLES == 0 and frames == len(padded) // HOP
        np_mel = numpy_mel(fe, padded)
        mel_np_diff = float(np.abs(np_mel - mel[0].double().numpy()).max())
        off = offline(model, mel)
        t_enc = off["encoder"].shape[0]
        assert t_enc == frames // 2 and off["adapter"].shape[0] == frames // 8
        s_enc, s_ada, pieces, layer_types = streamed(model, mel)
        assert s_enc.shape == off["encoder"].shape and s_ada.shape == off["adapter"].shape
        head, total = audio_stats(x)
        ref[f"{name}.audio_head"] = head
        ref[f"{name}.audio_sum"] = total
        ref[f"{name}.samples"] = torch.tensor([float(len(padded))], dtype=torch.float32)
        if keep_mel:
            ref[f"{name}.mel"] = mel[0].clone()
        if keep_conv:
            ref[f"{name}.conv"] = off["conv"]
        ref[f"{name}.layer0"] = off["layer0"]
        ref[f"{name}.encoder"] = off["encoder"]
        ref[f"{name}.adapter"] = off["adapter"]
        ref[f"{name}.stream_encoder"] = s_enc.clone()
        ref[f"{name}.stream_adapter"] = s_ada.clone()
        row = {
            "name": name, "n": len(x), "padded": len(padded), "frames": frames, "enc": t_enc,
            "ada": off["adapter"].shape[0], "pieces": pieces,
            "d_enc": maxdiff(s_enc, off["encoder"]), "d_ada": maxdiff(s_ada, off["adapter"]),
            "enc_max": off["encoder"].abs().max().item(), "ada_max": off["adapter"].abs().max().item(),
            "mel_np": mel_np_diff, "cache": layer_types,
        }
        print("%-7s samples %6d -> padded %6d, mel %4d, enc %3d, adapter %3d | streamed (%d pieces) vs offline: "
              "encoder %.2e (|max| %.2f), adapter %.2e (|max| %.2f) | numpy mel %.2e | cache %s"
              % (name, row["n"], row["padded"], frames, t_enc, row["ada"], pieces, row["d_enc"], row["enc_max"],
                 row["d_ada"], row["ada_max"], mel_np_diff, layer_types))
        report.append(row)
        return mel, off, s_enc, s_ada

    run07 = run("in0p7s", tiny, sig["in0p7s"], keep_mel=True)
    run("in2p5s", tiny, sig["in2p5s"], keep_mel=True)
    run10 = run("in10s", tiny, sig["in10s"], keep_mel=False, keep_conv=False)  # size: conv is checked by the others
    run6 = run("in6s", window, sig["in6s"], keep_mel=False)

    # speech-16k.wav through realtime-tiny-hf: adapter only
    sp_mel = mel_of(fe, offline_pad(speech))
    sp = offline(tiny, sp_mel)
    ref["speech.samples"] = torch.tensor([float(len(offline_pad(speech)))], dtype=torch.float32)
    ref["speech.adapter"] = sp["adapter"]
    print("speech  samples %6d -> padded %6d, adapter %s" % (len(speech), len(offline_pad(speech)),
                                                             tuple(sp["adapter"].shape)))

    # ---- independent float64 reference from the Mistral layout (checks the README's formulas) -------------------
    indep = []
    for label, mt, prm, (mel, off, s_enc, s_ada) in (
            ("realtime-tiny-mistral / in0p7s", mistral_back, params_back, run07),
            ("realtime-tiny-mistral / in10s", mistral_back, params_back, run10),
            ("realtime-window (Mistral layout in memory) / in6s", win_mistral, win_params, run6)):
        r = mistral_reference(mt, prm, mel)
        diffs = {k: relmax(off[k], r[k]) for k in ("conv", "layer0", "encoder", "adapter")}
        diffs["stream_encoder"] = relmax(s_enc, r["encoder"])
        diffs["stream_adapter"] = relmax(s_ada, r["adapter"])
        indep.append((label, diffs))
        print("float64 Mistral-layout reference vs transformers, max|diff|/max|ref|:", label,
              ", ".join("%s %.1e" % kv for kv in diffs.items()))
        assert max(diffs.values()) < 1e-4

    # ---- the 16-bit WAV round trip of VoxtralRealtimeProcessor's offline path (not applied to the fixtures) ------
    q = wav16_roundtrip(sig["in2p5s"])
    q_off = offline(tiny, mel_of(fe, offline_pad(q)))
    wav_note = (maxdiff(torch.from_numpy(q), torch.from_numpy(sig["in2p5s"])),
                maxdiff(q_off["adapter"], ref["in2p5s.adapter"]))
    print("16-bit WAV round trip of in2p5s: audio max|diff| %.2e, adapter max|diff| %.2e" % wav_note)

    # ---- write --------------------------------------------------------------------------------------------------
    ref = {k: v.contiguous().to(torch.float32) for k, v in sorted(ref.items())}
    save_file(ref, os.path.join(OUT, "reference-realtime.safetensors"), metadata={"format": "pt"})

    elapsed = time.time() - T_START
    write_readme(report, indep, notes, wav_note, tiny_cfg, win_cfg, hf_disk, mistral_back, ref, elapsed)
    sizes = []
    for root, _, files in os.walk(OUT):
        for fn in files:
            p = os.path.join(root, fn)
            sizes.append((os.path.relpath(p, OUT), os.path.getsize(p)))
    for p, s in sorted(sizes):
        print("%9d  %s" % (s, p))
    print("total %d bytes; %.1f s" % (sum(s for _, s in sizes), time.time() - T_START))


# ---------------------------------------------------------------------------------------------------------------
# README
# ---------------------------------------------------------------------------------------------------------------
def table_of_names(names_shapes):
    return "\n".join("| `%s` | %s | %s |" % (n, list(s), d) for n, s, d in names_shapes)


def write_readme(report, indep, notes, wav_note, tiny_cfg, win_cfg, hf_disk, mistral, ref, elapsed):
    pairs = []
    for k in sorted(hf_disk):
        m = hf_to_mistral_name(k)
        if k.startswith("audio_tower.layers.") and not k.startswith("audio_tower.layers.0."):
            continue
        perm = "yes" if heads_for(k, tiny_cfg) else ""
        pairs.append("| `%s` | `%s` | %s | %s |" % (k, m, list(hf_disk[k].shape), perm))
    ref_rows = "\n".join("| `%s` | %s |" % (k, list(v.shape)) for k, v in ref.items())
    rows = "\n".join(
        "| %s | %d | %d | %d | %d | %d | %d | %.2e (%.2f) | %.2e (%.2f) | %.1e |"
        % (r["name"], r["n"], r["padded"], r["frames"], r["enc"], r["ada"], r["pieces"], r["d_enc"], r["enc_max"],
           r["d_ada"], r["ada_max"], r["mel_np"])
        for r in report)
    indep_rows = "\n".join("| %s | %s |" % (label, " | ".join("%.1e" % d[k] for k in ("conv", "layer0", "encoder",
                                                                                       "adapter", "stream_encoder",
                                                                                       "stream_adapter")))
                           for label, d in indep)
    text = README.format(
        tf=transformers.__version__, torch=torch.__version__, st=safetensors.__version__, np=np.__version__,
        sf=soundfile.__version__, py=platform.python_version(), elapsed=elapsed,
        pairs="\n".join(pairs), ref_rows=ref_rows, rows=rows, indep_rows=indep_rows,
        conversion="\n".join("* " + line for line in notes["conversion"]),
        wav_audio=wav_note[0], wav_ada=wav_note[1],
        n_hf=len(hf_disk), n_mistral=len(mistral),
    )
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(text)


README = """# Voxtral Realtime fixtures

Generated by `Weights/tools/make_realtime_fixtures.py` (seeded, deterministic). Regenerate from the repository root:

    python3 Weights/tools/make_realtime_fixtures.py [--official-convert /path/to/convert_voxtral_realtime_weights_to_hf.py]

Generated with transformers {tf}, torch {torch}, safetensors {st}, numpy {np}, soundfile {sf}, Python {py}
(CPU, float32, `attn_implementation="eager"`, `model.eval()`, `torch.set_num_threads(1)`); the run took {elapsed:.0f} s.
The script's header documents the test signals so that Swift can regenerate them (`Signals.tones`, `Signals.speechLike`).

| Path | What |
| --- | --- |
| `realtime-tiny-hf/` | Random tiny `VoxtralRealtimeForConditionalGeneration` written by `save_pretrained`: `config.json` (`model_type` `voxtral_realtime`, `dtype` `bfloat16`), `generation_config.json`, `model.safetensors` ({n_hf} tensors, all BF16; the tied `lm_head` is not stored), `preprocessor_config.json` (`VoxtralRealtimeFeatureExtractor()` defaults: 128 mels, n_fft 400, hop 160, `global_log_mel_max` 1.5). Audio: 128 mels, d 64, ffn 160, 2 layers, 4 heads x head_dim 24 (attention width 96), sliding_window 750, RoPE theta 1e6, eps 1e-5. Text: vocab 64, d 96 (= adapter width), 1 layer, 4/2 heads x 24. No processor/tokenizer files (they need mistral-common and a tekken.json). |
| `realtime-tiny-mistral/` | The SAME weights in the Mistral-native layout: `params.json` (keys of the real Voxtral-Mini-4B-Realtime-2602 file, tiny values) and `consolidated.safetensors` ({n_mistral} tensors, BF16; text tensors included so loaders learn to skip them; no `output.weight`, the real checkpoint ties it). q/k weights and the q bias are in Mistral's interleaved RoPE order (inverse of the conversion's `permute_for_rope`). |
| `realtime-window-hf/` | Second random model, same files as `realtime-tiny-hf/`: d 48, ffn 96, 3 layers, 2 heads x head_dim 40 (width 80), **sliding_window 20** (evicts), text d 80 (= adapter width). |
| `reference-realtime.safetensors` | F32 reference activations (below). |

Weights use realistic scales (linear/conv weights N(0, 1/fan_in), q/k x2.5, RMSNorm weights 1 + 0.1 N, biases 0.1 N),
drawn in float32 and rounded to bf16. **Every reference is computed by the model reloaded from the HF folder with
`from_pretrained(dtype=torch.float32)`, i.e. on the bf16 weights upcast exactly to f32.**

## Weight conversion check

{conversion}

Mistral -> HF as transformers' `convert_voxtral_realtime_weights_to_hf.py` (huggingface/transformers @ 63253a6f; it is
not shipped in the 5.25.0 wheel or sdist) does it: rename (table below), then for the audio tower
`q_proj.weight`, `q_proj.bias`, `k_proj.weight` (and the text model's `q_proj.weight` / `k_proj.weight`, with
`num_key_value_heads` for k) are permuted with

    permute_for_rope(w, n_heads):  w.view(n_heads, rows/n_heads/2, 2, cols).transpose(1, 2).reshape(rows, cols)
    (bias: the same with cols = 1)

i.e. within each head, HF row j = Mistral row 2j and HF row j + head_dim/2 = Mistral row 2j + 1. The inverse
(used to write `realtime-tiny-mistral/`) is `w.view(n_heads, 2, rows/n_heads/2, cols).transpose(1, 2).reshape(rows, cols)`.
The HF weights are therefore in **rotate_half** order (HF applies `q*cos + rotate_half(q)*sin` with
`cos = cat(freqs, freqs)`); the Mistral weights in **interleaved** order (pairs (2j, 2j+1) rotated by
`theta^(-2j/head_dim)`, `is_neox_style=False` in vLLM). `v_proj`, `o_proj` and `k` (no bias) are not permuted.

### Tensor names (all audio/adapter tensors; encoder layer 0 shown, layers 1.. alike; text tensors last)

| HF (`model.safetensors`) | Mistral (`consolidated.safetensors`) | shape (tiny) | RoPE-permuted |
| --- | --- | --- | --- |
{pairs}

The in-memory module names of transformers 5.25 differ from the on-disk HF names: `model.audio_tower.*`,
`model.multi_modal_projector.*`, `model.language_model.*` (no inner `.model.`), `lm_head.weight`
(conversion_mapping.py "qwen2_audio" renames them on load and back on save).

### Config keys a loader must read

| meaning | HF `config.json` | Mistral `params.json` |
| --- | --- | --- |
| encoder width d | `audio_config.hidden_size` | `multimodal.whisper_model_args.encoder_args.dim` |
| layers | `audio_config.num_hidden_layers` | `encoder_args.n_layers` |
| heads (MHA; kv heads = heads) | `audio_config.num_attention_heads` | `encoder_args.n_heads` (`n_kv_heads` equal) |
| head_dim (attention width = heads x head_dim, not d) | `audio_config.head_dim` | `encoder_args.head_dim` |
| SwiGLU width | `audio_config.intermediate_size` | `encoder_args.hidden_dim` |
| RoPE theta | `audio_config.rope_parameters.rope_theta` (class default 1e4 if absent!) | `encoder_args.rope_theta` |
| sliding window (keys per query, incl. itself) | `audio_config.sliding_window` | `encoder_args.sliding_window` |
| RMSNorm eps | `audio_config.rms_norm_eps` | `encoder_args.norm_eps` |
| mel bins | `audio_config.num_mel_bins` (+ `preprocessor_config.json` `feature_size`) | `encoder_args.audio_encoding_args.num_mel_bins` |
| clamp top | `preprocessor_config.json` `global_log_mel_max` | `encoder_args.audio_encoding_args.global_log_mel_max` |
| hop / window / rate | `preprocessor_config.json` `hop_length`, `n_fft`/`win_length`, `sampling_rate` | `audio_encoding_args.hop_length`, `window_size`, `sampling_rate` (+ `frame_rate` 12.5) |
| downsample factor | `downsample_factor` (top level) | `multimodal.whisper_model_args.downsample_args.downsample_factor` |
| adapter sizes | `linear_1`: d x downsample_factor -> `text_config.hidden_size`; `linear_2`: that -> that (read them from the tensor shapes) | same, from `audio_language_projection.{{0,2}}.weight` |
| adapter activation | `projector_hidden_act` ("gelu" = erf GELU) | none (GELU erf) |

The official `convert_config` reads only `dim, n_layers, hidden_dim, n_heads, head_dim, vocab_size, rope_theta`
from `encoder_args`: it does **not** carry `sliding_window` or `norm_eps` over (the HF class defaults 750 and 1e-5 are
used), so a Mistral-layout model with another window (like `realtime-window-hf`) would be converted wrongly by it.
`audio_config.activation_function` ("gelu") and `hidden_act` ("silu") are in config.json; the encoder MLP always
uses SiLU (SwiGLU) and `activation_function` is unused.

## What the model computes (read from modeling_voxtral_realtime.py, confirmed by the float64 re-implementation below)

* conv stem: `gelu(conv1(pad_left(mel, 2)))`, `gelu(conv2(pad_left(., 1), stride 2))`, both k=3, bias, GELU = erf
  (`nn.functional.gelu`); no right pad. T mel frames -> T/2 encoder frames (T even).
* no positional table; RoPE on q, k with positions 0, 1, 2, ... from the start of the padded stream.
* layer: `h += o_proj(attn(RMSNorm_1(h)))`, `h += down(silu(gate(x)) * up(x))` with x = RMSNorm_2(h); q bias, no k bias,
  v/o bias, down bias, no gate/up bias; scale head_dim^-0.5; causal, query i sees keys i-W+1 .. i (W = sliding_window).
* RMSNorm: `w * (x * rsqrt(mean(x^2) + eps))` in f32 (no bias, no `1 +`); names `self_attn_layer_norm`,
  `final_layer_norm` per layer, and the final norm is `audio_tower.norm` (Mistral `transformer.norm`).
* adapter: the encoder output [N, d] is reshaped to [N/4, 4d] (4 consecutive frames concatenated), then
  `linear_2(gelu_erf(linear_1(.)))`, no biases.

### Independent float64 re-implementation from the Mistral layout vs transformers (max|diff| / max|ref|)

`mistral_reference` in the script: float64, Mistral tensor names, interleaved RoPE on the unpermuted q/k, explicit
banded causal mask. Columns: transformers offline stages, then transformers' streamed outputs, each against it.

| model / input | conv | layer0 | encoder | adapter | streamed encoder | streamed adapter |
| --- | --- | --- | --- | --- | --- | --- |
{indep_rows}

## Front end and frame arithmetic

Offline padding (mistral-common `audio.py` @ bc022b91, `_get_streaming_pad` lines 560-579, `n_right_pad_tokens`
434-441, `n_left_pad_tokens` 443-451; cited in the script's header), n = input samples:

    left  = 32 * 1280 = 40960 zeros
    right = (1280 - n % 1280) % 1280 + 17 * 1280      (17 = 6 delay tokens + 1 + 10 buffer tokens)
    padded = left + n + right                           (a multiple of 1280)

Mel: `VoxtralRealtimeFeatureExtractor()(padded, sampling_rate=16000, center=True, return_tensors="pt")`: reflect pad
200 both sides, periodic Hann(400), `|stft|^2` with the last frame dropped, 128 Slaney filters, `log10(max(., 1e-10))`,
**`max(., 1.5 - 8.0)` (fixed clamp, `global_log_mel_max` 1.5; the whole-audio max is not used)**, `(x + 4) / 4`.
A silent frame gives -0.625. Frames: mel = padded / 160 (a multiple of 8), encoder = mel / 2, adapter = mel / 8 =
padded / 1280.

The last column of the table below is max|numpy float64 mel - transformers float32 mel| (the numpy restatement of the
formula above, `numpy_mel` in the script). The largest differences sit just above the clamp floor (e.g. -0.54 in
`in0p7s`: weak bins of a pure-tone frame, where float32 FFT rounding of the strong bins dominates); elsewhere they are
below 1e-5.

Signals (`Weights/tools/signals.py`, `Tests/VoxEncTestSupport/Signals.swift`): `in0p7s` = `tones(11213)`;
`in2p5s` = `speech_like(40001, seed 25)`; `in10s` = float32 `speech_like(160000, seed 100) + 0.5 * tones(160000)`
(one float32 rounding per sample); `in6s` = `speech_like(96017, seed 66)`.

**Caveat:** transformers' `VoxtralRealtimeProcessor` (offline) serializes the audio to a 16-bit WAV (mistral-common
`Audio.to_base64("wav")`, soundfile's default PCM_16) and decodes it back before padding. The fixtures skip that
(float32 audio is padded directly). For `in2p5s` the round trip changes the audio by up to {wav_audio:.2e} and the
adapter output by up to {wav_ada:.2e}.

## reference-realtime.safetensors (all F32, no batch dimension)

| input | samples | padded | mel frames | encoder frames | adapter vectors | streamed pieces | streamed vs offline: encoder (\\|max\\|) | adapter (\\|max\\|) | numpy mel |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
{rows}

`in0p7s`, `in2p5s`, `in10s` run through `realtime-tiny-hf`, `in6s` through `realtime-window-hf`, `speech`
(`Tests/Fixtures/audio/speech-16k.wav`, soundfile float32) through `realtime-tiny-hf`.

* `X.audio_head` [8], `X.audio_sum` [1]: check of the regenerated signal (first 8 samples; exact sum, rounded to f32).
* `X.samples` [1]: the padded sample count (as a float).
* `X.mel` [128, frames] (`in0p7s`, `in2p5s`): the `input_features` fed to the model.
* `X.conv` [enc, d]: conv stem output = input of layer 0 (forward pre-hook on layer 0; equal to the embedder's output).
  Not stored for `in10s` (size).
* `X.layer0` [enc, d]: output of encoder layer 0 (forward hook).
* `X.encoder` [enc, d]: `get_audio_features(input_features=mel).last_hidden_state` (after the final `norm`).
* `X.adapter` [adapter, text d]: `.pooler_output`.
* `X.stream_encoder`, `X.stream_adapter`: transformers' streaming recipe on the same mel: `get_audio_features` on
  frames [0, 312), then 8-frame pieces, passing `cache` (a `DynamicCache` of `DynamicSlidingWindowLayer`s) and
  `padding_cache` back with `use_cache=True`; outputs concatenated. Not bit-equal to offline (table above).

| tensor | shape |
| --- | --- |
{ref_rows}
"""


if __name__ == "__main__":
    main()
